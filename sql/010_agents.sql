-- The town hall's agents and their back-office: the agents themselves
-- (admin, or instructeur limited or not to some themes), the audit log of
-- what they read and did, the letters to print and the calls to make for
-- citizens who chose the post or the phone.  The work queue's columns and
-- indexes are sql/011's.
--
-- Agents log in with a password hashed with Argon2id by the module, as
-- citizens do; their failed attempts are counted in auth_failures with
-- the kind "agent", so that an agent's counters are never a citizen's of
-- the same login.  Their session cookie carries their epoch, which a
-- password change or a log-out moves on.

SET LOCAL ROLE portal_owner;


CREATE TABLE portal.agents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    login          text NOT NULL UNIQUE
                   CHECK (login ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    -- shown to other agents in a request's history, never to citizens
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role           text NOT NULL CHECK (role IN ('admin', 'instructeur')),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    session_epoch  integer NOT NULL DEFAULT 1,
    -- an agent who leaves is disabled, never deleted: the history and the
    -- audit log name them
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);

-- An instructeur with rows here sees only the requests of these themes;
-- without any, all of them.  An admin sees everything (no rows).
CREATE TABLE portal.agent_themes (
    agent_id  uuid NOT NULL REFERENCES portal.agents ON DELETE CASCADE,
    theme_id  integer NOT NULL REFERENCES portal.themes,
    PRIMARY KEY (agent_id, theme_id)
);


-- An agent's attempts are counted beside the citizens', in their own kind.
ALTER TABLE portal.auth_failures DROP CONSTRAINT auth_failures_kind_check;
ALTER TABLE portal.auth_failures ADD CONSTRAINT auth_failures_kind_check
    CHECK (kind IN ('password', 'answer', 'question', 'agent'));


-- request_events.agent_id was waiting for this table.
ALTER TABLE portal.request_events
    ADD CONSTRAINT request_events_agent_id_fkey
    FOREIGN KEY (agent_id) REFERENCES portal.agents;


-- What agents read and did on a citizen's file: who, what, when.  The ids
-- are kept as they were, without foreign keys, so that the log outlives
-- an account or a draft that is deleted.
CREATE TABLE portal.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    agent_id    uuid NOT NULL REFERENCES portal.agents,
    action      text NOT NULL CHECK (action ~ '^[a-z][a-z_]{0,62}$'),
    account_id  uuid,
    request_id  uuid,
    detail      jsonb
);

CREATE INDEX audit_log_account ON portal.audit_log (account_id, at)
    WHERE account_id IS NOT NULL;
CREATE INDEX audit_log_request ON portal.audit_log (request_id, at)
    WHERE request_id IS NOT NULL;
CREATE INDEX audit_log_agent ON portal.audit_log (agent_id, at);


-- The agent who wrote a message (information, decision, or the
-- notification of a move they made); NULL for the portal's own
-- acknowledgements.
ALTER TABLE portal.messages
    ADD COLUMN agent_id uuid REFERENCES portal.agents;

-- A letter to print for a message sent by post, and a call to make for
-- one sent by phone.  due_at is when the message goes (now, or the time
-- an agent scheduled it for): agents see a letter or a call once it is
-- due; until then the message may be cancelled, and its letter or call
-- goes with it.
CREATE TABLE portal.letters (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id  uuid NOT NULL UNIQUE
                REFERENCES portal.messages ON DELETE CASCADE,
    due_at      timestamptz NOT NULL DEFAULT now(),
    printed_at  timestamptz,
    printed_by  uuid REFERENCES portal.agents,
    CONSTRAINT letters_printed
        CHECK ((printed_at IS NULL) = (printed_by IS NULL))
);

CREATE INDEX letters_to_print ON portal.letters (due_at, id)
    WHERE printed_at IS NULL;
CREATE INDEX letters_printed_at ON portal.letters (printed_at DESC, id DESC)
    WHERE printed_at IS NOT NULL;

CREATE TABLE portal.calls (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id  uuid NOT NULL UNIQUE
                REFERENCES portal.messages ON DELETE CASCADE,
    due_at      timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz,
    done_by     uuid REFERENCES portal.agents,
    -- what the agent noted (no answer, a message left...)
    note        text CHECK (length(note) <= 500),
    CONSTRAINT calls_done CHECK ((done_at IS NULL) = (done_by IS NULL))
);

CREATE INDEX calls_to_make ON portal.calls (due_at, id)
    WHERE done_at IS NULL;
CREATE INDEX calls_done_at ON portal.calls (done_at DESC, id DESC)
    WHERE done_at IS NOT NULL;


-- Mail that could not be delivered, for agents, newest first.
CREATE INDEX outbox_failed ON portal.outbox (id DESC) WHERE state = 'failed';


-- Accounts waiting for validation, newest first, read by key.
CREATE INDEX accounts_waiting_key ON portal.accounts
    (created_at DESC, id DESC) WHERE NOT validated;
DROP INDEX portal.accounts_waiting;
