-- Least privilege.  The schema, its tables and its functions belong to
-- portal_owner, a role nobody logs in as; nginx connects as "portal",
-- which may only call the functions of sql/functions/ that are granted to
-- it (SECURITY DEFINER, with a fixed search_path).  A flaw in the module
-- can then neither read a table directly nor create, alter or drop one.
--
-- Functions no longer live in numbered migrations: ci/pg migrate drops and
-- re-creates them all from sql/functions/ whenever those files change.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_owner') THEN
        CREATE ROLE portal_owner NOLOGIN;
    END IF;
END
$$;

ALTER SCHEMA portal OWNER TO portal_owner;

DO $$
DECLARE
    t  record;
BEGIN
    FOR t IN SELECT c.oid::regclass AS name
               FROM pg_class c
              WHERE c.relnamespace = 'portal'::regnamespace
                AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO portal_owner', t.name);
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA portal FROM portal;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA portal FROM portal;
REVOKE ALL ON SCHEMA portal FROM PUBLIC;
GRANT USAGE ON SCHEMA portal TO portal;

-- PostgreSQL 15 already keeps PUBLIC from creating in schema public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

ALTER TABLE schema_migrations OWNER TO portal_owner;
GRANT SELECT ON schema_migrations TO portal;
