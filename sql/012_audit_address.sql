-- The audit log says from where: the address of the client that an agent's
-- read or action came from, as nginx saw it (NULL when it was not an IP
-- address: a unix socket, or rows written before this column).
--
-- How the address gets there: the module writes every agent's statement
-- with portal.agent_at($agent, $address) as the agent's argument
-- (sql/functions/140_agent_audit.sql).  It sets the transaction-local
-- setting portal.agent_addr from a parameter and gives the agent back;
-- portal.audit() reads it.  A parameter p_addr on each function would
-- have changed the signature of some twenty functions (and their tests)
-- to carry a value that one helper reads; the setting is local to the
-- statement's own transaction (each statement of the pool is one), so it
-- never outlives it on a pooled connection, and it is never SQL text.

ALTER TABLE portal.audit_log ADD COLUMN client_addr inet;

-- GET audit: newest first by id, whole or for one agent, account or
-- request.
CREATE INDEX audit_log_agent_id ON portal.audit_log (agent_id, id);
CREATE INDEX audit_log_account_id ON portal.audit_log (account_id, id)
    WHERE account_id IS NOT NULL;
CREATE INDEX audit_log_request_id ON portal.audit_log (request_id, id)
    WHERE request_id IS NOT NULL;
