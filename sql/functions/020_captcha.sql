-- Captchas: a random answer, drawn and spoken by the module, spent by its
-- first try.

CREATE FUNCTION portal.captcha_new(p_answer text)
RETURNS uuid
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    INSERT INTO portal.captchas (answer) VALUES (p_answer) RETURNING id
$$;

-- The answer to draw (p_kind "png") or to speak ("wav"), while the
-- captcha is neither spent nor expired (NULL otherwise).  Each is given a
-- few times only: the same picture or sound again and again is of no use
-- to a person, and a sound costs a pool thread 80 ms ("fetch_limit").
CREATE FUNCTION portal.captcha_answer(p_id uuid, p_kind text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    c  portal.captchas;
BEGIN
    UPDATE portal.captchas
       SET png_fetches = png_fetches + (p_kind = 'png')::integer,
           wav_fetches = wav_fetches + (p_kind = 'wav')::integer
     WHERE id = p_id AND used_at IS NULL AND expires_at > now()
    RETURNING * INTO c;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF (p_kind = 'png' AND c.png_fetches > 5)
       OR (p_kind = 'wav' AND c.wav_fetches > 3)
    THEN
        RAISE EXCEPTION 'captcha % fetched too often', p_id
              USING CONSTRAINT = 'fetch_limit';
    END IF;

    RETURN c.answer;
END
$$;

-- One atomic statement: the captcha is spent by its first try, right or
-- wrong, so that it can be neither replayed nor raced.  "right", "wrong",
-- "expired" (the page left it too long), or "unknown" (spent already, or
-- no such captcha).
CREATE FUNCTION portal.captcha_check(p_id uuid, p_answer text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    c  portal.captchas;
BEGIN
    UPDATE portal.captchas
       SET used_at = now()
     WHERE id = p_id AND used_at IS NULL
    RETURNING * INTO c;

    IF NOT FOUND THEN
        RETURN 'unknown';
    END IF;

    IF c.expires_at <= now() THEN
        RETURN 'expired';
    END IF;

    RETURN CASE WHEN c.answer = upper(p_answer) THEN 'right' ELSE 'wrong' END;
END
$$;
