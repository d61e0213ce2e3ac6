-- Citizen accounts: the security questions, the creation (seed flow A),
-- the "Compte" tab (the holder, the household's members), the town hall's
-- validation and the export of everything held on an account.

CREATE FUNCTION portal.security_questions()
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT coalesce(json_agg(json_build_object('id', id, 'label', label)
                             ORDER BY id), '[]')
      FROM portal.security_questions
$$;


CREATE FUNCTION portal.me(p_id uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
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


-- Fields left out are those of the holder (address, last name).  A
-- household has 20 members at most ("members_limit"), at sign-up as
-- later: the account's row is locked, so that additions at once count
-- one after another.
CREATE FUNCTION portal.member_add(p_account uuid, p jsonb)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.accounts;
    m  portal.members;
BEGIN
    SELECT * INTO a FROM portal.accounts WHERE id = p_account FOR UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF (SELECT count(*) FROM portal.members
         WHERE account_id = p_account) >= 20
    THEN
        RAISE EXCEPTION 'the household of % is full', p_account
              USING CONSTRAINT = 'members_limit';
    END IF;

    INSERT INTO portal.members (account_id, kind, civility, first_name,
                                last_name, birth_date, email, phone,
                                address_line, postcode, city)
    VALUES (a.id, p->>'kind', nullif(p->>'civility', ''), p->>'first_name',
            coalesce(nullif(p->>'last_name', ''), a.last_name),
            (p->>'birth_date')::date, nullif(p->>'email', ''),
            nullif(p->>'phone', ''),
            coalesce(p->'address'->>'line', a.address_line),
            coalesce(p->'address'->>'postcode', a.postcode),
            coalesce(p->'address'->>'city', a.city))
    RETURNING * INTO m;

    RETURN portal.member_json(m);
END
$$;


-- Seed flow A.  The holder and members come checked by the module; the
-- login is prénom.nom, numbered for homonyms under the row lock of their
-- counter; the mail that gives it is queued in the same transaction.
CREATE FUNCTION portal.account_create(p_holder jsonb, p_base text,
                                      p_password_hash text,
                                      p_question smallint,
                                      p_answer_hash text, p_contact text,
                                      p_members jsonb, p_url text)
RETURNS TABLE (login text, account json)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
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
                'Les services de la Mairie vont valider votre compte.'
                ' D''ici là, vos démarches en ligne sont déjà possibles ;'
                ' les modifications de votre compte le seront après la'
                ' validation.', a.login),
        p_url);

    RETURN QUERY SELECT a.login, json_build_object('id', a.id,
                                                   'login', a.login,
                                                   'validated', false);
END
$$;


CREATE FUNCTION portal.member_get(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.member_json(m) FROM portal.members m
     WHERE m.id = p_id AND m.account_id = p_account
$$;

-- A key present replaces the value ("" clears an optional one); a key
-- absent keeps it.
CREATE FUNCTION portal.member_update(p_account uuid, p_id uuid, p jsonb)
RETURNS json
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
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

-- Whether a new e-mail address is another one than the account's: a
-- change of address needs the password (it is where temporary passwords
-- go).
CREATE FUNCTION portal.me_email_changes(p_id uuid, p_email text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT coalesce((SELECT lower(email) <> lower(p_email)
                       FROM portal.accounts WHERE id = p_id), false)
$$;

-- A key present replaces the value; a key absent keeps it.  A new e-mail
-- address is told to the old one.
CREATE FUNCTION portal.me_update(p_id uuid, p jsonb, p_url text DEFAULT '')
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    old  portal.accounts;
    acc  portal.accounts;
BEGIN
    SELECT * INTO old FROM portal.accounts WHERE id = p_id FOR UPDATE;

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
     WHERE a.id = p_id
    RETURNING * INTO acc;

    IF lower(acc.email) <> lower(old.email) THEN
        PERFORM portal.queue_mail(old,
            'Votre adresse électronique a été changée',
            format(E'L''adresse électronique de votre compte citoyen'
                    ' (identifiant : %s) vient d''être changée : les'
                    ' messages de la Mairie iront désormais à la nouvelle'
                    ' adresse, que nous ne rappelons pas ici.\n\n'
                    'Si vous n''êtes pas à l''origine de ce changement,'
                    ' contactez la Mairie au plus vite.', old.login),
            p_url);
    END IF;

    RETURN portal.me(p_id);
END
$$;


-- Tests and operators call this (psql, as the owner); the agents' API
-- validates with agent_account_validate() (110), audited.  Not granted
-- to portal (900_grants.sql).
CREATE FUNCTION portal.validate_account(p_id uuid, p_url text DEFAULT '')
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
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
        format(E'Les services de la Mairie ont validé votre compte'
                ' (identifiant : %s).\n\nVous pouvez désormais le'
                ' modifier et y déclarer les membres de votre foyer.',
               a.login),
        p_url);

    RETURN true;
END
$$;


-- Everything the portal holds on an account (GET me/export).
CREATE FUNCTION portal.export(p_id uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
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
              FROM portal.documents d
             WHERE d.account_id = p_id AND d.state = 'complete'),
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


-- A member leaves the household; NULL when there is no such member of
-- this household.
CREATE FUNCTION portal.member_remove(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    DELETE FROM portal.members m
     WHERE m.id = p_id AND m.account_id = p_account
    RETURNING portal.member_json(m)
$$;
