-- GET me/requests, the list that every visit of a citizen's pages asks
-- for first, reads each request's entry as it was written, not as it
-- would be built again at each read.  Built at each read, from the
-- procedure's title, the state's label and the member's name, escaped
-- and formatted for 20 rows, it took about 200 us of the backend a call,
-- most of the statement's cost; read, it takes a few.
--
-- list_head  the entry's JSON without its times and its closing brace:
--            {"id" : ..., "reference" : ..., "procedure" : {"slug" : ...,
--            "title" : ...}, "state" : ..., "state_label" : ..., "member" :
--            {"id" : ..., "name" : ...} or null, "editable" : ..., "pdf" :
--            ..., and a trailing space.  portal.me_requests() adds
--            created_at, updated_at and submitted_at: formatted at the
--            read, in the reader's time zone, as everywhere else.
--
-- Triggers keep it so: as a request is made, moves to another state,
-- changes procedure or member; and on the rows it names, as a member is
-- renamed or leaves the household (the request's member becomes NULL
-- through the foreign key, an UPDATE like another), a procedure is
-- renamed, a state relabelled.  The entry is checked as JSON as it is
-- written, so that the read need not check it again.  The functions and
-- the triggers live in portal_internal (see sql/011_work_queue.sql);
-- they fire always, the bench's seed too.

SET LOCAL ROLE portal_owner;

ALTER TABLE portal.requests ADD COLUMN list_head text;

CREATE FUNCTION portal_internal.request_list_head(p_id uuid,
    p_reference text, p_procedure integer, p_state text, p_member uuid)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    head  text;
BEGIN
    SELECT format('{"id" : "%s", "reference" : "%s", "procedure" : '
                  '{"slug" : "%s", "title" : %s}, "state" : "%s", '
                  '"state_label" : %s, "member" : %s, %s, ',
                  p_id, p_reference, p.slug, to_json(p.title), p_state,
                  to_json(s.label),
                  coalesce((SELECT format('{"id" : "%s", "name" : %s}',
                                          m.id,
                                          to_json(m.first_name || ' '
                                                  || m.last_name))
                              FROM portal.members m
                             WHERE m.id = p_member), 'null'),
                  CASE WHEN s.editable
                       THEN '"editable" : true, "pdf" : false'
                       ELSE '"editable" : false, "pdf" : true' END)
      INTO head
      FROM portal.procedures p, portal.request_states s
     WHERE p.id = p_procedure AND s.state = p_state;

    -- the whole entry, as the read will close it, must be JSON
    PERFORM (head || '"created_at" : null}')::json;
    RETURN head;
END
$$;

CREATE FUNCTION portal_internal.request_list_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.list_head := portal_internal.request_list_head(NEW.id,
        NEW.reference, NEW.procedure_id, NEW.state, NEW.member_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER requests_list_head
    BEFORE INSERT OR UPDATE OF id, reference, procedure_id, state, member_id,
                               list_head
    ON portal.requests
    FOR EACH ROW EXECUTE FUNCTION portal_internal.request_list_row();
ALTER TABLE portal.requests ENABLE ALWAYS TRIGGER requests_list_head;

-- What a request's entry names, changed: the entries that name it are
-- written again (the trigger above does it, on list_head's UPDATE).
CREATE FUNCTION portal_internal.request_list_named()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'members' THEN
        UPDATE portal.requests SET list_head = NULL
         WHERE member_id = NEW.id;
    ELSIF TG_TABLE_NAME = 'procedures' THEN
        UPDATE portal.requests SET list_head = NULL
         WHERE procedure_id = NEW.id;
    ELSE
        UPDATE portal.requests SET list_head = NULL
         WHERE state = NEW.state;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER members_list_head
    AFTER UPDATE OF first_name, last_name ON portal.members
    FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
          OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION portal_internal.request_list_named();
ALTER TABLE portal.members ENABLE ALWAYS TRIGGER members_list_head;

CREATE TRIGGER procedures_list_head
    AFTER UPDATE OF slug, title ON portal.procedures
    FOR EACH ROW
    WHEN (OLD.slug IS DISTINCT FROM NEW.slug
          OR OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION portal_internal.request_list_named();
ALTER TABLE portal.procedures ENABLE ALWAYS TRIGGER procedures_list_head;

CREATE TRIGGER request_states_list_head
    AFTER UPDATE OF label, editable ON portal.request_states
    FOR EACH ROW
    WHEN (OLD.label IS DISTINCT FROM NEW.label
          OR OLD.editable IS DISTINCT FROM NEW.editable)
    EXECUTE FUNCTION portal_internal.request_list_named();
ALTER TABLE portal.request_states
    ENABLE ALWAYS TRIGGER request_states_list_head;

-- the requests already there
UPDATE portal.requests SET list_head = NULL;

ALTER TABLE portal.requests ALTER COLUMN list_head SET NOT NULL;
