-- Citizen accounts: the holder, the household's members, the security
-- question, sessions' epoch, captchas, failed logins, the mail outbox and
-- the account-opening documents.

CREATE TABLE portal.security_questions (
    id     smallint PRIMARY KEY,
    label  text NOT NULL
);

INSERT INTO portal.security_questions (id, label) VALUES
    (1, 'Quel est le nom de votre premier animal de compagnie ?'),
    (2, 'Dans quelle ville êtes-vous né(e) ?'),
    (3, 'Quel est le prénom de votre meilleur ami d''enfance ?'),
    (4, 'Quel est le nom de votre école primaire ?'),
    (5, 'Quel est votre plat préféré ?'),
    (6, 'Dans quelle rue avez-vous grandi ?'),
    (7, 'Quelle est la marque de votre première voiture ?'),
    (8, 'Quel métier rêviez-vous de faire enfant ?');


CREATE TABLE portal.accounts (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    login                  text NOT NULL UNIQUE,
    civility               text NOT NULL CHECK (civility IN ('M', 'Mme')),
    first_name             text NOT NULL CHECK (length(first_name) <= 100),
    last_name              text NOT NULL CHECK (length(last_name) <= 100),
    birth_date             date NOT NULL,
    email                  text NOT NULL CHECK (length(email) <= 254),
    phone                  text CHECK (length(phone) <= 30),
    address_line           text NOT NULL CHECK (length(address_line) <= 200),
    postcode               text NOT NULL CHECK (postcode ~ '^[0-9]{5}$'),
    city                   text NOT NULL CHECK (length(city) <= 100),
    contact_mode           text NOT NULL
                           CHECK (contact_mode IN ('email', 'phone', 'post')),
    password_hash          text NOT NULL,
    question_id            smallint NOT NULL
                           REFERENCES portal.security_questions,
    answer_hash            text NOT NULL,
    -- the temporary password of the recovery flow: hashed, single use
    temp_password_hash     text,
    temp_password_expires  timestamptz,
    validated              boolean NOT NULL DEFAULT false,
    validated_at           timestamptz,
    -- bumped by a password change or reset: older cookies die
    session_epoch          integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_phone_contact
        CHECK (contact_mode <> 'phone' OR phone IS NOT NULL)
);

CREATE INDEX accounts_waiting ON portal.accounts (created_at)
    WHERE NOT validated;


-- jean.dupont, jean.dupont2, ...: the row lock of ON CONFLICT DO UPDATE
-- orders concurrent sign-ups of homonyms.
CREATE TABLE portal.login_counters (
    base  text PRIMARY KEY,
    n     integer NOT NULL
);


CREATE TABLE portal.members (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    uuid NOT NULL REFERENCES portal.accounts ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('adult', 'child')),
    civility      text CHECK (civility IN ('M', 'Mme')),
    first_name    text NOT NULL CHECK (length(first_name) <= 100),
    last_name     text NOT NULL CHECK (length(last_name) <= 100),
    birth_date    date NOT NULL,
    email         text CHECK (length(email) <= 254),
    phone         text CHECK (length(phone) <= 30),
    address_line  text NOT NULL CHECK (length(address_line) <= 200),
    postcode      text NOT NULL CHECK (postcode ~ '^[0-9]{5}$'),
    city          text NOT NULL CHECK (length(city) <= 100),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX members_account ON portal.members (account_id);


CREATE TABLE portal.captchas (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    answer      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '10 minutes',
    used_at     timestamptz
);

-- One atomic statement: the captcha is spent by its first try, right or
-- wrong, so that it can be neither replayed nor raced.
CREATE FUNCTION portal.captcha_check(p_id uuid, p_answer text)
RETURNS boolean
LANGUAGE sql
AS $$
    WITH spent AS (
        UPDATE portal.captchas
           SET used_at = now()
         WHERE id = p_id AND used_at IS NULL AND expires_at > now()
     RETURNING answer
    )
    SELECT coalesce((SELECT answer = upper(p_answer) FROM spent), false)
$$;


-- Failed logins and wrong answers, per login and per client address.
CREATE TABLE portal.auth_failures (
    scope  text NOT NULL CHECK (scope IN ('login', 'addr')),
    key    text NOT NULL,
    kind   text NOT NULL CHECK (kind IN ('password', 'answer')),
    at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX auth_failures_key ON portal.auth_failures (scope, key, at);

-- 5 failures of a login, or 30 from one address, in 15 minutes: 429.
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

CREATE FUNCTION portal.auth_failed(p_login text, p_addr text, p_kind text)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO portal.auth_failures (scope, key, kind)
    VALUES ('login', lower(p_login), p_kind), ('addr', p_addr, p_kind)
$$;


-- Every mail, queued in the transaction of the change that caused it.
CREATE TABLE portal.outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid REFERENCES portal.accounts ON DELETE SET NULL,
    recipient        text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_error       text,
    -- the body holds a temporary password: blanked once delivered
    sensitive        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);

CREATE INDEX outbox_due ON portal.outbox (next_attempt_at)
    WHERE state = 'pending';

-- A worker leases due mail (SKIP LOCKED: workers and hosts share the
-- outbox); a lease that is not settled in 2 minutes is taken again.
CREATE FUNCTION portal.outbox_take(p_limit integer)
RETURNS TABLE (id bigint, recipient text, subject text, body text,
               created_at timestamptz)
LANGUAGE sql
AS $$
    UPDATE portal.outbox o
       SET lease_until = now() + interval '2 minutes',
           attempts = o.attempts + 1
     WHERE o.id IN (SELECT d.id FROM portal.outbox d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                       AND (d.lease_until IS NULL OR d.lease_until < now())
                     ORDER BY d.id
                     LIMIT p_limit
                       FOR UPDATE SKIP LOCKED)
 RETURNING o.id, o.recipient, o.subject, o.body, o.created_at
$$;

-- Settles a lease: sent, or retried later with back-off, or failed for
-- good after 8 attempts (shown to agents).
CREATE FUNCTION portal.outbox_settle(p_id bigint, p_error text)
RETURNS void
LANGUAGE sql
AS $$
    UPDATE portal.outbox
       SET state = CASE WHEN p_error IS NULL THEN 'sent'
                        WHEN attempts >= 8 THEN 'failed'
                        ELSE 'pending' END,
           sent_at = CASE WHEN p_error IS NULL THEN now() END,
           body = CASE WHEN p_error IS NULL AND sensitive
                       THEN '(message distribué, contenu effacé)'
                       ELSE body END,
           last_error = p_error,
           lease_until = NULL,
           next_attempt_at = now() + least(interval '1 hour',
                             interval '30 seconds' * power(2, attempts - 1))
     WHERE id = p_id
$$;


-- Supporting documents: of the account (opening) or, later, of a request.
CREATE TABLE portal.documents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    uuid REFERENCES portal.accounts ON DELETE CASCADE,
    kind          text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    -- what the citizen called it, shown back, never used as a path
    filename      text NOT NULL CHECK (length(filename) <= 255),
    content_type  text NOT NULL
                  CHECK (content_type IN ('application/pdf', 'image/jpeg',
                                          'image/png')),
    size          integer NOT NULL CHECK (size > 0),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    content       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_account ON portal.documents (account_id, created_at);


GRANT SELECT ON portal.security_questions TO portal;
GRANT SELECT, INSERT, UPDATE ON portal.accounts, portal.members,
    portal.captchas, portal.outbox, portal.login_counters TO portal;
GRANT DELETE ON portal.captchas TO portal;
GRANT SELECT, INSERT, DELETE ON portal.auth_failures TO portal;
GRANT SELECT, INSERT ON portal.documents TO portal;
GRANT USAGE ON SCHEMA portal TO portal;


-- The mail footer and greeting shared by every message.
CREATE FUNCTION portal.mail_text(p_account portal.accounts, p_text text,
                                 p_url text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'Bonjour %s %s %s,\n\n%s\n\n%s'
                  'Ce message est envoyé automatiquement : merci de ne pas'
                  ' y répondre.\nLa Mairie - Mon Compte Citoyen\n',
                  CASE p_account.civility WHEN 'M' THEN 'Monsieur'
                                          ELSE 'Madame' END,
                  p_account.first_name, p_account.last_name, p_text,
                  CASE WHEN coalesce(p_url, '') <> ''
                       THEN format(E'Portail : %s\n\n', p_url) ELSE '' END)
$$;

CREATE FUNCTION portal.queue_mail(p_account portal.accounts, p_subject text,
                                  p_text text, p_url text,
                                  p_sensitive boolean DEFAULT false)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO portal.outbox (account_id, recipient, subject, body,
                               sensitive)
    VALUES (p_account.id, p_account.email, p_subject,
            portal.mail_text(p_account, p_text, p_url), p_sensitive)
$$;


CREATE FUNCTION portal.member_json(m portal.members)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', m.id, 'kind', m.kind, 'civility', m.civility,
        'first_name', m.first_name, 'last_name', m.last_name,
        'name', m.first_name || ' ' || m.last_name,
        'birth_date', m.birth_date, 'email', m.email, 'phone', m.phone,
        'address', json_build_object('line', m.address_line,
                                     'postcode', m.postcode,
                                     'city', m.city),
        'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

CREATE FUNCTION portal.me(p_id uuid)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', a.id, 'login', a.login, 'validated', a.validated,
        'validated_at', a.validated_at, 'contact_mode', a.contact_mode,
        'security_question', json_build_object('id', q.id,
                                               'label', q.label),
        'holder', json_build_object(
            'civility', a.civility, 'first_name', a.first_name,
            'last_name', a.last_name, 'birth_date', a.birth_date,
            'email', a.email, 'phone', a.phone,
            'address', json_build_object('line', a.address_line,
                                         'postcode', a.postcode,
                                         'city', a.city)),
        'members', coalesce((SELECT json_agg(portal.member_json(m)
                                             ORDER BY m.kind, m.birth_date,
                                                      m.created_at)
                               FROM portal.members m
                              WHERE m.account_id = a.id), '[]'::json),
        'created_at', a.created_at, 'updated_at', a.updated_at)
      FROM portal.accounts a
      JOIN portal.security_questions q ON q.id = a.question_id
     WHERE a.id = p_id
$$;


-- Seed flow A.  The holder and members come validated by the module; the
-- login is prénom.nom, numbered for homonyms; the mail that gives it is
-- queued in the same transaction.
CREATE FUNCTION portal.create_account(p_holder jsonb, p_base text,
                                      p_password_hash text,
                                      p_question smallint,
                                      p_answer_hash text, p_contact text,
                                      p_members jsonb, p_url text)
RETURNS TABLE (id uuid, login text)
LANGUAGE plpgsql
AS $$
DECLARE
    n  integer;
    a  portal.accounts;
BEGIN
    INSERT INTO portal.login_counters AS c (base, n) VALUES (p_base, 1)
    ON CONFLICT (base) DO UPDATE SET n = c.n + 1
    RETURNING c.n INTO n;

    INSERT INTO portal.accounts (login, civility, first_name, last_name,
                                 birth_date, email, phone, address_line,
                                 postcode, city, contact_mode, password_hash,
                                 question_id, answer_hash)
    VALUES (CASE WHEN n = 1 THEN p_base ELSE p_base || n END,
            p_holder->>'civility', p_holder->>'first_name',
            p_holder->>'last_name', (p_holder->>'birth_date')::date,
            p_holder->>'email', nullif(p_holder->>'phone', ''),
            p_holder->'address'->>'line', p_holder->'address'->>'postcode',
            p_holder->'address'->>'city', p_contact, p_password_hash,
            p_question, p_answer_hash)
    RETURNING * INTO a;

    PERFORM portal.member_add(a.id, m)
       FROM jsonb_array_elements(coalesce(p_members, '[]'::jsonb)) m;

    PERFORM portal.queue_mail(a, 'Votre identifiant Mon Compte Citoyen',
        format(E'Votre compte citoyen est créé.\n\n'
                'Votre identifiant : %s\n\n'
                'Il vous sera demandé, avec le mot de passe que vous avez'
                ' choisi, pour vous connecter au portail.\n\n'
                'Les services de la mairie vont valider votre compte.'
                ' D''ici là, vos démarches en ligne sont déjà possibles ;'
                ' les modifications de votre compte le seront après la'
                ' validation.', a.login),
        p_url);

    RETURN QUERY SELECT a.id, a.login;
END
$$;


-- Fields left out are those of the holder (address, last name).
CREATE FUNCTION portal.member_add(p_account uuid, p jsonb)
RETURNS json
LANGUAGE sql
AS $$
    INSERT INTO portal.members AS m (account_id, kind, civility, first_name,
                                     last_name, birth_date, email, phone,
                                     address_line, postcode, city)
    SELECT a.id, p->>'kind', nullif(p->>'civility', ''), p->>'first_name',
           coalesce(nullif(p->>'last_name', ''), a.last_name),
           (p->>'birth_date')::date, nullif(p->>'email', ''),
           nullif(p->>'phone', ''),
           coalesce(p->'address'->>'line', a.address_line),
           coalesce(p->'address'->>'postcode', a.postcode),
           coalesce(p->'address'->>'city', a.city)
      FROM portal.accounts a
     WHERE a.id = p_account
    RETURNING portal.member_json(m)
$$;

CREATE FUNCTION portal.member_get(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT portal.member_json(m) FROM portal.members m
     WHERE m.id = p_id AND m.account_id = p_account
$$;

-- A key present replaces the value ("" clears an optional one); a key
-- absent keeps it.
CREATE FUNCTION portal.member_update(p_account uuid, p_id uuid, p jsonb)
RETURNS json
LANGUAGE sql
AS $$
    UPDATE portal.members m
       SET kind = coalesce(p->>'kind', m.kind),
           civility = CASE WHEN p ? 'civility'
                           THEN nullif(p->>'civility', '')
                           ELSE m.civility END,
           first_name = coalesce(p->>'first_name', m.first_name),
           last_name = coalesce(p->>'last_name', m.last_name),
           birth_date = coalesce((p->>'birth_date')::date, m.birth_date),
           email = CASE WHEN p ? 'email' THEN nullif(p->>'email', '')
                        ELSE m.email END,
           phone = CASE WHEN p ? 'phone' THEN nullif(p->>'phone', '')
                        ELSE m.phone END,
           address_line = coalesce(p->'address'->>'line', m.address_line),
           postcode = coalesce(p->'address'->>'postcode', m.postcode),
           city = coalesce(p->'address'->>'city', m.city),
           updated_at = now()
     WHERE m.id = p_id AND m.account_id = p_account
    RETURNING portal.member_json(m)
$$;

CREATE FUNCTION portal.me_update(p_id uuid, p jsonb)
RETURNS json
LANGUAGE sql
AS $$
    UPDATE portal.accounts a
       SET civility = coalesce(p->'holder'->>'civility', a.civility),
           first_name = coalesce(p->'holder'->>'first_name', a.first_name),
           last_name = coalesce(p->'holder'->>'last_name', a.last_name),
           birth_date = coalesce((p->'holder'->>'birth_date')::date,
                                 a.birth_date),
           email = coalesce(p->'holder'->>'email', a.email),
           phone = CASE WHEN p->'holder' ? 'phone'
                        THEN nullif(p->'holder'->>'phone', '')
                        ELSE a.phone END,
           address_line = coalesce(p->'holder'->'address'->>'line',
                                   a.address_line),
           postcode = coalesce(p->'holder'->'address'->>'postcode',
                               a.postcode),
           city = coalesce(p->'holder'->'address'->>'city', a.city),
           contact_mode = coalesce(p->>'contact_mode', a.contact_mode),
           updated_at = now()
     WHERE a.id = p_id;

    SELECT portal.me(p_id);
$$;


-- The agents' API calls this; tests may call it directly.
CREATE FUNCTION portal.validate_account(p_id uuid, p_url text DEFAULT '')
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
    a  portal.accounts;
BEGIN
    UPDATE portal.accounts
       SET validated = true, validated_at = now(), updated_at = now()
     WHERE id = p_id AND NOT validated
    RETURNING * INTO a;

    IF NOT FOUND THEN
        RETURN false;
    END IF;

    PERFORM portal.queue_mail(a, 'Votre compte citoyen est validé',
        format(E'Les services de la mairie ont validé votre compte'
                ' (identifiant : %s).\n\nVous pouvez désormais le'
                ' modifier et y déclarer les membres de votre foyer.',
               a.login),
        p_url);

    RETURN true;
END
$$;


-- Log in: blocked by too many failures?  Then what to check the password
-- against.  One row even for an unknown login.
CREATE FUNCTION portal.login_begin(p_login text, p_addr text)
RETURNS TABLE (blocked boolean, id uuid, login text, password_hash text,
               temp_hash text, epoch integer, validated boolean)
LANGUAGE sql STABLE
AS $$
    SELECT portal.auth_blocked(p_login, p_addr, 'password'),
           a.id, a.login, a.password_hash,
           CASE WHEN a.temp_password_expires > now()
                THEN a.temp_password_hash END,
           a.session_epoch, a.validated
      FROM (SELECT 1) one
      LEFT JOIN portal.accounts a ON a.login = lower(p_login)
$$;

-- A temporary password opens one session only.
CREATE FUNCTION portal.login_succeeded(p_id uuid, p_temp boolean)
RETURNS void
LANGUAGE sql
AS $$
    UPDATE portal.accounts
       SET temp_password_hash = NULL, temp_password_expires = NULL
     WHERE id = p_id AND p_temp;

    DELETE FROM portal.auth_failures
     WHERE scope = 'login' AND kind = 'password'
       AND key = (SELECT login FROM portal.accounts WHERE id = p_id);
$$;


-- The same plausible question, every time, for a login that does not
-- exist: the question does not tell whether an account does.
CREATE FUNCTION portal.password_question(p_login text)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(
        (SELECT q.label FROM portal.accounts a
           JOIN portal.security_questions q ON q.id = a.question_id
          WHERE a.login = lower(p_login)),
        (SELECT q.label FROM portal.security_questions q
          ORDER BY q.id
         OFFSET abs(hashtext('portal question ' || lower(p_login)))
                % (SELECT count(*) FROM portal.security_questions)
          LIMIT 1))
$$;

CREATE FUNCTION portal.reset_begin(p_login text, p_addr text)
RETURNS TABLE (blocked boolean, id uuid, answer_hash text)
LANGUAGE sql STABLE
AS $$
    SELECT portal.auth_blocked(p_login, p_addr, 'answer'),
           a.id, a.answer_hash
      FROM (SELECT 1) one
      LEFT JOIN portal.accounts a ON a.login = lower(p_login)
$$;

-- The right answer: a temporary password, valid 30 minutes, stored
-- hashed; its clear text goes only into the mail (blanked once sent).
CREATE FUNCTION portal.reset_grant(p_id uuid, p_temp_hash text,
                                   p_temp text, p_url text)
RETURNS void
LANGUAGE plpgsql
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
LANGUAGE plpgsql
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


-- Everything the portal holds on an account (GET me/export).
CREATE FUNCTION portal.export(p_id uuid)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'generated_at', now(),
        'account', portal.me(p_id),
        'documents', coalesce((
            SELECT json_agg(json_build_object(
                       'id', d.id, 'kind', d.kind, 'filename', d.filename,
                       'content_type', d.content_type, 'size', d.size,
                       'sha256', encode(d.sha256, 'hex'),
                       'created_at', d.created_at)
                   ORDER BY d.created_at)
              FROM portal.documents d WHERE d.account_id = p_id),
            '[]'::json),
        'mails', coalesce((
            SELECT json_agg(json_build_object(
                       'subject', o.subject,
                       'body', CASE WHEN o.sensitive
                                    THEN '(contenu confidentiel)'
                                    ELSE o.body END,
                       'state', o.state, 'created_at', o.created_at,
                       'sent_at', o.sent_at)
                   ORDER BY o.id)
              FROM portal.outbox o WHERE o.account_id = p_id),
            '[]'::json),
        'failed_logins', (
            SELECT count(*) FROM portal.auth_failures f, portal.accounts a
             WHERE a.id = p_id AND f.scope = 'login' AND f.key = a.login))
$$;


-- Housekeeping: spent captchas, old failures, delivered mail kept 90 days.
CREATE FUNCTION portal.purge()
RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM portal.captchas WHERE expires_at < now() - interval '1 day';
    DELETE FROM portal.auth_failures WHERE at < now() - interval '1 day';
$$;
