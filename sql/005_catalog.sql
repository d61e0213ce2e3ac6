-- The catalog of online procedures ("démarches"): themes, procedures with
-- their form definition and the documents they ask for, and a version
-- number that every change of the catalog bumps and announces.
--
-- The catalog is read on every visit and changes a few times a year: each
-- nginx worker keeps a copy in memory and refreshes it when PostgreSQL
-- says it changed, by NOTIFY portal_catalog (payload: the new version) or
-- by portal.catalog_version(), one cheap row.  A statement trigger bumps
-- the version, so that no way of changing the catalog (a migration, psql,
-- the agents' functions of later) can forget it.
--
-- A trigger's function, and a function a CHECK constraint calls, cannot
-- live in schema portal: ci/pg migrate drops every function of that schema
-- whenever sql/functions/ changes, which a function that a table depends
-- on would not survive.  They live in schema portal_internal, made by
-- numbered migrations only (a change is a new migration with CREATE OR
-- REPLACE), and the role portal cannot even look into it.

CREATE SCHEMA portal_internal AUTHORIZATION portal_owner;
REVOKE ALL ON SCHEMA portal_internal FROM PUBLIC;

SET LOCAL ROLE portal_owner;


CREATE TABLE portal.themes (
    id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug      text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title     text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    position  integer NOT NULL DEFAULT 0
);


-- A date as the catalog writes it, YYYY-MM-DD, and a real one (PostgreSQL
-- 15 has no pg_input_is_valid()).
CREATE FUNCTION portal_internal.is_date(p text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN to_char(p::date, 'YYYY-MM-DD') = p;
EXCEPTION WHEN others THEN
    RETURN false;
END
$$;


-- A form definition is an array of fields, each exactly as GET
-- procedures/{slug} gives it (see API.md):
--   name        [a-z][a-z0-9_]*, unique in the form: the key in the data
--   label       what the page shows
--   type        text, textarea, date, email, tel, number, select,
--               checkbox, member
--   required    boolean; a required checkbox must be ticked
--   options     select only, required: [{value, label}], values unique
--   min, max    number: numbers; date: a date 'YYYY-MM-DD' or a whole
--               number of days from the day of the request (0 today, 7 a
--               week ahead, -36500 a hundred years ago)
--   max_length  text, textarea, email, tel: the most characters
--   member_kind member only: adult or child (absent: any member)
--   prefill     where a value left out comes from: holder.first_name,
--               holder.last_name, holder.birth_date, holder.email,
--               holder.phone, holder.address ("line, postcode city"),
--               member.first_name, member.last_name, member.birth_date
--               (birth dates into date fields only, and only they)
--   hint        optional help shown under the field
-- A form has one member field at most: it is the request's member_id.
--
-- Raises check_violation with constraint procedures_fields and a message
-- that names the field, so that a bad definition never reaches a page.
CREATE FUNCTION portal_internal.fields_valid(p_fields jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f       jsonb;
    i       integer := 0;
    t       text;
    names   text[] := '{}';
    members integer := 0;
    bad     text;
    k       text;
BEGIN
    IF jsonb_typeof(p_fields) IS DISTINCT FROM 'array' THEN
        bad := 'the fields are not an array';
    END IF;

    FOR f IN SELECT e FROM jsonb_array_elements(
                 CASE WHEN bad IS NULL THEN p_fields ELSE '[]' END) e
    LOOP
        EXIT WHEN bad IS NOT NULL;
        i := i + 1;
        IF jsonb_typeof(f) <> 'object' THEN
            bad := format('field %s is not an object', i);
            EXIT;
        END IF;
        t := f->>'type';

        SELECT string_agg(key, ', ') INTO k
          FROM jsonb_object_keys(f) key
         WHERE key NOT IN ('name', 'label', 'type', 'required', 'options',
                           'min', 'max', 'max_length', 'member_kind',
                           'prefill', 'hint');
        bad := CASE
            WHEN k IS NOT NULL THEN format('unknown keys %s', k)
            WHEN coalesce(f->>'name', '') !~ '^[a-z][a-z0-9_]{0,62}$'
                THEN 'a name is [a-z][a-z0-9_]*'
            WHEN f->>'name' = ANY (names) THEN 'its name is taken'
            WHEN jsonb_typeof(f->'label') IS DISTINCT FROM 'string'
                 OR f->>'label' = '' THEN 'no label'
            WHEN t IS NULL OR t NOT IN ('text', 'textarea', 'date', 'email',
                                        'tel', 'number', 'select',
                                        'checkbox', 'member')
                THEN 'unknown type'
            WHEN jsonb_typeof(f->'required') IS DISTINCT FROM 'boolean'
                THEN 'required is true or false'
            WHEN f ? 'hint' AND jsonb_typeof(f->'hint') <> 'string'
                THEN 'a hint is text'
            WHEN (t = 'select') <> (f ? 'options')
                THEN 'options are for a select, which needs them'
            WHEN t = 'select' AND (jsonb_typeof(f->'options') <> 'array'
                                   OR jsonb_array_length(f->'options') = 0)
                THEN 'options are a non-empty array'
            WHEN t = 'select' AND EXISTS (
                    SELECT 1 FROM jsonb_array_elements(f->'options') o
                     WHERE jsonb_typeof(o) <> 'object'
                        OR jsonb_typeof(o->'value') IS DISTINCT FROM 'string'
                        OR jsonb_typeof(o->'label') IS DISTINCT FROM 'string'
                        OR o->>'value' = '' OR o->>'label' = ''
                        OR (SELECT count(*) FROM jsonb_object_keys(o)) <> 2)
                THEN 'an option is {value, label}, both text'
            WHEN t = 'select' AND (
                    SELECT count(DISTINCT o->>'value') <> count(*)
                      FROM jsonb_array_elements(f->'options') o)
                THEN 'option values repeat'
            WHEN (f ? 'min' OR f ? 'max') AND t NOT IN ('number', 'date')
                THEN 'min and max are for numbers and dates'
            WHEN t = 'number' AND (
                    (f ? 'min' AND jsonb_typeof(f->'min') <> 'number')
                    OR (f ? 'max' AND jsonb_typeof(f->'max') <> 'number')
                    OR (f->'min')::numeric > (f->'max')::numeric)
                THEN 'min and max of a number are numbers, min <= max'
            WHEN t = 'date' AND EXISTS (
                    SELECT 1 FROM (VALUES (f->'min'), (f->'max')) b (v)
                     WHERE v IS NOT NULL
                       AND NOT (jsonb_typeof(v) = 'number'
                                AND v::numeric = trunc(v::numeric)
                                AND abs(v::numeric) <= 100000)
                       AND NOT (jsonb_typeof(v) = 'string'
                                AND portal_internal.is_date(v #>> '{}')))
                THEN 'min and max of a date are YYYY-MM-DD or whole days'
            WHEN t = 'date'
                 AND jsonb_typeof(f->'min') = jsonb_typeof(f->'max')
                 AND CASE jsonb_typeof(f->'min')
                     WHEN 'number'
                         THEN (f->'min')::numeric > (f->'max')::numeric
                     ELSE f->>'min' > f->>'max' END
                THEN 'the min of a date comes after its max'
            WHEN f ? 'max_length' AND (
                    t NOT IN ('text', 'textarea', 'email', 'tel')
                    OR jsonb_typeof(f->'max_length') <> 'number'
                    OR (f->'max_length')::numeric NOT BETWEEN 1 AND 10000
                    OR (f->'max_length')::numeric
                       <> trunc((f->'max_length')::numeric))
                THEN 'max_length is a whole number of 1 to 10000 for text'
            WHEN f ? 'member_kind' AND (t <> 'member'
                    OR f->>'member_kind' IS NULL
                    OR f->>'member_kind' NOT IN ('adult', 'child'))
                THEN 'member_kind is adult or child, for a member'
            WHEN f ? 'prefill' AND (
                    t NOT IN ('text', 'textarea', 'date', 'email', 'tel')
                    OR f->>'prefill' IS NULL
                    OR f->>'prefill' NOT IN (
                        'holder.first_name', 'holder.last_name',
                        'holder.birth_date', 'holder.email', 'holder.phone',
                        'holder.address', 'member.first_name',
                        'member.last_name', 'member.birth_date')
                    OR (t = 'date') <> (f->>'prefill' LIKE '%.birth_date'))
                THEN 'prefill names a known value of the same kind'
        END;
        IF bad IS NOT NULL THEN
            bad := format('field %s (%s): %s', i,
                          coalesce(f->>'name', '?'), bad);
            EXIT;
        END IF;
        names := names || (f->>'name');
        members := members + (t = 'member')::integer;
    END LOOP;

    IF bad IS NULL AND members > 1 THEN
        bad := 'a form has one member field at most';
    END IF;

    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'bad form definition: %', bad
              USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'procedures_fields';
    END IF;
    RETURN true;
END
$$;

-- The documents asked: [{kind, label, required}], kinds unique
-- ([a-z][a-z0-9_]*; "autre" is kept for a document of any other kind,
-- which every procedure takes).  Raises check_violation with constraint
-- procedures_documents.
CREATE FUNCTION portal_internal.documents_valid(p_documents jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad  text;
BEGIN
    IF jsonb_typeof(p_documents) IS DISTINCT FROM 'array' THEN
        bad := 'the documents are not an array';
    ELSE
        SELECT format('document %s (%s)', n, coalesce(d->>'kind', '?'))
          INTO bad
          FROM jsonb_array_elements(p_documents) WITH ORDINALITY a (d, n)
         WHERE jsonb_typeof(d) <> 'object'
            OR coalesce(d->>'kind', '') !~ '^[a-z][a-z0-9_]{0,63}$'
            OR d->>'kind' = 'autre'
            OR jsonb_typeof(d->'label') IS DISTINCT FROM 'string'
            OR d->>'label' = ''
            OR jsonb_typeof(d->'required') IS DISTINCT FROM 'boolean'
            OR (SELECT count(*) FROM jsonb_object_keys(d)) <> 3
         ORDER BY n
         LIMIT 1;

        IF bad IS NULL AND (SELECT count(DISTINCT d->>'kind') <> count(*)
                              FROM jsonb_array_elements(p_documents) d)
        THEN
            bad := 'kinds repeat';
        END IF;
    END IF;

    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'bad documents asked: %', bad
              USING ERRCODE = 'check_violation',
                    CONSTRAINT = 'procedures_documents';
    END IF;
    RETURN true;
END
$$;


CREATE TABLE portal.procedures (
    id                integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug              text NOT NULL UNIQUE
                      CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    theme_id          integer NOT NULL REFERENCES portal.themes,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 150),
    description       text NOT NULL DEFAULT ''
                      CHECK (length(description) <= 2000),
    requires_account  boolean NOT NULL,
    requires_captcha  boolean NOT NULL,
    fields            jsonb NOT NULL,
    documents         jsonb NOT NULL DEFAULT '[]',
    position          integer NOT NULL DEFAULT 0,
    -- a procedure is withdrawn, never deleted: requests refer to it
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT procedures_fields
        CHECK (portal_internal.fields_valid(fields)),
    CONSTRAINT procedures_documents
        CHECK (portal_internal.documents_valid(documents))
);

CREATE INDEX procedures_theme ON portal.procedures (theme_id, position);


-- One row: the catalog's version.
CREATE TABLE portal.catalog_meta (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    version     bigint NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO portal.catalog_meta (version) VALUES (1);

-- Once per statement, whatever it changed: the row lock orders catalog
-- changes at once, and the notification goes out at commit only (none
-- for a change rolled back).
CREATE FUNCTION portal_internal.catalog_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v  bigint;
BEGIN
    UPDATE portal.catalog_meta
       SET version = version + 1, changed_at = now()
    RETURNING version INTO v;

    PERFORM pg_notify('portal_catalog', v::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER themes_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON portal.themes
    FOR EACH STATEMENT EXECUTE FUNCTION portal_internal.catalog_changed();

CREATE TRIGGER procedures_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON portal.procedures
    FOR EACH STATEMENT EXECUTE FUNCTION portal_internal.catalog_changed();
