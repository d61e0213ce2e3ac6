-- The role nginx connects as may call the functions meant for it, those
-- that run as their owner (SECURITY DEFINER), and nothing else.

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
