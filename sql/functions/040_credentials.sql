-- Credentials: what a password or a security answer is checked against,
-- the failures counted per login and per client address, what a success
-- does, the lost-password flow and the sessions' epoch.

-- 5 failures of a login, or 30 from one address, in 15 minutes.
CREATE FUNCTION portal.auth_blocked(p_login text, p_addr text, p_kind text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT (SELECT count(*) FROM portal.auth_failures
             WHERE scope = 'login' AND key = lower(p_login) AND kind = p_kind
               AND at > now() - interval '15 minutes') >= 5
        OR (SELECT count(*) FROM portal.auth_failures
             WHERE scope = 'addr' AND key = p_addr AND kind = p_kind
               AND at > now() - interval '15 minutes') >= 30
$$;

-- What to check a secret against, and whether the login or the address
-- is blocked.  One row even for an unknown login (id NULL): it is hashed
-- against a dummy all the same.  Kinds: "password" (log in), "answer"
-- (the security answer of a lost password), "current" (the password of a
-- logged-in citizen who changes it; p_login is theirs).
CREATE FUNCTION portal.credentials_begin(p_kind text, p_login text,
                                         p_addr text)
RETURNS TABLE (blocked boolean, id uuid, login text, hash text,
               temp_hash text, epoch integer, validated boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT CASE p_kind WHEN 'current' THEN false
                       ELSE portal.auth_blocked(p_login, p_addr, p_kind) END,
           a.id, a.login,
           CASE p_kind WHEN 'answer' THEN a.answer_hash
                       ELSE a.password_hash END,
           CASE WHEN p_kind = 'password'
                     AND a.temp_password_expires > now()
                THEN a.temp_password_hash END,
           a.session_epoch, a.validated
      FROM (SELECT 1) one
      LEFT JOIN portal.accounts a ON a.login = lower(p_login)
     WHERE p_kind IN ('password', 'answer', 'current')
$$;

-- A wrong password or answer, counted for its login and the address.
CREATE FUNCTION portal.credentials_failed(p_kind text, p_login text,
                                          p_addr text)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    INSERT INTO portal.auth_failures (scope, key, kind)
    SELECT s.scope, s.key,
           CASE p_kind WHEN 'current' THEN 'password' ELSE p_kind END
      FROM (VALUES ('login', lower(p_login)), ('addr', p_addr)) s (scope, key)
$$;


-- A temporary password opens one session only; a success forgets the
-- login's failures.
CREATE FUNCTION portal.login_succeeded(p_id uuid, p_temp boolean)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.accounts
       SET temp_password_hash = NULL, temp_password_expires = NULL
     WHERE id = p_id AND p_temp;

    DELETE FROM portal.auth_failures
     WHERE scope = 'login' AND kind = 'password'
       AND key = (SELECT login FROM portal.accounts WHERE id = p_id);
$$;


-- {"question"}: the account's, or for a login that does not exist the
-- same plausible one every time: the question does not tell whether an
-- account does.
CREATE FUNCTION portal.password_question(p_login text)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT json_build_object('question', coalesce(
        (SELECT q.label FROM portal.accounts a
           JOIN portal.security_questions q ON q.id = a.question_id
          WHERE a.login = lower(p_login)),
        (SELECT q.label FROM portal.security_questions q
          ORDER BY q.id
         OFFSET abs(hashtext('portal question ' || lower(p_login)))
                % (SELECT count(*) FROM portal.security_questions)
          LIMIT 1)))
$$;

-- The right answer: a temporary password, valid 30 minutes, stored
-- hashed; its clear text goes only into the mail (blanked once sent).
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

    DELETE FROM portal.auth_failures
     WHERE scope = 'login' AND kind = 'answer' AND key = a.login;

    PERFORM portal.queue_mail(a, 'Votre mot de passe temporaire',
        format(E'Vous avez demandé un nouveau mot de passe.\n\n'
                'Identifiant : %s\nMot de passe temporaire : %s\n\n'
                'Il est valable 30 minutes et pour une seule connexion,'
                ' qui vous demandera de choisir aussitôt un nouveau mot de'
                ' passe.\n\nSi vous n''êtes pas à l''origine de cette'
                ' demande, ignorez ce message : votre mot de passe actuel'
                ' reste valable.', a.login, p_temp),
        p_url, true);
END
$$;

-- A new password: a new epoch ends every other session; the citizen is
-- told by mail.
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
         ' la mairie au plus vite.',
        p_url);

    RETURN a.session_epoch;
END
$$;


-- A session cookie opens the account while its epoch is the account's.
CREATE FUNCTION portal.session_check(p_id uuid, p_epoch integer)
RETURNS TABLE (login text, validated boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT login, validated FROM portal.accounts
     WHERE id = p_id AND session_epoch = p_epoch
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
