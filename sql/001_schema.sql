-- The portal's own schema and the role nginx connects as.  The role is
-- cluster-wide, so it is created only when missing (databases cloned from
-- a template run this file again).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal') THEN
        CREATE ROLE portal LOGIN;
    END IF;
END
$$;

CREATE SCHEMA portal AUTHORIZATION portal;

GRANT SELECT ON schema_migrations TO portal;

-- One real round trip for GET /api/health: it proves that the connection
-- works and that the schema is the portal's.
CREATE FUNCTION portal.health() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT 'ok'::text $$;

ALTER FUNCTION portal.health() OWNER TO portal;
