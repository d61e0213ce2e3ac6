-- Requests ("demandes"): made with an account or without one, changed,
-- submitted, deleted, followed (GET me/requests, me/messages), printed
-- (the data of the PDF), and their supporting documents streamed in
-- chunks.  Each function is one HTTP request: one round trip, one
-- transaction, whose change, history row and mail commit together.
--
-- Contract: the functions the module calls, their JSON, what they raise.
-- Refusals are RAISE with SQLSTATE P0001 and a CONSTRAINT name, mapped by
-- the route (HTTP status in brackets); NULL is the route's 404.  Times are
-- ISO 8601 with offset, dates YYYY-MM-DD.  p_url is portal_public_url,
-- written in mails.
--
-- The request's JSON ("request" below):
--   {id, reference, procedure: {slug, title, theme: {slug, title}},
--    state, state_label, state_meaning, contact_mode,
--    member: {id, name} | null, applicant: {...} | null (without account),
--    data: {...}, created_at, updated_at, submitted_at | null,
--    history: [{at, from | null, to, actor, motive | null}],
--    documents: [document], editable, pdf}
-- editable: brouillon, en_attente, incomplet (PUT, documents); pdf: the
-- six others (GET requests/{id}.pdf).
-- A document's JSON: {id, kind, label, filename, content_type, size,
-- sha256 (hex), created_at}; complete documents only.
--
-- Before calling, the module checks the body against the procedure's
-- definition (types, options, bounds, lengths, required fields) and
-- answers its 422 itself.  A required field that has a "prefill" may be
-- left out: it is filled here from the holder (or the applicant) or the
-- member, and refused with request_required only when that source is
-- empty too.  A brouillon is saved incomplete: its required fields (and
-- member) may be missing until the submission, which refuses it then
-- with request_required; en_attente and incomplet stay complete.  Here, data keeps only the definition's fields with a
-- scalar value (other keys are dropped, "" is no value), and a member
-- field's value is never in data: it is the request's member_id.
--
-- request_create(p_account uuid, p_procedure text, p_member uuid,
--                p_data jsonb, p_contact_mode text, p_idem_key text,
--                p_fingerprint bytea, p_url text) -> request [201]
--     a brouillon of the account, pre-filled, required fields not
--     required yet; p_contact_mode NULL: the account's.  The
--     acknowledgement "demande commencée" is queued.  NULL: no such
--     account.
-- request_create_anonymous(p_procedure text, p_applicant jsonb,
--                p_data jsonb, p_contact_mode text, p_follow_up jsonb,
--                p_idem_key text, p_fingerprint bytea, p_url text)
--     -> request [201]
--     p_applicant: the holder's shape, checked by the module.
--     p_follow_up NULL: an anonymous request, submitted at once
--     (en_attente): nobody could come back to a draft.  The applicant is
--     told by mail what becomes of it.
--     p_follow_up {base, password_hash, question_id, answer_hash} (as
--     POST accounts: login base, Argon2id hashes): the account is made in
--     the same transaction (its login mailed), the request is its
--     brouillon, and the answer also has login and account_id (to open a
--     session at once, so that the citizen adds documents and submits).
--     Member fields are skipped: a new account has no members yet.
--     p_contact_mode NULL: email.
-- request_get(p_account uuid, p_id uuid) -> request | NULL
-- request_update(p_account uuid, p_id uuid, p_member uuid, p_data jsonb,
--                p_contact_mode text, p_url text) -> request | NULL
--     PUT replaces: p_data is the whole data (pre-filled again), p_member
--     the member (NULL: none); p_contact_mode NULL keeps it.  Only in
--     brouillon (required fields may wait), en_attente, incomplet (they
--     may not); "demande modifiée" mailed unless a brouillon.
-- request_submit(p_account uuid, p_id uuid, p_idem_key text,
--                p_fingerprint bytea, p_url text) -> request | NULL
--     the citizen's move from the state (brouillon -> en_attente,
--     incomplet -> rectifie), its history row and its acknowledgement.
--     Documents are not required (the FAQ: paper is not blocking).
-- request_delete(p_account uuid, p_id uuid) -> boolean (false: 404)
--     a brouillon, with its history and documents.
-- me_requests(p_account uuid, p_limit integer) -> text (JSON)
--     newest first: [{id, reference, procedure: {slug, title}, state,
--     state_label, member: {id, name} | null, editable, pdf, created_at,
--     updated_at, submitted_at}]; p_limit NULL: all.
-- me_messages(p_account uuid, p_limit integer DEFAULT NULL) -> json
--     newest first: [{id, kind, channel, subject, body, created_at,
--     request: {id, reference} | null}]; scheduled ones once due, dated
--     (created_at, and the order) by when they went, their send_at;
--     cancelled ones never.
-- request_pdf(p_account uuid, p_id uuid) -> json | NULL
--     what the PDF prints, all of it human-readable French:
--     {reference, state, state_label, state_meaning,
--      procedure: {slug, title}, theme: {slug, title},
--      created_at, created_on, submitted_at, submitted_on, updated_at,
--      updated_on, generated_at, generated_on  (_on: "1er mars 2026"),
--      contact_mode, contact_mode_label,
--      applicant: {civility, first_name, last_name, name, birth_date
--                  (DD/MM/YYYY), email, phone, address (one line), login},
--      member: {name, birth_date} | null,
--      answers: [{name, label, value}]  (definition order; select: the
--                option's label, checkbox: Oui/Non, date: DD/MM/YYYY,
--                number with a decimal comma, "non renseigné" when empty),
--      documents: [{kind, label, filename, content_type, size, size_text,
--                   added_on}],
--      history: [{at, at_text, from, from_label, to, to_label, motive}]}
--     only in en_traitement, rectifie, complet, rejete, annule, valide.
--
-- Documents, streamed: begin, then chunks 0, 1, 2... of at most 1 MiB
-- (256 KiB is a good size), each its own round trip and transaction, then
-- finish, or abort on any failure.  Every function checks the account.
-- request_document_begin(p_account uuid, p_request uuid, p_kind text,
--                p_filename text) -> uuid | NULL
--     p_kind: one the procedure asks for, or "autre"; NULL when the form
--     gives it after the file (finish has it then).  In brouillon,
--     en_attente, incomplet.  20 documents and 50 MiB per request, pending
--     ones included.
-- request_document_chunk(p_account uuid, p_document uuid, p_n integer,
--                p_data bytea) -> bigint (bytes so far) | NULL
-- request_document_finish(p_account uuid, p_document uuid,
--                p_content_type text, p_sha256 bytea, p_size bigint,
--                p_url text, p_kind text DEFAULT NULL) -> document | NULL
--                [201]
--     the type found by content (application/pdf, image/jpeg, image/png),
--     the digest and size the module counted while streaming; p_kind,
--     when given, is the document's kind, checked as begin's (one is
--     needed by then).  Still in brouillon, en_attente, incomplet (the
--     request may have moved while the file came).  Outside brouillon the
--     acknowledgement "pièce reçue" is queued; a draft's documents are
--     acknowledged with its submission.
-- request_documents(p_account uuid, p_request uuid) -> [document] | NULL
--     the request's complete documents, as request_get lists them; NULL:
--     no such request of the account.
-- request_document_abort(p_account uuid, p_document uuid) -> boolean
--     a pending document goes (housekeeping takes those left over an
--     hour).
-- request_document_remove(p_account uuid, p_request uuid,
--                p_document uuid, p_url text) -> document | NULL   [204]
--     a complete document is taken back, in brouillon, en_attente,
--     incomplet (request_state otherwise).  Outside brouillon the
--     acknowledgement "pièce retirée" is queued, as for one added.
-- request_document_content(p_account uuid, p_request uuid,
--                p_document uuid, p_first integer DEFAULT 0,
--                p_count integer DEFAULT NULL)
--     -> TABLE (n integer, data bytea, content_type text, filename text,
--               size bigint, chunks integer)
--     a complete document's chunks p_first.. in order (p_count NULL: all
--     of them; read a few per round trip, or all with libpq's single-row
--     mode, to keep a worker's memory small); no rows: 404.
--
-- Idempotency-Key (POST requests, POST requests/{id}/submit):
-- idempotency_check(p_scope text, p_key text, p_route text,
--                p_fingerprint bytea) -> json | NULL
--     before work that cannot be done twice (a captcha spent, Argon2id):
--     NULL: go on; {status, response}: answer that again.  p_scope: the
--     account's id, or 'anonymous'; p_route: 'POST requests' or
--     'POST requests/<id>/submit'; p_fingerprint: sha256 of the body.
-- The request functions take the key and the fingerprint themselves:
-- they answer a stored response again (the first answer, as it was), and
-- store theirs in their own transaction: an answer is kept if and only if
-- its change committed, and a request refused leaves the key free.  Either raises idempotency_running while a request with
-- the same key runs (its transaction holds an advisory lock), and
-- idempotency_mismatch when the key came with another body or route.
--
-- Constraints raised:
--   request_procedure          [422, field procedure] unknown, withdrawn
--   request_member             [422, field member_id] not of the
--                              household, or the form has no member field
--   request_member_kind        [422, field member_id] an adult where a
--                              child is asked, or the reverse
--   request_required           [422] DETAIL: the missing fields' paths
--                              in the body, comma-separated: data.<name>,
--                              or member_id for the member field; HINT:
--                              the procedure's slug (for its form's
--                              messages at a submission)
--   request_phone_contact      [422, field contact_mode] no phone
--   request_requires_account   [422] anonymous, without follow-up
--   request_state              [409] not in this state
--   request_document_kind      [422, field kind]
--   request_documents_limit    [422] 20 documents or 50 MiB per request
--   request_document_chunk     [409] a chunk out of order
--   request_document_size      [422] size differs from the chunks', or 0
--   idempotency_key            [400] a key of 1 to 255 visible ASCII
--                              characters, a fingerprint of 32 bytes
--   idempotency_running        [409] the first is still running
--   idempotency_mismatch       [422] same key, other body or route (as
--                              the IETF Idempotency-Key draft says)
--   and from account_create (with follow-up): 23503
--   accounts_question_id_fkey [422, field security_question_id].


-- ------------------------------------------------------------- helpers

-- The town's time zone: the year of a reference, dates in mails and PDFs.
CREATE FUNCTION portal.town_zone()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT 'Europe/Paris'::text $$;

CREATE FUNCTION portal.iso_time(p timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT to_char(p, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') $$;

-- "1er mars 2026", "12 mars 2026"
CREATE FUNCTION portal.french_date(p date)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE extract(day FROM p) WHEN 1 THEN '1er'
                ELSE extract(day FROM p)::integer::text END
           || ' ' || (ARRAY['janvier', 'février', 'mars', 'avril', 'mai',
                            'juin', 'juillet', 'août', 'septembre',
                            'octobre', 'novembre', 'décembre'])
                     [extract(month FROM p)::integer]
           || ' ' || extract(year FROM p)::integer
$$;

-- "12 mars 2026 à 14 h 05", in the town's time
CREATE FUNCTION portal.french_time(p timestamptz)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT portal.french_date((p AT TIME ZONE portal.town_zone())::date)
           || ' à ' || to_char(p AT TIME ZONE portal.town_zone(),
                               'FMHH24" h "MI')
$$;

CREATE FUNCTION portal.french_day(p text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT regexp_replace(p, '^([0-9]{4})-([0-9]{2})-([0-9]{2})$',
                          '\3/\2/\1')
$$;

-- "830 octets", "245 ko", "1,2 Mo"
CREATE FUNCTION portal.size_text(p bigint)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
        WHEN p < 1024 THEN p || ' octets'
        WHEN p < 1024 * 1024 THEN round(p / 1024.0) || ' ko'
        ELSE replace(round(p / 1048576.0, 1)::text, '.', ',') || ' Mo'
    END
$$;

CREATE FUNCTION portal.contact_mode_label(p text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE p WHEN 'email' THEN 'courriel'
                  WHEN 'phone' THEN 'téléphone'
                  WHEN 'post' THEN 'courrier' END
$$;

-- The FAQ's words for a state: "en attente", and what it means.
CREATE FUNCTION portal.request_state_label(p text)
RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT label FROM portal.request_states WHERE state = p $$;

CREATE FUNCTION portal.request_state_meaning(p text)
RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT meaning FROM portal.request_states WHERE state = p $$;

-- Whether the state machine lets p_actor ("citizen" or "agent") move a
-- request from p_from to p_to; the agents' functions use it too.
CREATE FUNCTION portal.request_transition_allowed(p_from text, p_to text,
                                                  p_actor text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM portal.request_transitions
                    WHERE from_state = p_from AND to_state = p_to
                      AND actor = p_actor)
$$;

-- The label of a kind of document, from the procedure's list.
CREATE FUNCTION portal.document_kind_label(p_documents jsonb, p_kind text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT coalesce((SELECT d->>'label'
                       FROM jsonb_array_elements(p_documents) d
                      WHERE d->>'kind' = p_kind),
                    CASE p_kind WHEN 'autre' THEN 'Autre pièce'
                                ELSE p_kind END)
$$;


-- What "prefill" reads: the holder (an account's, or an applicant's)
-- and the member, with the address on one line.
CREATE FUNCTION portal.holder_values(a portal.accounts)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_build_object(
        'first_name', a.first_name, 'last_name', a.last_name,
        'birth_date', a.birth_date, 'email', a.email, 'phone', a.phone,
        'address', format('%s, %s %s', a.address_line, a.postcode,
                          a.city))
$$;

-- An applicant as stored: the holder's keys only.
CREATE FUNCTION portal.applicant_clean(p jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'civility', p->>'civility', 'first_name', p->>'first_name',
        'last_name', p->>'last_name', 'birth_date', p->>'birth_date',
        'email', p->>'email', 'phone', nullif(p->>'phone', ''),
        'address', jsonb_build_object('line', p->'address'->>'line',
                                      'postcode', p->'address'->>'postcode',
                                      'city', p->'address'->>'city')))
$$;

CREATE FUNCTION portal.applicant_values(p jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'first_name', p->>'first_name', 'last_name', p->>'last_name',
        'birth_date', p->>'birth_date', 'email', p->>'email',
        'phone', p->>'phone',
        'address', format('%s, %s %s', p->'address'->>'line',
                          p->'address'->>'postcode',
                          p->'address'->>'city')))
$$;

CREATE FUNCTION portal.member_values(m portal.members)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN m.id IS NOT NULL THEN jsonb_build_object(
        'first_name', m.first_name, 'last_name', m.last_name,
        'birth_date', m.birth_date) END
$$;


-- The data to store: the definition's fields only (member fields aside),
-- each with the value given, or else the one its "prefill" names; no
-- value, no key.
CREATE FUNCTION portal.request_data(p_fields jsonb, p_data jsonb,
                                    p_holder jsonb, p_member jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT coalesce(jsonb_object_agg(f->>'name', x.v), '{}')
      FROM jsonb_array_elements(p_fields) f
     CROSS JOIN LATERAL (
        SELECT coalesce(
            CASE WHEN jsonb_typeof(p_data->(f->>'name'))
                      IN ('string', 'number', 'boolean')
                      AND p_data->(f->>'name') <> '""'
                 THEN p_data->(f->>'name') END,
            CASE split_part(f->>'prefill', '.', 1)
                WHEN 'holder'
                    THEN p_holder->split_part(f->>'prefill', '.', 2)
                WHEN 'member'
                    THEN p_member->split_part(f->>'prefill', '.', 2)
            END) AS v) x
     WHERE f->>'type' <> 'member'
       AND x.v IS NOT NULL AND x.v NOT IN ('null', '""')
$$;

-- The required fields without a value, comma-separated (NULL: none).  A
-- required checkbox must be ticked; a required member field needs the
-- member, when the request may have one (p_members).
CREATE FUNCTION portal.request_missing(p_fields jsonb, p_data jsonb,
                                       p_member uuid, p_members boolean)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT string_agg(CASE f->>'type'
                          WHEN 'member' THEN 'member_id'
                          ELSE 'data.' || (f->>'name')
                      END, ',' ORDER BY i)
      FROM jsonb_array_elements(p_fields) WITH ORDINALITY a (f, i)
     WHERE (f->>'required')::boolean
       AND CASE f->>'type'
               WHEN 'member' THEN p_members AND p_member IS NULL
               WHEN 'checkbox'
                   THEN p_data->(f->>'name') IS DISTINCT FROM 'true'
               ELSE NOT p_data ? (f->>'name')
           END
$$;

CREATE FUNCTION portal.request_procedure(p_slug text)
RETURNS portal.procedures
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    p  portal.procedures;
BEGIN
    SELECT * INTO p FROM portal.procedures WHERE slug = p_slug AND active;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'no procedure %', p_slug
              USING CONSTRAINT = 'request_procedure';
    END IF;
    RETURN p;
END
$$;

-- The member a request is about: of the household, and of the kind the
-- form's member field asks for.
CREATE FUNCTION portal.request_member(p portal.procedures, p_account uuid,
                                      p_member uuid)
RETURNS portal.members
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    f  jsonb;
    m  portal.members;
BEGIN
    IF p_member IS NULL THEN
        RETURN NULL;
    END IF;

    SELECT e INTO f FROM jsonb_array_elements(p.fields) e
     WHERE e->>'type' = 'member';

    SELECT * INTO m FROM portal.members
     WHERE id = p_member AND account_id = p_account;

    IF f IS NULL OR m.id IS NULL THEN
        RAISE EXCEPTION 'member % is not for this request', p_member
              USING CONSTRAINT = 'request_member';
    END IF;

    IF f ? 'member_kind' AND m.kind <> f->>'member_kind' THEN
        RAISE EXCEPTION 'member % is not a %', p_member, f->>'member_kind'
              USING CONSTRAINT = 'request_member_kind';
    END IF;
    RETURN m;
END
$$;

-- p_required false: a brouillon, whose required fields wait for the
-- submission.
CREATE FUNCTION portal.request_check(p portal.procedures, p_data jsonb,
                                     p_member uuid, p_members boolean,
                                     p_contact text, p_phone text,
                                     p_required boolean)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    missing  text;
BEGIN
    IF p_required THEN
        missing := portal.request_missing(p.fields, p_data, p_member,
                                          p_members);
    END IF;

    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'required fields missing: %', missing
              USING CONSTRAINT = 'request_required', DETAIL = missing,
                    HINT = p.slug;
    END IF;

    IF p_contact = 'phone' AND coalesce(p_phone, '') = '' THEN
        RAISE EXCEPTION 'a phone contact without a phone'
              USING CONSTRAINT = 'request_phone_contact';
    END IF;
END
$$;

-- 2026-000123: the year's counter, under its row lock until commit.
CREATE FUNCTION portal.request_reference()
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    y  smallint := extract(year FROM now() AT TIME ZONE portal.town_zone());
    n  integer;
BEGIN
    INSERT INTO portal.request_counters AS c (year, n) VALUES (y, 1)
    ON CONFLICT (year) DO UPDATE SET n = c.n + 1
    RETURNING c.n INTO n;

    RETURN y || '-' || repeat('0', 6 - length(n::text)) || n;
END
$$;

-- A new request, its first history row, and for p_submit the citizen's
-- submission at once.  The data comes checked and filled.
CREATE FUNCTION portal.request_insert(p portal.procedures, p_account uuid,
                                      p_applicant jsonb, p_member uuid,
                                      p_data jsonb, p_contact text,
                                      p_submit boolean)
RETURNS portal.requests
LANGUAGE plpgsql
AS $$
DECLARE
    r  portal.requests;
BEGIN
    INSERT INTO portal.requests (reference, procedure_id, account_id,
                                 applicant, member_id, data, contact_mode)
    VALUES (portal.request_reference(), p.id, p_account, p_applicant,
            p_member, p_data, p_contact)
    RETURNING * INTO r;

    INSERT INTO portal.request_events (request_id, from_state, to_state,
                                       actor)
    VALUES (r.id, NULL, 'brouillon', 'citizen');

    IF p_submit THEN
        UPDATE portal.requests
           SET state = 'en_attente', submitted_at = now()
         WHERE id = r.id
        RETURNING * INTO r;

        INSERT INTO portal.request_events (request_id, from_state,
                                           to_state, actor)
        VALUES (r.id, 'brouillon', 'en_attente', 'citizen');
    END IF;
    RETURN r;
END
$$;


-- ---------------------------------------------------------------- mail

CREATE FUNCTION portal.no_reply_text()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT 'Ce message est un accusé de réception : il ne demande aucune'
           ' réponse de votre part.'::text
$$;

-- A mail about a request, to the account or to the applicant, through
-- the outbox, with its row in messages.
CREATE FUNCTION portal.request_notify(r portal.requests, p_kind text,
                                      p_subject text, p_text text,
                                      p_url text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    a     portal.accounts;
    body  text;
    o     bigint;
BEGIN
    IF r.account_id IS NOT NULL THEN
        SELECT * INTO a FROM portal.accounts WHERE id = r.account_id;
    ELSE
        a.civility := r.applicant->>'civility';
        a.first_name := r.applicant->>'first_name';
        a.last_name := r.applicant->>'last_name';
        a.email := r.applicant->>'email';
    END IF;

    body := portal.mail_text(a, p_text, p_url);

    INSERT INTO portal.outbox (account_id, recipient, subject, body)
    VALUES (r.account_id, a.email, p_subject, body)
    RETURNING id INTO o;

    INSERT INTO portal.messages (account_id, request_id, outbox_id, kind,
                                 channel, recipient, subject, body, sent_at)
    VALUES (r.account_id, r.id, o, p_kind, 'email', a.email, p_subject,
            body, now());
END
$$;

-- « Acte de naissance » (référence 2026-000123)
CREATE FUNCTION portal.request_named(r portal.requests)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT format('« %s » (référence %s)', p.title, r.reference)
      FROM portal.procedures p WHERE p.id = r.procedure_id
$$;


-- ---------------------------------------------------------- idempotency

-- The first answer to a key, or NULL; raises idempotency_key,
-- idempotency_running (the key's advisory lock is taken: a request with
-- it runs) and idempotency_mismatch.  The request functions take the
-- lock for their whole transaction; idempotency_check() only shares it
-- for a moment.
CREATE FUNCTION portal.idempotency_replay(p_scope text, p_key text,
                                          p_route text,
                                          p_fingerprint bytea,
                                          p_shared boolean)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    k    portal.idempotency_keys;
    h    integer := hashtext(p_scope || ' ' || p_key);
    got  boolean;
BEGIN
    IF p_key !~ '^[\x21-\x7e]{1,255}$'
       OR coalesce(length(p_fingerprint), 0) <> 32
    THEN
        RAISE EXCEPTION 'bad idempotency key or fingerprint'
              USING CONSTRAINT = 'idempotency_key';
    END IF;

    IF p_shared THEN
        got := pg_try_advisory_xact_lock_shared(3, h);
    ELSE
        got := pg_try_advisory_xact_lock(3, h);
    END IF;

    IF NOT got THEN
        RAISE EXCEPTION 'a request with key % is running', p_key
              USING CONSTRAINT = 'idempotency_running';
    END IF;

    SELECT * INTO k FROM portal.idempotency_keys
     WHERE scope = p_scope AND key = p_key
       AND created_at > now() - interval '24 hours';

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF k.route <> p_route OR k.fingerprint <> p_fingerprint THEN
        RAISE EXCEPTION 'key % came with another request', p_key
              USING CONSTRAINT = 'idempotency_mismatch';
    END IF;

    RETURN json_build_object('status', k.status, 'response', k.response);
END
$$;

-- A key older than 24 hours is a new one: its row is taken over.
CREATE FUNCTION portal.idempotency_store(p_scope text, p_key text,
                                         p_route text, p_fingerprint bytea,
                                         p_status integer, p_response json)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO portal.idempotency_keys AS k (scope, key, route,
                                              fingerprint, status, response)
    VALUES (p_scope, p_key, p_route, p_fingerprint, p_status, p_response)
    ON CONFLICT (scope, key) DO UPDATE
       SET route = excluded.route, fingerprint = excluded.fingerprint,
           status = excluded.status, response = excluded.response,
           created_at = now()
$$;

CREATE FUNCTION portal.idempotency_check(p_scope text, p_key text,
                                         p_route text, p_fingerprint bytea)
RETURNS json
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.idempotency_replay(p_scope, p_key, p_route,
                                     p_fingerprint, true)
$$;


-- ---------------------------------------------------------------- JSON

CREATE FUNCTION portal.request_document_json(d portal.request_documents,
                                             p_label text)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', d.id, 'kind', d.kind, 'label', p_label,
        'filename', d.filename, 'content_type', d.content_type,
        'size', d.size, 'sha256', encode(d.sha256, 'hex'),
        'created_at', portal.iso_time(d.created_at))
$$;

-- A request's complete documents, oldest first, each labelled with the
-- kinds of its procedure (p_documents).
CREATE FUNCTION portal.request_documents_json(p_request uuid,
                                              p_documents jsonb)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(json_agg(portal.request_document_json(d,
                                 portal.document_kind_label(p_documents,
                                                            d.kind))
                             ORDER BY d.created_at, d.id), '[]')
      FROM portal.request_documents d
     WHERE d.request_id = p_request AND d.state = 'complete'
$$;

CREATE FUNCTION portal.request_json(r portal.requests)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', r.id, 'reference', r.reference,
        'procedure', json_build_object(
            'slug', p.slug, 'title', p.title,
            'theme', json_build_object('slug', t.slug, 'title', t.title)),
        'state', r.state, 'state_label', s.label,
        'state_meaning', s.meaning, 'contact_mode', r.contact_mode,
        'member', (SELECT json_build_object(
                              'id', m.id,
                              'name', m.first_name || ' ' || m.last_name)
                     FROM portal.members m WHERE m.id = r.member_id),
        'applicant', r.applicant,
        'data', r.data,
        'created_at', portal.iso_time(r.created_at),
        'updated_at', portal.iso_time(r.updated_at),
        'submitted_at', portal.iso_time(r.submitted_at),
        'history', (SELECT json_agg(json_build_object(
                                'at', portal.iso_time(e.at),
                                'from', e.from_state, 'to', e.to_state,
                                'actor', e.actor, 'motive', e.motive)
                            ORDER BY e.id)
                      FROM portal.request_events e
                     WHERE e.request_id = r.id),
        'documents', portal.request_documents_json(r.id, p.documents),
        'editable', s.editable, 'pdf', NOT s.editable)
      FROM portal.procedures p
      JOIN portal.themes t ON t.id = p.theme_id
      JOIN portal.request_states s ON s.state = r.state
     WHERE p.id = r.procedure_id
$$;


-- ------------------------------------------------------------ requests

CREATE FUNCTION portal.request_create(p_account uuid, p_procedure text,
                                      p_member uuid, p_data jsonb,
                                      p_contact_mode text, p_idem_key text,
                                      p_fingerprint bytea, p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a        portal.accounts;
    p        portal.procedures;
    m        portal.members;
    r        portal.requests;
    answers  jsonb;
    contact  text;
    res      json;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        res := portal.idempotency_replay(p_account::text, p_idem_key,
                                         'POST requests', p_fingerprint,
                                         false);
        IF res IS NOT NULL THEN
            RETURN res->'response';
        END IF;
    END IF;

    SELECT * INTO a FROM portal.accounts WHERE id = p_account;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    p := portal.request_procedure(p_procedure);
    m := portal.request_member(p, a.id, p_member);
    answers := portal.request_data(p.fields, p_data,
                                   portal.holder_values(a),
                                   portal.member_values(m));
    contact := coalesce(p_contact_mode, a.contact_mode);
    PERFORM portal.request_check(p, answers, m.id, true, contact, a.phone,
                                 false);

    r := portal.request_insert(p, a.id, NULL, m.id, answers, contact,
                               false);

    PERFORM portal.request_notify(r, 'acknowledgement',
        format('Demande %s commencée', r.reference),
        format(E'Votre demande %s est enregistrée à l''état'
                ' « brouillon » : vous ne l''avez pas encore soumise.\n\n'
                'Vous pouvez la compléter, y joindre des pièces'
                ' justificatives, puis la soumettre depuis l''onglet'
                ' « Demandes » de votre compte.\n\n%s',
               portal.request_named(r), portal.no_reply_text()),
        p_url);

    res := portal.request_json(r);

    IF p_idem_key IS NOT NULL THEN
        PERFORM portal.idempotency_store(p_account::text, p_idem_key,
                                         'POST requests', p_fingerprint,
                                         201, res);
    END IF;
    RETURN res;
END
$$;


CREATE FUNCTION portal.request_create_anonymous(p_procedure text,
                                                p_applicant jsonb,
                                                p_data jsonb,
                                                p_contact_mode text,
                                                p_follow_up jsonb,
                                                p_idem_key text,
                                                p_fingerprint bytea,
                                                p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    p          portal.procedures;
    a          portal.accounts;
    r          portal.requests;
    applicant  jsonb := portal.applicant_clean(p_applicant);
    contact    text := coalesce(p_contact_mode, 'email');
    answers    jsonb;
    new_login  text;
    res        json;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        res := portal.idempotency_replay('anonymous', p_idem_key,
                                         'POST requests', p_fingerprint,
                                         false);
        IF res IS NOT NULL THEN
            RETURN res->'response';
        END IF;
    END IF;

    p := portal.request_procedure(p_procedure);

    IF p_follow_up IS NULL THEN
        IF p.requires_account THEN
            RAISE EXCEPTION 'procedure % needs an account', p.slug
                  USING CONSTRAINT = 'request_requires_account';
        END IF;

        answers := portal.request_data(p.fields, p_data,
                                       portal.applicant_values(applicant),
                                       NULL);
        PERFORM portal.request_check(p, answers, NULL, false, contact,
                                     applicant->>'phone', true);

        r := portal.request_insert(p, NULL, applicant, NULL, answers,
                                   contact, true);

        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Demande %s reçue', r.reference),
            format(E'Nous avons bien reçu votre demande %s. Elle est à'
                    ' l''état « en attente » : %s.\n\n'
                    'Vous l''avez faite sans compte citoyen : vous ne'
                    ' pourrez pas la suivre sur le portail. Le service qui'
                    ' l''instruit vous fera part de sa décision par %s'
                    ' (%s) et, s''il lui manque quelque chose, vous le dira'
                    ' de la même façon. Gardez la référence %s pour tout'
                    ' échange avec la Mairie.\n\n%s',
                   portal.request_named(r),
                   portal.request_state_meaning('en_attente'),
                   portal.contact_mode_label(contact),
                   CASE contact
                       WHEN 'phone' THEN applicant->>'phone'
                       WHEN 'post' THEN portal.applicant_values(
                                            applicant)->>'address'
                       ELSE applicant->>'email' END,
                   r.reference, portal.no_reply_text()),
            p_url);

        res := portal.request_json(r);
    ELSE
        -- the account's own rule, in the request's words
        IF contact = 'phone' AND applicant->>'phone' IS NULL THEN
            RAISE EXCEPTION 'a phone contact without a phone'
                  USING CONSTRAINT = 'request_phone_contact';
        END IF;

        SELECT c.login INTO new_login
          FROM portal.account_create(p_applicant, p_follow_up->>'base',
                                     p_follow_up->>'password_hash',
                                     (p_follow_up->>'question_id')::smallint,
                                     p_follow_up->>'answer_hash', contact,
                                     NULL, p_url) c;

        SELECT * INTO a FROM portal.accounts WHERE login = new_login;

        answers := portal.request_data(p.fields, p_data,
                                       portal.holder_values(a), NULL);
        PERFORM portal.request_check(p, answers, NULL, false, contact,
                                     a.phone, true);

        r := portal.request_insert(p, a.id, NULL, NULL, answers, contact,
                                   false);

        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Demande %s commencée', r.reference),
            format(E'Votre demande %s est enregistrée à l''état'
                    ' « brouillon » : vous ne l''avez pas encore soumise.\n\n'
                    'Avec votre compte citoyen (identifiant : %s), vous'
                    ' pouvez la compléter, y joindre des pièces'
                    ' justificatives, la soumettre puis la suivre depuis'
                    ' l''onglet « Demandes ».\n\n%s',
                   portal.request_named(r), a.login, portal.no_reply_text()),
            p_url);

        res := (portal.request_json(r)::jsonb
                || jsonb_build_object('login', a.login,
                                      'account_id', a.id))::json;
    END IF;

    IF p_idem_key IS NOT NULL THEN
        PERFORM portal.idempotency_store('anonymous', p_idem_key,
                                         'POST requests', p_fingerprint,
                                         201, res);
    END IF;
    RETURN res;
END
$$;


CREATE FUNCTION portal.request_get(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r  portal.requests;
BEGIN
    SELECT * INTO r FROM portal.requests
     WHERE id = p_id AND account_id = p_account;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN portal.request_json(r);
END
$$;


-- A request of the account, locked for a change; NULL when there is none.
-- p_editable: refused (request_state) unless the citizen may change it.
CREATE FUNCTION portal.request_lock(p_account uuid, p_id uuid,
                                    p_editable boolean)
RETURNS portal.requests
LANGUAGE plpgsql
AS $$
DECLARE
    r  portal.requests;
BEGIN
    SELECT * INTO r FROM portal.requests
     WHERE id = p_id AND account_id = p_account
       FOR NO KEY UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF p_editable AND NOT (SELECT editable FROM portal.request_states
                            WHERE state = r.state)
    THEN
        RAISE EXCEPTION 'request % is %', r.reference, r.state
              USING CONSTRAINT = 'request_state';
    END IF;
    RETURN r;
END
$$;


CREATE FUNCTION portal.request_update(p_account uuid, p_id uuid,
                                      p_member uuid, p_data jsonb,
                                      p_contact_mode text, p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r        portal.requests := portal.request_lock(p_account, p_id, true);
    a        portal.accounts;
    p        portal.procedures;
    m        portal.members;
    answers  jsonb;
    contact  text;
BEGIN
    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    SELECT * INTO a FROM portal.accounts WHERE id = p_account;
    SELECT * INTO p FROM portal.procedures WHERE id = r.procedure_id;
    m := portal.request_member(p, a.id, p_member);
    answers := portal.request_data(p.fields, p_data,
                                   portal.holder_values(a),
                                   portal.member_values(m));
    contact := coalesce(p_contact_mode, r.contact_mode);
    PERFORM portal.request_check(p, answers, m.id, true, contact, a.phone,
                                 r.state <> 'brouillon');

    UPDATE portal.requests
       SET member_id = m.id, data = answers,
           contact_mode = contact, updated_at = now()
     WHERE id = r.id
    RETURNING * INTO r;

    IF r.state <> 'brouillon' THEN
        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Demande %s modifiée', r.reference),
            format(E'Les modifications de votre demande %s sont'
                    ' enregistrées. Elle reste à l''état « %s » : %s.\n\n%s',
                   portal.request_named(r),
                   portal.request_state_label(r.state),
                   portal.request_state_meaning(r.state),
                   portal.no_reply_text()),
            p_url);
    END IF;
    RETURN portal.request_json(r);
END
$$;


CREATE FUNCTION portal.request_submit(p_account uuid, p_id uuid,
                                      p_idem_key text, p_fingerprint bytea,
                                      p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    route  text := 'POST requests/' || p_id || '/submit';
    r      portal.requests;
    p      portal.procedures;
    dest   text;
    res    json;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        res := portal.idempotency_replay(p_account::text, p_idem_key, route,
                                         p_fingerprint, false);
        IF res IS NOT NULL THEN
            RETURN res->'response';
        END IF;
    END IF;

    r := portal.request_lock(p_account, p_id, false);

    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    SELECT t.to_state INTO dest FROM portal.request_transitions t
     WHERE t.from_state = r.state AND t.actor = 'citizen';

    IF dest IS NULL THEN
        RAISE EXCEPTION 'request % is %: nothing to submit', r.reference,
                        r.state
              USING CONSTRAINT = 'request_state';
    END IF;

    SELECT * INTO p FROM portal.procedures WHERE id = r.procedure_id;
    PERFORM portal.request_check(p, r.data, r.member_id, true,
                                 r.contact_mode,
                                 (SELECT phone FROM portal.accounts
                                   WHERE id = p_account), true);

    INSERT INTO portal.request_events (request_id, from_state, to_state,
                                       actor)
    VALUES (r.id, r.state, dest, 'citizen');

    UPDATE portal.requests
       SET state = dest, updated_at = now(),
           submitted_at = coalesce(submitted_at, now())
     WHERE id = r.id
    RETURNING * INTO r;

    IF dest = 'en_attente' THEN
        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Demande %s soumise', r.reference),
            format(E'Nous avons bien reçu votre demande %s. Elle est'
                    ' maintenant à l''état « en attente » : %s.\n\n'
                    'Vous pourrez suivre son avancement depuis l''onglet'
                    ' « Demandes » de votre compte.\n\n%s',
                   portal.request_named(r),
                   portal.request_state_meaning(dest),
                   portal.no_reply_text()),
            p_url);
    ELSE
        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Demande %s complétée', r.reference),
            format(E'Nous avons bien reçu les compléments de votre demande'
                    ' %s. Elle est maintenant à l''état « %s » : %s ;'
                    ' l''agent instructeur va la reprendre.\n\n%s',
                   portal.request_named(r), portal.request_state_label(dest),
                   portal.request_state_meaning(dest),
                   portal.no_reply_text()),
            p_url);
    END IF;

    res := portal.request_json(r);

    IF p_idem_key IS NOT NULL THEN
        PERFORM portal.idempotency_store(p_account::text, p_idem_key, route,
                                         p_fingerprint, 200, res);
    END IF;
    RETURN res;
END
$$;


-- The reference of a deleted draft is not given again.
CREATE FUNCTION portal.request_delete(p_account uuid, p_id uuid)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r  portal.requests := portal.request_lock(p_account, p_id, false);
BEGIN
    IF r.id IS NULL THEN
        RETURN false;
    END IF;

    IF r.state <> 'brouillon' THEN
        RAISE EXCEPTION 'request % is %: only a draft is deleted',
                        r.reference, r.state
              USING CONSTRAINT = 'request_state';
    END IF;

    DELETE FROM portal.requests WHERE id = r.id;
    RETURN true;
END
$$;


-- Read in the order of the index requests_account, the newest first.
-- The list every visit of the citizen's pages asks for first, so written
-- for cost: each entry was written as JSON with its row
-- (sql/015_request_list.sql: requests.list_head, kept by triggers as
-- what it names changes), and only its times are added here, formatted
-- in the reader's time zone as everywhere else.  The answer is text,
-- already checked as JSON where it was written.  Measured (20 requests,
-- one client's latency through pgbench -M prepared): 260 us when each
-- entry was built here from the procedure, the state and the member;
-- about 160 us now.
CREATE FUNCTION portal.me_requests(p_account uuid, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT '[' || coalesce(string_agg(
                   r.list_head || '"created_at" : "'
                   || iso_time(r.created_at) || '", "updated_at" : "'
                   || iso_time(r.updated_at) || '", "submitted_at" : '
                   || coalesce('"' || iso_time(r.submitted_at) || '"',
                               'null') || '}',
                   ', ' ORDER BY r.created_at DESC, r.id DESC), '')
               || ']'
          FROM (SELECT list_head, created_at, updated_at, submitted_at, id
                  FROM portal.requests
                 WHERE account_id = p_account
                 ORDER BY created_at DESC, id DESC
                 LIMIT p_limit) r);
END
$$;


CREATE FUNCTION portal.me_messages(p_account uuid,
                                   p_limit integer DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    RETURN (
        SELECT coalesce(json_agg(json_build_object(
                   'id', g.id, 'kind', g.kind, 'channel', g.channel,
                   'subject', g.subject, 'body', g.body,
                   'created_at', portal.iso_time(g.at),
                   'request', CASE WHEN r.id IS NOT NULL
                                   THEN json_build_object(
                                       'id', r.id,
                                       'reference', r.reference) END)
                   ORDER BY g.at DESC, g.id DESC), '[]')
          FROM (SELECT m.*, coalesce(m.send_at, m.created_at) AS at
                  FROM portal.messages m
                 WHERE m.account_id = p_account AND m.cancelled_at IS NULL
                   AND (m.send_at IS NULL OR m.send_at <= now())
                 ORDER BY at DESC, m.id DESC
                 LIMIT p_limit) g
          LEFT JOIN portal.requests r ON r.id = g.request_id);
END
$$;


-- The answers as a person reads them, in the definition's order.
CREATE FUNCTION portal.request_answers(p_fields jsonb, p_data jsonb,
                                       p_member text)
RETURNS json
LANGUAGE sql IMMUTABLE
AS $$
    SELECT coalesce(json_agg(json_build_object(
               'name', f->>'name', 'label', f->>'label',
               'value', coalesce(y.v, 'non renseigné'))
               ORDER BY i), '[]')
      FROM jsonb_array_elements(p_fields) WITH ORDINALITY a (f, i)
     CROSS JOIN LATERAL (SELECT p_data->(f->>'name') AS x) d
     CROSS JOIN LATERAL (
        SELECT CASE f->>'type'
            WHEN 'member' THEN p_member
            WHEN 'checkbox'
                THEN CASE WHEN d.x = 'true' THEN 'Oui' ELSE 'Non' END
            WHEN 'select'
                THEN coalesce((SELECT o->>'label'
                                 FROM jsonb_array_elements(f->'options') o
                                WHERE o->>'value' = d.x #>> '{}'),
                              d.x #>> '{}')
            WHEN 'date' THEN portal.french_day(d.x #>> '{}')
            WHEN 'number' THEN replace(d.x #>> '{}', '.', ',')
            ELSE d.x #>> '{}'
        END AS v) y
$$;

CREATE FUNCTION portal.request_pdf(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r  portal.requests;
    a  portal.accounts;
    p  portal.procedures;
    t  portal.themes;
    m  portal.members;
    s  portal.request_states;
BEGIN
    SELECT * INTO r FROM portal.requests
     WHERE id = p_id AND account_id = p_account;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    SELECT * INTO s FROM portal.request_states WHERE state = r.state;

    IF s.editable THEN
        RAISE EXCEPTION 'request % is %: no PDF yet', r.reference, r.state
              USING CONSTRAINT = 'request_state';
    END IF;

    SELECT * INTO a FROM portal.accounts WHERE id = r.account_id;
    SELECT * INTO p FROM portal.procedures WHERE id = r.procedure_id;
    SELECT * INTO t FROM portal.themes WHERE id = p.theme_id;
    SELECT * INTO m FROM portal.members WHERE id = r.member_id;

    RETURN json_build_object(
        'reference', r.reference, 'state', r.state,
        'state_label', s.label, 'state_meaning', s.meaning,
        'procedure', json_build_object('slug', p.slug, 'title', p.title),
        'theme', json_build_object('slug', t.slug, 'title', t.title),
        'created_at', portal.iso_time(r.created_at),
        'created_on', portal.french_time(r.created_at),
        'submitted_at', portal.iso_time(r.submitted_at),
        'submitted_on', portal.french_time(r.submitted_at),
        'updated_at', portal.iso_time(r.updated_at),
        'updated_on', portal.french_time(r.updated_at),
        'generated_at', portal.iso_time(now()),
        'generated_on', portal.french_time(now()),
        'contact_mode', r.contact_mode,
        'contact_mode_label', portal.contact_mode_label(r.contact_mode),
        'applicant', json_build_object(
            'civility', CASE a.civility WHEN 'M' THEN 'Monsieur'
                                        ELSE 'Madame' END,
            'first_name', a.first_name, 'last_name', a.last_name,
            'name', a.first_name || ' ' || a.last_name,
            'birth_date', to_char(a.birth_date, 'DD/MM/YYYY'),
            'email', a.email, 'phone', a.phone,
            'address', portal.holder_values(a)->>'address',
            'login', a.login),
        'member', CASE WHEN m.id IS NOT NULL THEN json_build_object(
                           'name', m.first_name || ' ' || m.last_name,
                           'birth_date', to_char(m.birth_date,
                                                 'DD/MM/YYYY')) END,
        'answers', portal.request_answers(p.fields, r.data,
                                          m.first_name || ' '
                                          || m.last_name),
        'documents', coalesce((
            SELECT json_agg(json_build_object(
                       'kind', d.kind,
                       'label', portal.document_kind_label(p.documents,
                                                           d.kind),
                       'filename', d.filename,
                       'content_type', d.content_type, 'size', d.size,
                       'size_text', portal.size_text(d.size),
                       'added_on', portal.french_time(d.created_at))
                   ORDER BY d.created_at, d.id)
              FROM portal.request_documents d
             WHERE d.request_id = r.id AND d.state = 'complete'), '[]'),
        'history', (
            SELECT json_agg(json_build_object(
                       'at', portal.iso_time(e.at),
                       'at_text', portal.french_time(e.at),
                       'from', e.from_state,
                       'from_label', portal.request_state_label(e.from_state),
                       'to', e.to_state,
                       'to_label', portal.request_state_label(e.to_state),
                       'motive', e.motive)
                   ORDER BY e.id)
              FROM portal.request_events e WHERE e.request_id = r.id));
END
$$;


-- ----------------------------------------------------------- documents

-- At most 20 documents and 50 MiB per request, those still coming
-- included: the request's row is locked, so that uploads at once count
-- one after another.
CREATE FUNCTION portal.request_documents_room(p_request uuid,
                                              p_more_documents integer,
                                              p_more_bytes bigint)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF (SELECT count(*) + p_more_documents > 20
               OR coalesce(sum(size), 0) + p_more_bytes > 50 * 1024 * 1024
          FROM portal.request_documents WHERE request_id = p_request)
    THEN
        RAISE EXCEPTION 'the documents of request % are at their limit',
                        p_request
              USING CONSTRAINT = 'request_documents_limit';
    END IF;
END
$$;

-- One of the kinds the procedure asks for, or "autre".
CREATE FUNCTION portal.request_document_kind(r portal.requests, p_kind text)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p_kind IS DISTINCT FROM 'autre' AND NOT EXISTS (
           SELECT 1 FROM portal.procedures p,
                         jsonb_array_elements(p.documents) k
            WHERE p.id = r.procedure_id AND k->>'kind' = p_kind)
    THEN
        RAISE EXCEPTION 'no document of kind % here', p_kind
              USING CONSTRAINT = 'request_document_kind';
    END IF;
END
$$;

CREATE FUNCTION portal.request_document_begin(p_account uuid,
                                              p_request uuid, p_kind text,
                                              p_filename text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r  portal.requests := portal.request_lock(p_account, p_request, true);
    d  uuid;
BEGIN
    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_kind IS NOT NULL THEN
        PERFORM portal.request_document_kind(r, p_kind);
    END IF;

    PERFORM portal.request_documents_room(r.id, 1, 1);

    INSERT INTO portal.request_documents (request_id, kind, filename)
    VALUES (r.id, p_kind,
            coalesce(nullif(left(p_filename, 255), ''), 'document'))
    RETURNING id INTO d;

    RETURN d;
END
$$;

-- A pending document of the account, its request locked; NULL otherwise.
CREATE FUNCTION portal.request_document_lock(p_account uuid,
                                             p_document uuid)
RETURNS portal.request_documents
LANGUAGE plpgsql
AS $$
DECLARE
    d  portal.request_documents;
BEGIN
    PERFORM 1 FROM portal.requests q
      JOIN portal.request_documents x ON x.request_id = q.id
     WHERE x.id = p_document AND q.account_id = p_account
       FOR NO KEY UPDATE OF q;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    SELECT * INTO d FROM portal.request_documents
     WHERE id = p_document AND state = 'pending'
       FOR UPDATE;

    RETURN d;
END
$$;

CREATE FUNCTION portal.request_document_chunk(p_account uuid,
                                              p_document uuid,
                                              p_n integer, p_data bytea)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d  portal.request_documents :=
           portal.request_document_lock(p_account, p_document);
BEGIN
    IF d.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_n IS DISTINCT FROM d.chunks THEN
        RAISE EXCEPTION 'chunk % of document % where % was due', p_n,
                        d.id, d.chunks
              USING CONSTRAINT = 'request_document_chunk';
    END IF;

    PERFORM portal.request_documents_room(d.request_id, 0,
                                          octet_length(p_data));

    INSERT INTO portal.request_document_chunks (document_id, n, data)
    VALUES (d.id, p_n, p_data);

    UPDATE portal.request_documents
       SET size = size + octet_length(p_data), chunks = chunks + 1
     WHERE id = d.id
    RETURNING size INTO d.size;

    RETURN d.size;
END
$$;

CREATE FUNCTION portal.request_document_finish(p_account uuid,
                                               p_document uuid,
                                               p_content_type text,
                                               p_sha256 bytea,
                                               p_size bigint, p_url text,
                                               p_kind text DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d      portal.request_documents :=
               portal.request_document_lock(p_account, p_document);
    r      portal.requests;
    label  text;
BEGIN
    IF d.id IS NULL THEN
        RETURN NULL;
    END IF;

    -- the request may have moved on while the file came
    r := portal.request_lock(p_account, d.request_id, true);

    IF d.size = 0 OR p_size IS DISTINCT FROM d.size THEN
        RAISE EXCEPTION 'document % has % bytes, not %', d.id, d.size,
                        p_size
              USING CONSTRAINT = 'request_document_size';
    END IF;

    IF p_kind IS NOT NULL THEN
        PERFORM portal.request_document_kind(r, p_kind);
    END IF;

    PERFORM portal.request_documents_room(r.id, 0, 0);

    UPDATE portal.request_documents
       SET state = 'complete', kind = coalesce(p_kind, kind),
           content_type = p_content_type, sha256 = p_sha256,
           completed_at = now()
     WHERE id = d.id
    RETURNING * INTO d;

    SELECT portal.document_kind_label(p.documents, d.kind) INTO label
      FROM portal.procedures p WHERE p.id = r.procedure_id;

    IF r.state <> 'brouillon' THEN
        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Pièce reçue pour la demande %s', r.reference),
            format(E'Nous avons bien reçu la pièce « %s » (fichier « %s »,'
                    ' %s) pour votre demande %s.\n\n%s',
                   label, d.filename, portal.size_text(d.size),
                   portal.request_named(r), portal.no_reply_text()),
            p_url);
    END IF;

    RETURN portal.request_document_json(d, label);
END
$$;

CREATE FUNCTION portal.request_documents(p_account uuid, p_request uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.request_documents_json(r.id, p.documents)
      FROM portal.requests r
      JOIN portal.procedures p ON p.id = r.procedure_id
     WHERE r.id = p_request AND r.account_id = p_account
$$;


CREATE FUNCTION portal.request_document_abort(p_account uuid,
                                              p_document uuid)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM portal.request_documents d
         USING portal.requests r
         WHERE d.id = p_document AND d.state = 'pending'
           AND r.id = d.request_id AND r.account_id = p_account
        RETURNING d.id
    )
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

-- Taken back by the citizen while the request may change; NULL (404) when
-- the request is not the account's or the document not one of its
-- complete ones, whatever the state.
CREATE FUNCTION portal.request_document_remove(p_account uuid,
                                               p_request uuid,
                                               p_document uuid,
                                               p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    r      portal.requests;
    d      portal.request_documents;
    label  text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM portal.request_documents x
                     JOIN portal.requests q ON q.id = x.request_id
                    WHERE x.id = p_document AND x.request_id = p_request
                      AND x.state = 'complete'
                      AND q.account_id = p_account)
    THEN
        RETURN NULL;
    END IF;

    r := portal.request_lock(p_account, p_request, true);

    DELETE FROM portal.request_documents
     WHERE id = p_document AND request_id = r.id AND state = 'complete'
    RETURNING * INTO d;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    SELECT portal.document_kind_label(p.documents, d.kind) INTO label
      FROM portal.procedures p WHERE p.id = r.procedure_id;

    -- the town may be reading the request: what left it is said, in
    -- writing, as what came
    IF r.state <> 'brouillon' THEN
        PERFORM portal.request_notify(r, 'acknowledgement',
            format('Pièce retirée de la demande %s', r.reference),
            format(E'La pièce « %s » (fichier « %s », %s) est retirée de'
                    ' votre demande %s, comme vous l''avez demandé.\n\n%s',
                   label, d.filename, portal.size_text(d.size),
                   portal.request_named(r), portal.no_reply_text()),
            p_url);
    END IF;

    RETURN portal.request_document_json(d, label);
END
$$;

CREATE FUNCTION portal.request_document_content(p_account uuid,
                                                p_request uuid,
                                                p_document uuid,
                                                p_first integer DEFAULT 0,
                                                p_count integer
                                                    DEFAULT NULL)
RETURNS TABLE (n integer, data bytea, content_type text, filename text,
               size bigint, chunks integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT c.n, c.data, d.content_type, d.filename, d.size, d.chunks
      FROM portal.request_documents d
      JOIN portal.requests r ON r.id = d.request_id
      JOIN portal.request_document_chunks c ON c.document_id = d.id
     WHERE d.id = p_document AND d.request_id = p_request
       AND d.state = 'complete' AND r.account_id = p_account
       AND c.n >= coalesce(p_first, 0)
       AND (p_count IS NULL OR c.n < coalesce(p_first, 0) + p_count)
     ORDER BY c.n
$$;
