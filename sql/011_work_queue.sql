-- The agents' work queue: requests newest submission first, read by key,
-- filtered by state, procedure or theme, and searched by reference or by
-- a part of the applicant's name, whatever its case and accents
-- ("leveque" finds Lévêque).  At a town's ten-year scale (200,000
-- requests) a page must come from an index, without sorting what the
-- filters leave, and without a look at another table for each row.
--
-- Two columns of requests make that possible:
--   queue_at     the queue's key: the submission, or the creation for a
--                row that would lack one (a row changed by hand), so that
--                it is never NULL; stored, so that a page is read from an
--                index alone
--   search_name  the applicant's name folded (portal_internal.fold()):
--                the holder's for a request of an account, kept so by
--                triggers when the holder's name changes; the applicant's
--                for one made without an account
-- The queue's indexes carry the columns the filters read, so that the
-- newest rows that pass are found in an index alone, a common name among
-- them too; a rare name is found by trigrams (pg_trgm, which ships with
-- PostgreSQL).  Which index a page takes depends on its filters and their
-- values: the function builds its statement for each call
-- (sql/functions/120_agent_requests.sql).
--
-- The functions of the column and the triggers live in portal_internal,
-- which ci/pg migrate does not touch (see sql/005_catalog.sql).  The
-- triggers fire always, even for the bench's seed, which loads with
-- session_replication_role = replica.

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

ALTER TABLE portal.requests
    ADD COLUMN queue_at timestamptz GENERATED ALWAYS AS
        (coalesce(submitted_at, created_at)) STORED,
    ADD COLUMN search_name text;

-- A request's applicant's name, as it is made or given to another holder.
CREATE FUNCTION portal_internal.request_search_name()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.account_id IS NOT NULL THEN
        SELECT portal_internal.fold(a.first_name || ' ' || a.last_name)
          INTO NEW.search_name
          FROM portal.accounts a WHERE a.id = NEW.account_id;
    ELSE
        NEW.search_name := portal_internal.fold(
            (NEW.applicant->>'first_name') || ' '
            || (NEW.applicant->>'last_name'));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER requests_search_name
    BEFORE INSERT OR UPDATE OF account_id, applicant ON portal.requests
    FOR EACH ROW EXECUTE FUNCTION portal_internal.request_search_name();
ALTER TABLE portal.requests ENABLE ALWAYS TRIGGER requests_search_name;

-- A holder who changes their name changes it on their requests.
CREATE FUNCTION portal_internal.account_search_name()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE portal.requests
       SET search_name = portal_internal.fold(NEW.first_name || ' '
                                              || NEW.last_name)
     WHERE account_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_search_name
    AFTER UPDATE OF first_name, last_name ON portal.accounts
    FOR EACH ROW
    WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name
          OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION portal_internal.account_search_name();
ALTER TABLE portal.accounts ENABLE ALWAYS TRIGGER accounts_search_name;

-- the requests already there
UPDATE portal.requests r
   SET search_name = portal_internal.fold(
           coalesce((SELECT a.first_name || ' ' || a.last_name
                       FROM portal.accounts a WHERE a.id = r.account_id),
                    (r.applicant->>'first_name') || ' '
                    || (r.applicant->>'last_name')));

CREATE INDEX requests_queue ON portal.requests (queue_at DESC, id DESC)
    INCLUDE (state, procedure_id, search_name)
    WHERE state <> 'brouillon';
CREATE INDEX requests_queue_state ON portal.requests
    (state, queue_at DESC, id DESC)
    INCLUDE (procedure_id, search_name)
    WHERE state <> 'brouillon';
CREATE INDEX requests_queue_procedure ON portal.requests
    (procedure_id, queue_at DESC, id DESC)
    INCLUDE (state, search_name)
    WHERE state <> 'brouillon';
CREATE INDEX requests_name_search ON portal.requests
    USING gin (search_name public.gin_trgm_ops)
    WHERE state <> 'brouillon';
