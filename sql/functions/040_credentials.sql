-- Credentials: what a password or a security answer is checked against,
-- the attempts counted per login and per client address before they are
-- hashed, what a success does, the lost-password flow and the sessions'
-- epoch.

-- The limits, in a window of 15 minutes: past 5 attempts of a login or 30
-- of an address, an attempt needs a solved captcha; past 200 of an address
-- nothing is tried any more.  An attempt that failed counts, and so does
-- one being hashed; one that succeeded does not.
CREATE FUNCTION portal.attempts_window() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '15 minutes' $$;

CREATE FUNCTION portal.attempts(p_scope text, p_key text, p_kind text)
RETURNS bigint
LANGUAGE sql STABLE
AS $$
    SELECT count(*) FROM portal.auth_failures
     WHERE scope = p_scope AND key = p_key AND kind = p_kind
       AND at > now() - portal.attempts_window()
$$;


-- Reserves an attempt at a secret of kind p_kind for the key p_key (a
-- login, or an agent's) from the address p_addr, before it is hashed:
-- verdict "go" with the attempt's number (its rows of auth_failures, the
-- key's and the address's, are written), or "captcha_required",
-- "captcha_wrong", "captcha_expired", "blocked" (nothing is counted).
-- The key's and the address's counters are locked (advisory locks, the
-- key's first) so that attempts at once are counted one after another:
-- never more than the limit are hashed.  Citizens and agents both go
-- through here.
CREATE FUNCTION portal.attempt_begin(p_kind text, p_key text, p_addr text,
                                     p_captcha_id uuid,
                                     p_captcha_answer text)
RETURNS TABLE (verdict text, attempt bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    n  bigint;
    v  text;
BEGIN
    PERFORM pg_advisory_xact_lock(1, hashtext(p_kind || ' ' || p_key));
    PERFORM pg_advisory_xact_lock(2, hashtext(p_kind || ' ' || p_addr));

    n := portal.attempts('addr', p_addr, p_kind);

    IF n >= 200 THEN
        RETURN QUERY SELECT 'blocked', NULL::bigint;
        RETURN;
    END IF;

    IF n >= 30 OR portal.attempts('login', p_key, p_kind) >= 5 THEN
        IF p_captcha_id IS NULL THEN
            RETURN QUERY SELECT 'captcha_required', NULL::bigint;
            RETURN;
        END IF;

        v := portal.captcha_check(p_captcha_id, p_captcha_answer);

        IF v <> 'right' THEN
            RETURN QUERY SELECT 'captcha_' || v, NULL::bigint;
            RETURN;
        END IF;
    END IF;

    n := nextval('portal.auth_attempts');

    INSERT INTO portal.auth_failures (scope, key, kind, attempt)
    VALUES ('login', p_key, p_kind, n), ('addr', p_addr, p_kind, n);

    RETURN QUERY SELECT 'go', n;
END
$$;

-- Begins an attempt of a citizen (attempt_begin()'s verdicts).
-- Kinds: "password" (log in), "answer" (the security answer of a lost
-- password), "current" (the password of a logged-in citizen who changes
-- it; p_login is theirs), counted with "password".  One row even for an
-- unknown login (id NULL): it is hashed against a dummy all the same.
CREATE FUNCTION portal.credentials_begin(p_kind text, p_login text,
                                         p_addr text, p_captcha_id uuid,
                                         p_captcha_answer text)
RETURNS TABLE (verdict text, attempt bigint, id uuid, login text,
               hash text, temp_hash text, epoch integer, validated boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    k      text := CASE p_kind WHEN 'answer' THEN 'answer'
                               ELSE 'password' END;
    lkey   text := lower(p_login);
    a      portal.accounts;
    t      record;
BEGIN
    IF p_kind NOT IN ('password', 'answer', 'current') THEN
        RAISE EXCEPTION 'no such kind of credentials: %', p_kind;
    END IF;

    SELECT * INTO t FROM portal.attempt_begin(k, lkey, p_addr, p_captcha_id,
                                              p_captcha_answer);

    IF t.verdict <> 'go' THEN
        RETURN QUERY SELECT t.verdict, NULL::bigint, NULL::uuid, NULL::text,
                            NULL::text, NULL::text, NULL::integer,
                            NULL::boolean;
        RETURN;
    END IF;

    SELECT * INTO a FROM portal.accounts WHERE accounts.login = lkey;

    RETURN QUERY
        SELECT 'go', t.attempt, a.id, a.login,
               CASE k WHEN 'answer' THEN a.answer_hash
                      ELSE a.password_hash END,
               CASE WHEN p_kind = 'password'
                         AND a.temp_password_expires > now()
                    THEN a.temp_password_hash END,
               a.session_epoch, a.validated;
END
$$;

-- The secret was right: the attempt does not count, and the login's past
-- failures of that kind are forgotten.
CREATE FUNCTION portal.credentials_granted(p_attempt bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    DELETE FROM portal.auth_failures f
     USING portal.auth_failures mine
     WHERE mine.attempt = p_attempt AND mine.scope = 'login'
       AND f.scope = 'login' AND f.key = mine.key AND f.kind = mine.kind;

    DELETE FROM portal.auth_failures WHERE attempt = p_attempt;
$$;


-- A login with the password or the temporary one.  Either way the
-- temporary password dies: it opens one session only, and the owner who
-- logs in as usual shows that the mail it came in is not needed.
CREATE FUNCTION portal.login_succeeded(p_id uuid)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.accounts
       SET temp_password_hash = NULL, temp_password_expires = NULL
     WHERE id = p_id AND temp_password_hash IS NOT NULL
$$;


-- {"question"}: the account's, or for a login that does not exist a
-- plausible one, the same every time: p_decoy comes from a keyed MAC of
-- the login that only the module can compute, so the question tells
-- nobody whether an account exists.  60 questions per address in the
-- window, then "question_limit".
CREATE FUNCTION portal.password_question(p_login text, p_decoy bigint,
                                         p_addr text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(2, hashtext('question ' || p_addr));

    IF portal.attempts('addr', p_addr, 'question') >= 60 THEN
        RAISE EXCEPTION 'too many questions from %', p_addr
              USING CONSTRAINT = 'question_limit';
    END IF;

    INSERT INTO portal.auth_failures (scope, key, kind)
    VALUES ('addr', p_addr, 'question');

    RETURN json_build_object('question', coalesce(
        (SELECT q.label FROM portal.accounts a
           JOIN portal.security_questions q ON q.id = a.question_id
          WHERE a.login = lower(p_login)),
        (SELECT q.label FROM portal.security_questions q
          ORDER BY q.id
         OFFSET p_decoy % (SELECT count(*) FROM portal.security_questions)
          LIMIT 1)));
END
$$;

-- The right answer: a temporary password, valid 30 minutes, stored as a
-- keyed hash (it is random: no need for Argon2id); its clear text goes
-- only into the mail (blanked once sent).
CREATE FUNCTION portal.reset_grant(p_id uuid, p_temp_hash text,
                                   p_temp text, p_url text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.accounts;
BEGIN
    UPDATE portal.accounts
       SET temp_password_hash = p_temp_hash,
           temp_password_expires = now() + interval '30 minutes'
     WHERE id = p_id
    RETURNING * INTO a;

    PERFORM portal.queue_mail(a, 'Votre mot de passe temporaire',
        format(E'Vous avez demandé un nouveau mot de passe.\n\n'
                'Identifiant : %s\nMot de passe temporaire : %s\n\n'
                'Il est valable 30 minutes et pour une seule connexion,'
                ' qui vous demandera de choisir aussitôt un nouveau mot de'
                ' passe.\n\nSi vous n''êtes pas à l''origine de cette'
                ' demande, ignorez ce message : votre mot de passe actuel'
                ' reste valable, et ce mot de passe temporaire ne servira'
                ' plus dès votre prochaine connexion.', a.login, p_temp),
        p_url, true);
END
$$;

-- A new password: a new epoch ends every other session, the temporary
-- password dies; the citizen is told by mail.
CREATE FUNCTION portal.password_set(p_id uuid, p_hash text, p_url text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.accounts;
BEGIN
    UPDATE portal.accounts
       SET password_hash = p_hash, session_epoch = session_epoch + 1,
           temp_password_hash = NULL, temp_password_expires = NULL,
           updated_at = now()
     WHERE id = p_id
    RETURNING * INTO a;

    PERFORM portal.queue_mail(a, 'Votre mot de passe a été changé',
        E'Le mot de passe de votre compte citoyen vient d''être changé.'
         ' Toutes les autres sessions ouvertes ont été fermées.\n\n'
         'Si vous n''êtes pas à l''origine de ce changement, contactez'
         ' la Mairie au plus vite.',
        p_url);

    RETURN a.session_epoch;
END
$$;


-- A session cookie opens the account while its epoch is the account's:
-- one row, none once the session is over.  Every request of a citizen
-- runs it, alone or in the route's own statement (a route that checks
-- the session itself: "SELECT portal.f($1, ...), s.login FROM
-- portal.session_check($1, $2) s", where f runs on this row only, so not
-- at all for a session over).  In PL/pgSQL, its plan is kept by the
-- connection; a SQL function SECURITY DEFINER is never inlined, and was
-- parsed and planned again on every call, five times the cost.
CREATE FUNCTION portal.session_check(p_id uuid, p_epoch integer)
RETURNS TABLE (login text, validated boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT a.login, a.validated FROM portal.accounts a
         WHERE a.id = p_id AND a.session_epoch = p_epoch;
END
$$;

-- Log out: the epoch moves on, so that no copy of the cookie opens the
-- account any more.
CREATE FUNCTION portal.session_end(p_id uuid, p_epoch integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.accounts SET session_epoch = session_epoch + 1
     WHERE id = p_id AND session_epoch = p_epoch
$$;
