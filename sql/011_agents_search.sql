-- The work queue's free text: a reference, or a part of the applicant's
-- name, whatever its case and accents ("leveque" finds Lévêque).  A name
-- is kept folded beside itself (a stored generated column: the holder's
-- on accounts, the applicant's on requests made without an account) and
-- searched by trigrams (pg_trgm, which ships with PostgreSQL), so that a
-- candidate row is checked against plain text, not folded again.  The
-- columns depend on the function, so it lives in portal_internal (see
-- sql/005_catalog.sql).

CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

SET LOCAL ROLE portal_owner;

-- Lower case, without accents, apostrophes and hyphens as spaces, spaces
-- single: what a name is compared as, and what a search is folded to.
-- Written with pg_catalog's functions only and without SET, so that the
-- planner may inline it.
CREATE FUNCTION portal_internal.fold(p text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT pg_catalog.btrim(pg_catalog.regexp_replace(
        pg_catalog.replace(pg_catalog.replace(pg_catalog.translate(
            pg_catalog.lower(p),
            'àáâãäåçèéêëìíîïñòóôõöùúûüýÿ''’-',
            'aaaaaaceeeeiiiinooooouuuuyy   '), 'œ', 'oe'), 'æ', 'ae'),
        '\s+', ' ', 'g'))
$$;

ALTER TABLE portal.accounts
    ADD COLUMN search_name text GENERATED ALWAYS AS
        (portal_internal.fold(first_name || ' ' || last_name)) STORED;

ALTER TABLE portal.requests
    ADD COLUMN search_name text GENERATED ALWAYS AS
        (portal_internal.fold((applicant->>'first_name') || ' '
                              || (applicant->>'last_name'))) STORED;

CREATE INDEX accounts_name_search ON portal.accounts
    USING gin (search_name public.gin_trgm_ops);

CREATE INDEX requests_name_search ON portal.requests
    USING gin (search_name public.gin_trgm_ops)
    WHERE account_id IS NULL;
