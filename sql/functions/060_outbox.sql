-- Mail delivery: workers and hosts share the outbox.

-- A worker leases due mail (SKIP LOCKED); a lease that is not settled in
-- 2 minutes is taken again.
CREATE FUNCTION portal.outbox_take(p_limit integer)
RETURNS TABLE (id bigint, recipient text, subject text, body text,
               created_at timestamptz)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.outbox o
       SET lease_until = now() + interval '2 minutes',
           attempts = o.attempts + 1
     WHERE o.id IN (SELECT d.id FROM portal.outbox d
                     WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                       AND (d.lease_until IS NULL OR d.lease_until < now())
                     ORDER BY d.id
                     LIMIT p_limit
                       FOR UPDATE SKIP LOCKED)
 RETURNING o.id, o.recipient, o.subject, o.body, o.created_at
$$;

-- Settles a lease: sent, or retried later with back-off, or failed for
-- good after 8 attempts (shown to agents).  p_permanent: the mail was
-- refused for good (a relay's 5xx to its envelope or its text, an address
-- that may not go out): failed now, trying again would change nothing.
CREATE FUNCTION portal.outbox_settle(p_id bigint, p_error text,
                                     p_permanent boolean DEFAULT false)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.outbox
       SET state = CASE WHEN p_error IS NULL THEN 'sent'
                        WHEN p_permanent OR attempts >= 8 THEN 'failed'
                        ELSE 'pending' END,
           sent_at = CASE WHEN p_error IS NULL THEN now() END,
           body = CASE WHEN p_error IS NULL AND sensitive
                       THEN '(message distribué, contenu effacé)'
                       ELSE body END,
           last_error = p_error,
           lease_until = NULL,
           next_attempt_at = now() + least(interval '1 hour',
                             interval '30 seconds' * power(2, attempts - 1))
     WHERE id = p_id
$$;
