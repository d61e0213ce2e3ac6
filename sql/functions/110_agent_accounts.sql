-- The validation of citizens' accounts by agents (any role): the accounts
-- waiting for it, one account read whole (an audit row says who read it,
-- when), its documents, and the validation itself, mailed to the citizen
-- in the same transaction.  From then on the citizen may change the
-- account: the module reads accounts.validated at each request
-- (session_check()), so the next one already may.
--
-- Contract (see 100_agents.sql for the conventions and agent_session):
--
-- agent_accounts(p_agent uuid, p_validated boolean, p_page text,
--                p_limit integer) -> json
--     GET accounts?validated=false: the accounts waiting for validation,
--     newest first, p_limit (1..200, 50 unless told) from the key p_page
--     (NULL: the first page; else the cursor of the last item seen):
--     [{id, login, validated, contact_mode, created_at,
--       holder: {civility, first_name, last_name, birth_date, email,
--                phone, address: {line, postcode, city}},
--       members (how many), documents (how many), cursor}]
--     p_validated must be false (agent_filter [422, field validated]).
-- agent_account(p_agent uuid, p_id uuid) -> json | NULL
--     GET accounts/{id}: me()'s JSON (holder, members, ...) with
--     documents: [{id, kind, filename, content_type, size, sha256,
--     created_at}] and requests: the 20 newest (me_requests()'s items).
--     Writes the audit row "account_read".
-- agent_account_validate(p_agent uuid, p_id uuid, p_url text)
--     -> json | NULL
--     POST accounts/{id}/validate: agent_account()'s JSON, validated;
--     the mail "Votre compte citoyen est validé" queued; audit row
--     "account_validate".  Two agents at once: one validates, the other
--     gets account_validated.
-- agent_account_document(p_agent uuid, p_account uuid, p_id uuid,
--                p_first integer DEFAULT 0, p_count integer DEFAULT NULL)
--     -> TABLE (n integer, data bytea, content_type text, filename text,
--               size bigint, chunks integer)
--     GET accounts/{id}/documents/{doc}: as document_content() (050) for
--     the citizen, a complete document's chunks p_first.. in order; no
--     row: 404.  The first read (p_first 0) writes the audit row
--     "account_document_read".
--
-- Raised:
--   agent_page           [400] a cursor this function did not give
--   agent_filter         [422, field validated]
--   account_validated    [409] validated already


CREATE FUNCTION portal.agent_accounts(p_agent uuid, p_validated boolean,
                                     p_page text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
    k  record := portal.page_parse(p_page);
BEGIN
    IF p_validated IS DISTINCT FROM false THEN
        RAISE EXCEPTION 'only the accounts waiting for validation are'
                        ' listed'
              USING CONSTRAINT = 'agent_filter';
    END IF;

    RETURN (
        SELECT coalesce(json_agg(json_build_object(
                   'id', x.id, 'login', x.login, 'validated', x.validated,
                   'contact_mode', x.contact_mode,
                   'created_at', portal.iso_time(x.created_at),
                   'holder', json_build_object(
                       'civility', x.civility, 'first_name', x.first_name,
                       'last_name', x.last_name, 'birth_date', x.birth_date,
                       'email', x.email, 'phone', x.phone,
                       'address', json_build_object(
                           'line', x.address_line, 'postcode', x.postcode,
                           'city', x.city)),
                   'members', (SELECT count(*) FROM portal.members m
                                WHERE m.account_id = x.id),
                   'documents', (SELECT count(*) FROM portal.documents d
                                  WHERE d.account_id = x.id
                                    AND d.state = 'complete'),
                   'cursor', portal.page_key(x.created_at, x.id))
                   ORDER BY x.created_at DESC, x.id DESC), '[]')
          FROM (SELECT * FROM portal.accounts c
                 WHERE NOT c.validated
                   AND (k.at IS NULL OR (c.created_at, c.id) < (k.at, k.id))
                 ORDER BY c.created_at DESC, c.id DESC
                 LIMIT portal.page_limit(p_limit)) x);
END
$$;


CREATE FUNCTION portal.agent_account_json(p_id uuid)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT (portal.me(p_id)::jsonb || jsonb_build_object(
        'documents', coalesce((SELECT jsonb_agg(portal.document_json(d)
                                                ORDER BY d.created_at,
                                                         d.id)
                                 FROM portal.documents d
                                WHERE d.account_id = p_id
                                  AND d.state = 'complete'), '[]'),
        'requests', portal.me_requests(p_id, 20)::json))::json
$$;

CREATE FUNCTION portal.agent_account(p_agent uuid, p_id uuid)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM portal.accounts WHERE id = p_id) THEN
        RETURN NULL;
    END IF;

    PERFORM portal.audit(a.id, 'account_read', p_id, NULL);
    RETURN portal.agent_account_json(p_id);
END
$$;

CREATE FUNCTION portal.agent_account_validate(p_agent uuid, p_id uuid,
                                              p_url text)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    g  portal.agents := portal.agent_active(p_agent);
    a  portal.accounts;
BEGIN
    -- the row lock orders agents at once: the second finds it validated
    SELECT * INTO a FROM portal.accounts WHERE id = p_id FOR NO KEY UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    IF a.validated THEN
        RAISE EXCEPTION 'account % is validated already', a.login
              USING CONSTRAINT = 'account_validated';
    END IF;

    UPDATE portal.accounts
       SET validated = true, validated_at = now(), updated_at = now()
     WHERE id = p_id
    RETURNING * INTO a;

    PERFORM portal.queue_mail(a, 'Votre compte citoyen est validé',
                              portal.account_validated_text(a), p_url);
    PERFORM portal.audit(g.id, 'account_validate', p_id, NULL);

    RETURN portal.agent_account_json(p_id);
END
$$;

CREATE FUNCTION portal.agent_account_document(p_agent uuid, p_account uuid,
                                              p_id uuid,
                                              p_first integer DEFAULT 0,
                                              p_count integer DEFAULT NULL)
RETURNS TABLE (n integer, data bytea, content_type text, filename text,
               size bigint, chunks integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
BEGIN
    RETURN QUERY
        SELECT c.n, c.data, d.content_type, d.filename, d.size::bigint,
               d.chunks
          FROM portal.documents d
          JOIN portal.document_chunks c ON c.document_id = d.id
         WHERE d.id = p_id AND d.account_id = p_account
           AND d.state = 'complete'
           AND c.n >= coalesce(p_first, 0)
           AND (p_count IS NULL OR c.n < coalesce(p_first, 0) + p_count)
         ORDER BY c.n;

    IF FOUND AND coalesce(p_first, 0) = 0 THEN
        PERFORM portal.audit(a.id, 'account_document_read', p_account,
                             NULL, jsonb_build_object('document', p_id));
    END IF;
END
$$;
