-- Agents writing to citizens about a request (an information, which may
-- wait for a day to come, or a decision with its motive), the letters to
-- print and the calls to make for those who chose the post or the phone,
-- and the mail the outbox could not deliver.
--
-- A message goes on the request's contact mode (105_agent_mail.sql): by
-- e-mail through the outbox, due at its time; by post as a letter, by
-- phone as a call, listed for agents once due.  The citizen sees it in
-- GET me/messages once it has gone (me_messages() shows a message whose
-- send_at has come, and never a cancelled one).  A scheduled message may
-- be cancelled until its time: the cancellation and the outbox's lease
-- take the same row lock, so exactly one of them happens.
--
-- Contract (see 100_agents.sql for the conventions and agent_session):
--
-- A message's JSON ("message" below):
--   {id, kind, channel, recipient, subject, body, created_at,
--    send_at | null, sent_at, cancelled_at | null, cancellable,
--    request: {id, reference}, agent: {id, login, name} | null,
--    letter: {id, printed_at | null} | null,
--    call: {id, done_at | null} | null}
--   sent_at is when it goes (now, or send_at); cancellable while that is
--   to come.
--
-- agent_message_send(p_agent uuid, p_request uuid, p_kind text,
--                p_body text, p_motive text, p_send_at timestamptz,
--                p_url text) -> message | NULL   [201]
--     POST requests/{id}/messages {"kind", "body", "motive"?,
--     "send_at"?}: kind information (may be scheduled: p_send_at within
--     a year; NULL or past: now) or decision (now, with an optional
--     motive).  NULL: no such request for this agent.  Writes the audit
--     row "message_send" {message, kind}.
-- agent_message_cancel(p_agent uuid, p_id uuid) -> message | NULL
--     DELETE messages/{id}: a scheduled message that has not gone; its
--     mail, letter or call goes with it.
-- agent_letters(p_agent uuid, p_printed boolean, p_page text,
--                p_limit integer) -> json
--     GET letters: p_printed false (or NULL): those due and not printed,
--     oldest first, to print; true: those printed, newest first.
--     [{id, due_at, printed_at | null, printed_by: {id, login, name}
--       | null, recipient (the address, lines), subject, body,
--       request: {id, reference}, message_id, cursor}]
-- agent_letter(p_agent uuid, p_id uuid) -> json | NULL
--     GET letters/{id} and letters/{id}.pdf: one letter as the list gives
--     it, with what a printed page needs: date_text ("12 mars 2026"),
--     recipient_lines: [...].  It shows a citizen's name, address and
--     message: writes the audit row "letter_read" {letter}.
-- agent_letter_printed(p_agent uuid, p_id uuid) -> json | NULL
--     POST letters/{id}/printed: agent_letter()'s JSON, printed; the
--     audit row "letter_printed" {letter}.
-- agent_calls(p_agent uuid, p_done boolean, p_page text, p_limit integer)
--     -> json
--     GET calls: p_done false (or NULL): those due and not made, oldest
--     first; true: those made, newest first.
--     [{id, due_at, done_at | null, done_by | null, note | null,
--       name, phone, subject, body, request: {id, reference},
--       message_id, cursor}]
-- agent_call_done(p_agent uuid, p_id uuid, p_note text) -> json | NULL
--     POST calls/{id}/done {"note"?}: the call as listed, made; the
--     audit row "call_done" {call}.
-- agent_outbox(p_agent uuid, p_state text, p_page text, p_limit integer)
--     -> json    (admin)
--     GET outbox?state=failed (or pending, sent): newest first
--     [{id, recipient, subject, state, attempts, last_error,
--       created_at, next_attempt_at, sent_at, request: {id, reference}
--       | null, cursor}]; never a body (some held a temporary password).
-- agent_outbox_retry(p_agent uuid, p_id bigint) -> json | NULL  (admin)
--     POST outbox/{id}/retry: a failed mail is tried again at once,
--     with its attempts counted from 0; the item as listed.
--
-- Raised:
--   agent_page           [400] a cursor this function did not give
--   message_kind         [422, field kind] not information or decision
--   message_body         [422, field body] empty, or over 5000
--                        characters
--   message_send_at      [422, field send_at] a decision scheduled, or
--                        more than a year ahead
--   message_sent         [409] gone already, or cancelled, or never
--                        scheduled
--   letter_printed       [409] printed already
--   call_done            [409] made already
--   calls_note_check (23514) [422, field note] over 500 characters
--   agent_filter         [422, field state] not failed, pending or sent
--   outbox_state         [409] the mail has not failed
--   agent_role           [403] the outbox is an admin's


-- ------------------------------------------------------------ messages

CREATE FUNCTION portal.agent_message_send(p_agent uuid, p_request uuid,
                                          p_kind text, p_body text,
                                          p_motive text,
                                          p_send_at timestamptz,
                                          p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a     portal.agents := portal.agent_active(p_agent);
    r     portal.requests;
    mail  record;
    m     portal.messages;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('information', 'decision') THEN
        RAISE EXCEPTION 'no kind of message %', p_kind
              USING CONSTRAINT = 'message_kind';
    END IF;

    IF coalesce(length(portal.trimmed(p_body)), 0) NOT BETWEEN 1 AND 5000
    THEN
        RAISE EXCEPTION 'a message of % characters',
                        coalesce(length(portal.trimmed(p_body)), 0)
              USING CONSTRAINT = 'message_body';
    END IF;

    IF p_send_at > now() AND (p_kind = 'decision'
                              OR p_send_at > now() + interval '1 year')
    THEN
        RAISE EXCEPTION 'a % may not wait until %', p_kind, p_send_at
              USING CONSTRAINT = 'message_send_at';
    END IF;

    r := portal.agent_request_row(a, p_request, false);

    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    mail := portal.agent_message_mail(r, p_kind, p_body, p_motive,
                                      (portal.request_channel(
                                           r, portal.request_person(r)))
                                          .channel);
    m := portal.agent_notify(r, a.id, p_kind, mail.subject, mail.body,
                             p_url, p_send_at);

    PERFORM portal.audit(a.id, 'message_send', r.account_id, r.id,
                         jsonb_build_object('message', m.id, 'kind', p_kind));

    RETURN portal.agent_message_json(m)::json;
END
$$;

CREATE FUNCTION portal.agent_message_cancel(p_agent uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    m  portal.messages;
    r  portal.requests;
BEGIN
    SELECT * INTO m FROM portal.messages WHERE id = p_id FOR UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    r := portal.agent_request_row(a, m.request_id, false);

    IF r.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF m.cancelled_at IS NOT NULL OR m.send_at IS NULL
       OR m.sent_at <= now()
    THEN
        RAISE EXCEPTION 'message % is gone', m.id
              USING CONSTRAINT = 'message_sent';
    END IF;

    -- a mail the outbox has taken is gone: its lease holds the row until
    -- it is settled, and counts an attempt
    IF m.outbox_id IS NOT NULL THEN
        DELETE FROM portal.outbox
         WHERE id = m.outbox_id AND state = 'pending' AND attempts = 0;

        IF NOT FOUND THEN
            RAISE EXCEPTION 'message % is gone', m.id
                  USING CONSTRAINT = 'message_sent';
        END IF;
    END IF;

    DELETE FROM portal.letters WHERE message_id = m.id;
    DELETE FROM portal.calls WHERE message_id = m.id;

    UPDATE portal.messages SET cancelled_at = now() WHERE id = m.id
    RETURNING * INTO m;

    PERFORM portal.audit(a.id, 'message_cancel', r.account_id, r.id,
                         jsonb_build_object('message', m.id));
    RETURN portal.agent_message_json(m)::json;
END
$$;


-- ----------------------------------------------------- letters, calls

-- Whether agent a may see what was sent about request p_request (what
-- belongs to no request, an admin only).
CREATE FUNCTION portal.agent_sees_message(a portal.agents,
                                          p_request uuid)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT portal.agent_sees(a, r.procedure_id)
                       FROM portal.requests r WHERE r.id = p_request),
                    a.role = 'admin')
$$;

CREATE FUNCTION portal.letter_json(l portal.letters)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', l.id, 'message_id', m.id,
        'due_at', portal.iso_time(l.due_at),
        'printed_at', portal.iso_time(l.printed_at),
        'printed_by', portal.agent_ref(l.printed_by),
        'recipient', m.recipient, 'subject', m.subject, 'body', m.body,
        'request', (SELECT jsonb_build_object('id', r.id,
                                              'reference', r.reference)
                      FROM portal.requests r WHERE r.id = m.request_id),
        'cursor', portal.page_key(coalesce(l.printed_at, l.due_at), l.id))
      FROM portal.messages m WHERE m.id = l.message_id
$$;

CREATE FUNCTION portal.agent_letters(p_agent uuid, p_printed boolean,
                                     p_page text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    k  record := portal.page_parse(p_page);
    n  integer := portal.page_limit(p_limit);
BEGIN
    IF coalesce(p_printed, false) THEN
        RETURN (
            SELECT coalesce(json_agg(portal.letter_json(l)
                                     ORDER BY l.printed_at DESC, l.id DESC),
                            '[]')
              FROM (SELECT l.* FROM portal.letters l
                      JOIN portal.messages m ON m.id = l.message_id
                     WHERE l.printed_at IS NOT NULL
                       AND (k.at IS NULL
                            OR (l.printed_at, l.id) < (k.at, k.id))
                       AND portal.agent_sees_message(a, m.request_id)
                     ORDER BY l.printed_at DESC, l.id DESC
                     LIMIT n) l);
    END IF;

    RETURN (
        SELECT coalesce(json_agg(portal.letter_json(l)
                                 ORDER BY l.due_at, l.id), '[]')
          FROM (SELECT l.* FROM portal.letters l
                  JOIN portal.messages m ON m.id = l.message_id
                 WHERE l.printed_at IS NULL AND l.due_at <= now()
                   AND (k.at IS NULL OR (l.due_at, l.id) > (k.at, k.id))
                   AND portal.agent_sees_message(a, m.request_id)
                 ORDER BY l.due_at, l.id
                 LIMIT n) l);
END
$$;

-- A letter due, that agent a may see, locked when p_lock.
CREATE FUNCTION portal.agent_letter_row(a portal.agents, p_id uuid,
                                        p_lock boolean)
RETURNS portal.letters
LANGUAGE plpgsql
AS $$
DECLARE
    l  portal.letters;
BEGIN
    IF p_lock THEN
        SELECT * INTO l FROM portal.letters
         WHERE id = p_id AND due_at <= now() FOR UPDATE;
    ELSE
        SELECT * INTO l FROM portal.letters
         WHERE id = p_id AND due_at <= now();
    END IF;

    IF NOT FOUND OR NOT portal.agent_sees_message(a,
           (SELECT request_id FROM portal.messages
             WHERE id = l.message_id))
    THEN
        RETURN NULL;
    END IF;
    RETURN l;
END
$$;

CREATE FUNCTION portal.agent_letter_full(l portal.letters)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT (portal.letter_json(l) || jsonb_build_object(
        'date_text', portal.french_date((l.due_at AT TIME ZONE
                                         portal.town_zone())::date),
        'recipient_lines', to_jsonb(string_to_array(m.recipient, E'\n'))))
        ::json
      FROM portal.messages m WHERE m.id = l.message_id
$$;

CREATE FUNCTION portal.agent_letter(p_agent uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    l  portal.letters := portal.agent_letter_row(a, p_id, false);
BEGIN
    IF l.id IS NULL THEN
        RETURN NULL;
    END IF;

    PERFORM portal.audit_message(a.id, 'letter_read', l.message_id,
                                 jsonb_build_object('letter', l.id));
    RETURN portal.agent_letter_full(l);
END
$$;

CREATE FUNCTION portal.agent_letter_printed(p_agent uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    l  portal.letters := portal.agent_letter_row(a, p_id, true);
BEGIN
    IF l.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF l.printed_at IS NOT NULL THEN
        RAISE EXCEPTION 'letter % is printed already', l.id
              USING CONSTRAINT = 'letter_printed';
    END IF;

    UPDATE portal.letters SET printed_at = now(), printed_by = a.id
     WHERE id = l.id
    RETURNING * INTO l;

    PERFORM portal.audit_message(a.id, 'letter_printed', l.message_id,
                                 jsonb_build_object('letter', l.id));

    RETURN portal.agent_letter_full(l);
END
$$;

CREATE FUNCTION portal.call_json(c portal.calls)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'message_id', m.id,
        'due_at', portal.iso_time(c.due_at),
        'done_at', portal.iso_time(c.done_at),
        'done_by', portal.agent_ref(c.done_by), 'note', c.note,
        'name', portal.request_applicant_name(r), 'phone', m.recipient,
        'subject', m.subject, 'body', m.body,
        'request', jsonb_build_object('id', r.id, 'reference', r.reference),
        'cursor', portal.page_key(coalesce(c.done_at, c.due_at), c.id))
      FROM portal.messages m
      LEFT JOIN portal.requests r ON r.id = m.request_id
     WHERE m.id = c.message_id
$$;

CREATE FUNCTION portal.agent_calls(p_agent uuid, p_done boolean,
                                   p_page text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    k  record := portal.page_parse(p_page);
    n  integer := portal.page_limit(p_limit);
BEGIN
    IF coalesce(p_done, false) THEN
        RETURN (
            SELECT coalesce(json_agg(portal.call_json(c)
                                     ORDER BY c.done_at DESC, c.id DESC),
                            '[]')
              FROM (SELECT c.* FROM portal.calls c
                      JOIN portal.messages m ON m.id = c.message_id
                     WHERE c.done_at IS NOT NULL
                       AND (k.at IS NULL
                            OR (c.done_at, c.id) < (k.at, k.id))
                       AND portal.agent_sees_message(a, m.request_id)
                     ORDER BY c.done_at DESC, c.id DESC
                     LIMIT n) c);
    END IF;

    RETURN (
        SELECT coalesce(json_agg(portal.call_json(c)
                                 ORDER BY c.due_at, c.id), '[]')
          FROM (SELECT c.* FROM portal.calls c
                  JOIN portal.messages m ON m.id = c.message_id
                 WHERE c.done_at IS NULL AND c.due_at <= now()
                   AND (k.at IS NULL OR (c.due_at, c.id) > (k.at, k.id))
                   AND portal.agent_sees_message(a, m.request_id)
                 ORDER BY c.due_at, c.id
                 LIMIT n) c);
END
$$;

CREATE FUNCTION portal.agent_call_done(p_agent uuid, p_id uuid,
                                       p_note text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    c  portal.calls;
BEGIN
    SELECT * INTO c FROM portal.calls
     WHERE id = p_id AND due_at <= now() FOR UPDATE;

    IF NOT FOUND OR NOT portal.agent_sees_message(a,
           (SELECT request_id FROM portal.messages
             WHERE id = c.message_id))
    THEN
        RETURN NULL;
    END IF;

    IF c.done_at IS NOT NULL THEN
        RAISE EXCEPTION 'call % is made already', c.id
              USING CONSTRAINT = 'call_done';
    END IF;

    UPDATE portal.calls
       SET done_at = now(), done_by = a.id, note = portal.trimmed(p_note)
     WHERE id = c.id
    RETURNING * INTO c;

    PERFORM portal.audit_message(a.id, 'call_done', c.message_id,
                                 jsonb_build_object('call', c.id));

    RETURN portal.call_json(c)::json;
END
$$;


-- -------------------------------------------------------------- outbox

CREATE FUNCTION portal.outbox_json(o portal.outbox)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', o.id, 'recipient', o.recipient, 'subject', o.subject,
        'state', o.state, 'attempts', o.attempts,
        'last_error', o.last_error,
        'created_at', portal.iso_time(o.created_at),
        'next_attempt_at', portal.iso_time(o.next_attempt_at),
        'sent_at', portal.iso_time(o.sent_at),
        'request', (SELECT jsonb_build_object('id', r.id,
                                              'reference', r.reference)
                      FROM portal.messages m
                      JOIN portal.requests r ON r.id = m.request_id
                     WHERE m.outbox_id = o.id
                     LIMIT 1),
        'cursor', o.id::text)
$$;

CREATE FUNCTION portal.agent_outbox(p_agent uuid, p_state text,
                                    p_page text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a       portal.agents := portal.agent_admin(p_agent);
    wanted  text := coalesce(p_state, 'failed');
    after   bigint;
BEGIN
    IF wanted NOT IN ('failed', 'pending', 'sent') THEN
        RAISE EXCEPTION 'no state % of mail', p_state
              USING CONSTRAINT = 'agent_filter';
    END IF;

    after := portal.page_id(p_page);

    RETURN (
        SELECT coalesce(json_agg(portal.outbox_json(o) ORDER BY o.id DESC),
                        '[]')
          FROM (SELECT * FROM portal.outbox o
                 WHERE o.state = wanted
                   AND (after IS NULL OR o.id < after)
                 ORDER BY o.id DESC
                 LIMIT portal.page_limit(p_limit)) o);
END
$$;

CREATE FUNCTION portal.agent_outbox_retry(p_agent uuid, p_id bigint)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_admin(p_agent);
    o  portal.outbox;
BEGIN
    SELECT * INTO o FROM portal.outbox WHERE id = p_id FOR UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF o.state <> 'failed' THEN
        RAISE EXCEPTION 'mail % is %', o.id, o.state
              USING CONSTRAINT = 'outbox_state';
    END IF;

    UPDATE portal.outbox
       SET state = 'pending', attempts = 0, next_attempt_at = now(),
           lease_until = NULL
     WHERE id = o.id
    RETURNING * INTO o;

    PERFORM portal.audit(a.id, 'outbox_retry', o.account_id, NULL,
                         jsonb_build_object('outbox', o.id));
    RETURN portal.outbox_json(o)::json;
END
$$;
