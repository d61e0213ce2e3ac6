-- Housekeeping: what the portal keeps no longer than it needs.

-- Run by a timer of every worker of every host; one run per interval
-- does the work, claimed by the update of its row, the others return
-- false at once.  Captchas expired more than a day ago, failures and
-- questions older than a day, mail delivered more than 90 days ago go;
-- mail not yet delivered, or failed for good (agents see it), stays.
-- A document (of a request or of an account) still pending after an hour
-- was left behind by an upload that will not finish (its chunks go with
-- it); idempotency keys are kept 24 hours.  Letters printed and calls
-- made more than 90 days ago, and audit rows older than a year, go
-- (sql/014_retention.sql says why).
CREATE FUNCTION portal.housekeeping(p_interval interval)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    UPDATE portal.housekeeping_runs SET last_run = now()
     WHERE name = 'purge' AND last_run <= now() - p_interval;

    IF NOT FOUND THEN
        RETURN false;
    END IF;

    DELETE FROM portal.captchas WHERE expires_at < now() - interval '1 day';
    DELETE FROM portal.auth_failures WHERE at < now() - interval '1 day';
    DELETE FROM portal.outbox
     WHERE state = 'sent' AND sent_at < now() - interval '90 days';
    DELETE FROM portal.request_documents
     WHERE state = 'pending' AND created_at < now() - interval '1 hour';
    DELETE FROM portal.documents
     WHERE state = 'pending' AND created_at < now() - interval '1 hour';
    DELETE FROM portal.idempotency_keys
     WHERE created_at < now() - interval '24 hours';
    DELETE FROM portal.letters
     WHERE printed_at < now() - interval '90 days';
    DELETE FROM portal.calls
     WHERE done_at < now() - interval '90 days';
    DELETE FROM portal.audit_log
     WHERE at < now() - interval '1 year';

    RETURN true;
END
$$;
