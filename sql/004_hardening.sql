-- Hardening of the account core.
--
-- An attempt (a password or an answer to hash) is counted before it is
-- hashed: its two rows of auth_failures (the login's, the address's) are
-- written at once, with the attempt's number, and deleted again when the
-- secret was right.  Questions of a lost password are counted per address
-- in the same table.  A captcha's picture and sound may be fetched a few
-- times only.  Housekeeping runs once per interval across every worker and
-- host.

SET LOCAL ROLE portal_owner;

CREATE SEQUENCE portal.auth_attempts;

ALTER TABLE portal.auth_failures ADD COLUMN attempt bigint;

ALTER TABLE portal.auth_failures DROP CONSTRAINT auth_failures_kind_check;
ALTER TABLE portal.auth_failures ADD CONSTRAINT auth_failures_kind_check
    CHECK (kind IN ('password', 'answer', 'question'));

CREATE INDEX auth_failures_attempt ON portal.auth_failures (attempt)
    WHERE attempt IS NOT NULL;
CREATE INDEX auth_failures_at ON portal.auth_failures (at);

ALTER TABLE portal.captchas
    ADD COLUMN png_fetches integer NOT NULL DEFAULT 0,
    ADD COLUMN wav_fetches integer NOT NULL DEFAULT 0;

CREATE INDEX captchas_expires ON portal.captchas (expires_at);

CREATE INDEX outbox_sent ON portal.outbox (sent_at) WHERE state = 'sent';

CREATE TABLE portal.housekeeping_runs (
    name      text PRIMARY KEY,
    last_run  timestamptz NOT NULL
);

INSERT INTO portal.housekeeping_runs (name, last_run)
    VALUES ('purge', '-infinity');
