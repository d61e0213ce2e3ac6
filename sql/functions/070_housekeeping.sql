-- Housekeeping: what the portal keeps no longer than it needs.

-- Spent or expired captchas and failures older than a day go.  Run by a
-- timer of every worker of every host; the advisory lock lets one run at
-- a time, the others return false at once.
CREATE FUNCTION portal.housekeeping()
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('portal housekeeping')) THEN
        RETURN false;
    END IF;

    DELETE FROM portal.captchas WHERE expires_at < now() - interval '1 day';
    DELETE FROM portal.auth_failures WHERE at < now() - interval '1 day';

    RETURN true;
END
$$;
