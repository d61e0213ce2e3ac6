-- The audit log as the module writes and reads it: from where an agent's
-- statement comes, and what agents read or did (admins only).
--
-- Contract (see 100_agents.sql for the conventions and agent_session):
--
-- agent_at(p_agent uuid, p_addr text) -> uuid
--     The module's every agent statement passes the agent as
--     portal.agent_at($agent, $address): p_agent comes back as it is, and
--     the client's address (nginx's, as text) is kept for the transaction
--     in the setting portal.agent_addr, which portal.audit() writes in
--     audit_log.client_addr (NULL when p_addr is no IP address: a unix
--     socket).  Arguments are evaluated before the function that takes
--     them, so the setting is there before the agent's function runs.
-- agent_audit(p_agent uuid, p_agent_filter uuid, p_account uuid,
--             p_request uuid, p_page text, p_limit integer) -> json
--     (admin)  GET audit?agent=&account=&request=&page=&limit=: newest
--     first, p_limit (1..200, 50 unless told) from the key p_page (the
--     cursor of the last item seen); filters NULL for none:
--     [{id, at, action, agent: {id, login, name}, account_id | null,
--       request_id | null, detail | null, client_addr | null, cursor}]
--
-- Raised:
--   agent_role   [403] an instructeur
--   agent_page   [400] a cursor this function did not give


CREATE FUNCTION portal.agent_at(p_agent uuid, p_addr text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    addr  inet;
BEGIN
    BEGIN
        addr := p_addr::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        addr := NULL;
    END;

    PERFORM set_config('portal.agent_addr', coalesce(host(addr), ''), true);
    RETURN p_agent;
END
$$;


CREATE FUNCTION portal.agent_audit(p_agent uuid, p_agent_filter uuid,
                                   p_account uuid, p_request uuid,
                                   p_page text, p_limit integer)
RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    after  bigint;
    res    json;
BEGIN
    PERFORM portal.agent_admin(p_agent);

    after := portal.page_id(p_page);

    SELECT coalesce(json_agg(json_build_object(
               'id', l.id, 'at', l.at, 'action', l.action,
               'agent', portal.agent_ref(l.agent_id),
               'account_id', l.account_id, 'request_id', l.request_id,
               'detail', l.detail, 'client_addr', host(l.client_addr),
               'cursor', l.id::text) ORDER BY l.id DESC), '[]')
      INTO res
      FROM (SELECT * FROM portal.audit_log a
             WHERE (p_agent_filter IS NULL OR a.agent_id = p_agent_filter)
               AND (p_account IS NULL OR a.account_id = p_account)
               AND (p_request IS NULL OR a.request_id = p_request)
               AND (after IS NULL OR a.id < after)
             ORDER BY a.id DESC
             LIMIT portal.page_limit(p_limit)) l;

    RETURN res;
END
$$;
