-- Requests in the back-office: the work queue, one request read whole,
-- the agents' moves along the state machine, and the documents.  Drafts
-- (brouillon) are the citizen's own: no agent sees them.  An instructeur
-- limited to themes sees only their requests; another request is as
-- absent as an unknown one (NULL, 404).
--
-- Contract (see 100_agents.sql for the conventions and agent_session):
--
-- The queue's item ("item" below):
--   {id, reference, procedure: {slug, title}, theme: {slug, title},
--    state, state_label, applicant: {name, login | null}, contact_mode,
--    member: {name} | null, submitted_at, updated_at, cursor}
-- The agent's request ("agent request" below): request_get()'s JSON
-- (090) with
--   history: [{at, from | null, to, actor, agent: {id, login, name} | null,
--              motive | null}]
--   account: {id, login, validated, civility, first_name, last_name,
--             birth_date, email, phone, address: {line, postcode, city}}
--            | null (made without an account: see applicant)
--   contact: {mode, label, channel, recipient}  (channel: what a message
--            goes by; a phone contact without a phone number falls back on
--            email)
--   answers: [{name, label, value}]  (as the PDF reads them)
--   messages: [message]  (what the citizen was sent about it, newest
--             first, cancelled and scheduled ones too: the message's JSON
--             of 130_agent_messages.sql)
--   transitions: [{to, label, motive_required}]  (the agents' moves from
--                the state it is in)
--
-- agent_requests(p_agent uuid, p_state text, p_procedure text,
--                p_theme text, p_q text, p_page text, p_limit integer)
--     -> json [item]
--     GET requests?state=&procedure=&theme=&q=&page=: newest submission
--     first, p_limit (1..200, 50 unless told) from the key p_page (the
--     cursor of the last item seen).  Filters, NULL for none: a state
--     (not brouillon), a procedure's slug, a theme's slug, and q: a
--     reference ("2026-000123", or "2026-123") or a part of the
--     applicant's name (2 to 100 characters, case and accents ignored).
-- agent_request(p_agent uuid, p_id uuid) -> agent request | NULL
--     GET requests/{id}; writes the audit row "request_read".
-- agent_request_transition(p_agent uuid, p_id uuid, p_to text,
--                p_from text, p_motive text, p_message text, p_url text)
--     -> agent request | NULL
--     POST requests/{id}/transition {"to", "from"?, "motive"?,
--     "message"?}: the move, its history row (the agent, the motive) and
--     the citizen's notification on the request's contact mode (e-mail
--     queued, letter to print, or call to make; kind decision for valide,
--     rejete, annule, information otherwise, with the FAQ's meaning of
--     the new state, the motive and p_message), in one transaction.
--     p_from: the state the agent saw (NULL: not checked); with it, of
--     two agents acting at once on what they both saw, exactly one wins.
--     Writes the audit row "request_transition" {from, to}.
-- agent_request_document(p_agent uuid, p_request uuid, p_document uuid,
--                p_first integer DEFAULT 0, p_count integer DEFAULT NULL)
--     -> TABLE (n integer, data bytea, content_type text, filename text,
--               size bigint, chunks integer)
--     as request_document_content() (090) for the citizen; no row: 404.
--     The first read (p_first 0) writes the audit row
--     "request_document_read".
--
-- Raised:
--   agent_page                [400] a cursor this function did not give
--   agent_queue_state         [422, field state] unknown, or brouillon
--   agent_queue_procedure     [422, field procedure] unknown
--   agent_queue_theme         [422, field theme] unknown
--   agent_queue_q             [422, field q] shorter than 2 or longer
--                             than 100 characters
--   request_transition_to     [422, field to] not a state
--   request_state             [409] not in p_from any more
--   request_transition        [409] the state machine forbids the move
--   request_motive            [422, field motive] a rejection without one
--   request_events_motive_check (23514) [422, field motive] longer than
--                             2000 characters


-- ------------------------------------------------------------- helpers

CREATE FUNCTION portal.request_applicant_name(r portal.requests)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT a.first_name || ' ' || a.last_name
                       FROM portal.accounts a WHERE a.id = r.account_id),
                    (r.applicant->>'first_name') || ' '
                    || (r.applicant->>'last_name'))
$$;

-- A request an agent may see, locked for a move when p_lock; NULL when
-- there is none (or a draft, or out of the agent's themes).
CREATE FUNCTION portal.agent_request_row(a portal.agents, p_id uuid,
                                         p_lock boolean)
RETURNS portal.requests
LANGUAGE plpgsql
AS $$
DECLARE
    r  portal.requests;
BEGIN
    IF p_lock THEN
        SELECT * INTO r FROM portal.requests
         WHERE id = p_id AND state <> 'brouillon'
           FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO r FROM portal.requests
         WHERE id = p_id AND state <> 'brouillon';
    END IF;

    IF NOT FOUND OR NOT portal.agent_sees(a, r.procedure_id) THEN
        RETURN NULL;
    END IF;
    RETURN r;
END
$$;

CREATE FUNCTION portal.agent_message_json(m portal.messages)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'kind', m.kind, 'channel', m.channel,
        'recipient', m.recipient, 'subject', m.subject, 'body', m.body,
        'created_at', portal.iso_time(m.created_at),
        'send_at', portal.iso_time(m.send_at),
        'sent_at', portal.iso_time(m.sent_at),
        'cancelled_at', portal.iso_time(m.cancelled_at),
        'cancellable', m.cancelled_at IS NULL AND m.sent_at > now(),
        'request', (SELECT jsonb_build_object('id', r.id,
                                              'reference', r.reference)
                      FROM portal.requests r WHERE r.id = m.request_id),
        'agent', portal.agent_ref(m.agent_id),
        'letter', (SELECT jsonb_build_object(
                              'id', l.id,
                              'printed_at', portal.iso_time(l.printed_at))
                     FROM portal.letters l WHERE l.message_id = m.id),
        'call', (SELECT jsonb_build_object(
                            'id', c.id,
                            'done_at', portal.iso_time(c.done_at))
                   FROM portal.calls c WHERE c.message_id = m.id))
$$;

CREATE FUNCTION portal.agent_request_json(r portal.requests)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT (portal.request_json(r)::jsonb || jsonb_build_object(
        'history', (SELECT jsonb_agg(jsonb_build_object(
                               'at', portal.iso_time(e.at),
                               'from', e.from_state, 'to', e.to_state,
                               'actor', e.actor,
                               'agent', portal.agent_ref(e.agent_id),
                               'motive', e.motive)
                           ORDER BY e.id)
                      FROM portal.request_events e
                     WHERE e.request_id = r.id),
        'account', (SELECT jsonb_build_object(
                               'id', a.id, 'login', a.login,
                               'validated', a.validated,
                               'civility', a.civility,
                               'first_name', a.first_name,
                               'last_name', a.last_name,
                               'birth_date', a.birth_date,
                               'email', a.email, 'phone', a.phone,
                               'address', jsonb_build_object(
                                   'line', a.address_line,
                                   'postcode', a.postcode,
                                   'city', a.city))
                      FROM portal.accounts a WHERE a.id = r.account_id),
        'contact', (SELECT jsonb_build_object(
                               'mode', r.contact_mode,
                               'label',
                               portal.contact_mode_label(r.contact_mode),
                               'channel', c.channel,
                               'recipient', c.recipient)
                      FROM portal.request_channel(r,
                               portal.request_person(r)) c),
        'answers', (SELECT portal.request_answers(
                               p.fields, r.data,
                               (SELECT m.first_name || ' ' || m.last_name
                                  FROM portal.members m
                                 WHERE m.id = r.member_id))
                      FROM portal.procedures p
                     WHERE p.id = r.procedure_id),
        'messages', coalesce((SELECT jsonb_agg(portal.agent_message_json(m)
                                               ORDER BY m.created_at DESC,
                                                        m.id DESC)
                                FROM portal.messages m
                               WHERE m.request_id = r.id), '[]'),
        'transitions', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'to', t.to_state, 'label', s.label,
                       'motive_required', t.motive_required)
                   ORDER BY s.position)
              FROM portal.request_transitions t
              JOIN portal.request_states s ON s.state = t.to_state
             WHERE t.from_state = r.state AND t.actor = 'agent'), '[]')
    ))::json
$$;


-- ----------------------------------------------------------- the queue

-- "2026-123" and "2026-000123" are the same reference.
CREATE FUNCTION portal.reference_normal(p text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p ~ '^[0-9]{4}-[0-9]{1,9}$'
                THEN split_part(p, '-', 1) || '-'
                     || lpad(ltrim(split_part(p, '-', 2), '0'),
                             greatest(6, length(ltrim(split_part(p, '-', 2),
                                                      '0'))), '0')
           END
$$;

-- The page is found with a statement made of fixed pieces, chosen by the
-- filters present (values go as parameters, never into the text), so
-- that each call is planned for its own filters and values (sql/011).
-- The page's JSON is made by one plan kept for every call: left to
-- choose, the plan cache planned its six-table join again for each page
-- of a few rows, which cost more than the page.  Making the JSON is most
-- of a page's work: the procedures' and themes' objects, the same for
-- many items, are made once per page (a dozen), not once per item.
CREATE FUNCTION portal.agent_requests(p_agent uuid, p_state text,
                                      p_procedure text, p_theme text,
                                      p_q text, p_page text,
                                      p_limit integer)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    a        portal.agents := portal.agent_active(p_agent);
    k        record := portal.page_parse(p_page);
    n        integer := portal.page_limit(p_limit);
    procs    integer[] := portal.agent_procedures(a);
    q        text := portal.trimmed(p_q);
    ref      text;
    name     text;
    conds    text := '';
    sql      text;
    ids      uuid[];
BEGIN
    IF p_state IS NOT NULL THEN
        IF p_state = 'brouillon' OR NOT EXISTS (
               SELECT 1 FROM portal.request_states WHERE state = p_state)
        THEN
            RAISE EXCEPTION 'no state % for agents', p_state
                  USING CONSTRAINT = 'agent_queue_state';
        END IF;
        conds := conds || ' AND r.state = $1';
    END IF;

    IF p_procedure IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM portal.procedures
                        WHERE slug = p_procedure) THEN
            RAISE EXCEPTION 'no procedure %', p_procedure
                  USING CONSTRAINT = 'agent_queue_procedure';
        END IF;
        procs := ARRAY(SELECT id FROM portal.procedures
                        WHERE slug = p_procedure
                          AND (procs IS NULL OR id = ANY (procs)));
    END IF;

    IF p_theme IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM portal.themes WHERE slug = p_theme) THEN
            RAISE EXCEPTION 'no theme %', p_theme
                  USING CONSTRAINT = 'agent_queue_theme';
        END IF;
        procs := ARRAY(SELECT p.id FROM portal.procedures p
                         JOIN portal.themes t ON t.id = p.theme_id
                        WHERE t.slug = p_theme
                          AND (procs IS NULL OR p.id = ANY (procs)));
    END IF;

    IF procs IS NOT NULL THEN
        IF cardinality(procs) = 0 THEN
            RETURN '[]';
        END IF;
        conds := conds || ' AND r.procedure_id = ANY ($2)';
    END IF;

    IF q IS NOT NULL THEN
        IF length(q) NOT BETWEEN 2 AND 100 THEN
            RAISE EXCEPTION 'a search of % characters', length(q)
                  USING CONSTRAINT = 'agent_queue_q';
        END IF;
        ref := portal.reference_normal(q);

        IF ref IS NOT NULL THEN
            conds := conds || ' AND r.reference = $3';
        ELSE
            name := '%' || replace(replace(replace(portal_internal.fold(q),
                                '\', '\\'), '%', '\%'), '_', '\_') || '%';
            conds := conds || ' AND r.search_name LIKE $4';
        END IF;
    END IF;

    IF k.at IS NOT NULL THEN
        conds := conds || ' AND (r.queue_at, r.id) < ($5, $6)';
    END IF;

    -- Planned with its values, for its filters: the newest first along
    -- one of the indexes requests_queue*, the filters read in the index
    -- (a common name as well); a rare name through requests_name_search,
    -- then sorted.  The planner chooses from the name's statistics.
    EXECUTE 'SELECT array_agg(id) FROM (SELECT r.id FROM portal.requests r'
            ' WHERE r.state <> ''brouillon''' || conds
            || ' ORDER BY r.queue_at DESC, r.id DESC LIMIT $7) page'
       INTO ids
      USING p_state, procs, ref, name, k.at, k.id, n;

    RETURN (
        WITH pt AS MATERIALIZED (
            SELECT p.id,
                   json_build_object('slug', p.slug, 'title', p.title)
                       AS procedure,
                   json_build_object('slug', t.slug, 'title', t.title)
                       AS theme
              FROM portal.procedures p
              JOIN portal.themes t ON t.id = p.theme_id)
        SELECT coalesce(json_agg(json_build_object(
                   'id', r.id, 'reference', r.reference,
                   'procedure', pt.procedure, 'theme', pt.theme,
                   'state', r.state, 'state_label', s.label,
                   'applicant', json_build_object(
                       'name', coalesce(c.first_name || ' ' || c.last_name,
                                        (r.applicant->>'first_name') || ' '
                                        || (r.applicant->>'last_name')),
                       'login', c.login),
                   'contact_mode', r.contact_mode,
                   'member', CASE WHEN m.id IS NOT NULL
                                  THEN json_build_object(
                                      'name', m.first_name || ' '
                                              || m.last_name) END,
                   'submitted_at', portal.iso_time(r.submitted_at),
                   'updated_at', portal.iso_time(r.updated_at),
                   'cursor', portal.page_key(r.queue_at, r.id))
                   ORDER BY r.queue_at DESC, r.id DESC), '[]')
          FROM portal.requests r
          JOIN pt ON pt.id = r.procedure_id
          JOIN portal.request_states s ON s.state = r.state
          LEFT JOIN portal.accounts c ON c.id = r.account_id
          LEFT JOIN portal.members m ON m.id = r.member_id
         WHERE r.id = ANY (ids));
END
$$;


-- ------------------------------------------------------- one request

CREATE FUNCTION portal.agent_request(p_agent uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    r  portal.requests := portal.agent_request_row(a, p_id, false);
BEGIN
    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    PERFORM portal.audit(a.id, 'request_read', r.account_id, r.id);
    RETURN portal.agent_request_json(r);
END
$$;

CREATE FUNCTION portal.agent_request_transition(p_agent uuid, p_id uuid,
                                                p_to text, p_from text,
                                                p_motive text,
                                                p_message text, p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a       portal.agents := portal.agent_active(p_agent);
    r       portal.requests;
    t       portal.request_transitions;
    motive  text := portal.trimmed(p_motive);
    mail    record;
BEGIN
    -- the row lock orders agents acting at once: the second sees the
    -- state the first left
    r := portal.agent_request_row(a, p_id, true);

    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_to IS NULL OR NOT EXISTS (SELECT 1 FROM portal.request_states
                                    WHERE state = p_to) THEN
        RAISE EXCEPTION 'no state %', p_to
              USING CONSTRAINT = 'request_transition_to';
    END IF;

    IF p_from IS NOT NULL AND p_from <> r.state THEN
        RAISE EXCEPTION 'request % is % now, not %', r.reference, r.state,
                        p_from
              USING CONSTRAINT = 'request_state';
    END IF;

    SELECT * INTO t FROM portal.request_transitions
     WHERE from_state = r.state AND to_state = p_to AND actor = 'agent';

    IF NOT FOUND THEN
        RAISE EXCEPTION 'request % may not go from % to %', r.reference,
                        r.state, p_to
              USING CONSTRAINT = 'request_transition';
    END IF;

    IF t.motive_required AND motive IS NULL THEN
        RAISE EXCEPTION 'a move to % needs a motive', p_to
              USING CONSTRAINT = 'request_motive';
    END IF;

    INSERT INTO portal.request_events (request_id, from_state, to_state,
                                       actor, agent_id, motive)
    VALUES (r.id, r.state, p_to, 'agent', a.id, motive);

    PERFORM portal.audit(a.id, 'request_transition', r.account_id, r.id,
                         jsonb_build_object('from', r.state, 'to', p_to));

    UPDATE portal.requests SET state = p_to, updated_at = now()
     WHERE id = r.id
    RETURNING * INTO r;

    mail := portal.agent_state_mail(r, p_to, motive, p_message,
                                    (portal.request_channel(
                                         r, portal.request_person(r)))
                                        .channel);
    PERFORM portal.agent_notify(r, a.id, mail.kind, mail.subject, mail.body,
                                p_url);

    RETURN portal.agent_request_json(r);
END
$$;

CREATE FUNCTION portal.agent_request_document(p_agent uuid,
                                              p_request uuid,
                                              p_document uuid,
                                              p_first integer DEFAULT 0,
                                              p_count integer DEFAULT NULL)
RETURNS TABLE (n integer, data bytea, content_type text, filename text,
               size bigint, chunks integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    r  portal.requests := portal.agent_request_row(a, p_request, false);
BEGIN
    IF r.id IS NULL THEN
        RETURN;
    END IF;

    RETURN QUERY
        SELECT c.n, c.data, d.content_type, d.filename, d.size, d.chunks
          FROM portal.request_documents d
          JOIN portal.request_document_chunks c ON c.document_id = d.id
         WHERE d.id = p_document AND d.request_id = r.id
           AND d.state = 'complete'
           AND c.n >= coalesce(p_first, 0)
           AND (p_count IS NULL OR c.n < coalesce(p_first, 0) + p_count)
         ORDER BY c.n;

    IF FOUND AND coalesce(p_first, 0) = 0 THEN
        PERFORM portal.audit(a.id, 'request_document_read', r.account_id,
                             r.id, jsonb_build_object('document',
                                                      p_document));
    END IF;
END
$$;
