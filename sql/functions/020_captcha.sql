-- Captchas: a random answer, drawn and spoken by the module, spent by its
-- first try.

CREATE FUNCTION portal.captcha_new(p_answer text)
RETURNS uuid
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    INSERT INTO portal.captchas (answer) VALUES (p_answer) RETURNING id
$$;

-- The answer to draw or to speak, while the captcha is neither spent nor
-- expired.
CREATE FUNCTION portal.captcha_answer(p_id uuid)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT answer FROM portal.captchas
     WHERE id = p_id AND used_at IS NULL AND expires_at > now()
$$;

-- One atomic statement: the captcha is spent by its first try, right or
-- wrong, so that it can be neither replayed nor raced.
CREATE FUNCTION portal.captcha_check(p_id uuid, p_answer text)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    WITH spent AS (
        UPDATE portal.captchas
           SET used_at = now()
         WHERE id = p_id AND used_at IS NULL AND expires_at > now()
     RETURNING answer
    )
    SELECT coalesce((SELECT answer = upper(p_answer) FROM spent), false)
$$;
