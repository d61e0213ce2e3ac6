-- The role nginx connects as may call the functions meant for it, those
-- that run as their owner (SECURITY DEFINER), and nothing else: helpers
-- (JSON of a row, mail text, checks of a request) and the bench's seed
-- are SECURITY INVOKER, so they stay out of its reach, and so does schema
-- portal_internal (no USAGE).

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA portal FROM PUBLIC;

DO $$
DECLARE
    f  record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS name
               FROM pg_proc p
              WHERE p.pronamespace = 'portal'::regnamespace AND p.prosecdef
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO portal', f.name);
    END LOOP;
END
$$;

-- portal.validate_account() is the tests' and operators' (psql, as the
-- owner): the agents' API validates with agent_account_validate(), which
-- checks the agent and writes the audit log.
REVOKE EXECUTE ON FUNCTION portal.validate_account(uuid, text) FROM portal;
