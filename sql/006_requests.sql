-- Requests ("demandes"): the states and the transitions between them, the
-- requests with their readable reference, their history, their supporting
-- documents stored in chunks, the messages a citizen was sent, and the
-- idempotency keys of the routes a client may retry.

SET LOCAL ROLE portal_owner;


-- The nine states, in the words of the FAQ ("Que signifie l'état
-- d'avancement..."): shown on the pages, in mails and PDFs.  The citizen
-- may change a request in an editable state; in the others they see it as
-- a PDF.
CREATE TABLE portal.request_states (
    state     text PRIMARY KEY,
    label     text NOT NULL,
    meaning   text NOT NULL,
    position  smallint NOT NULL UNIQUE,
    editable  boolean NOT NULL,
    final     boolean NOT NULL
);

INSERT INTO portal.request_states
    (state, label, meaning, position, editable, final) VALUES
    ('brouillon', 'brouillon',
     'vous n''avez pas encore soumis cette demande', 1, true, false),
    ('en_attente', 'en attente',
     'vous avez soumis votre demande, un agent va la prendre en charge',
     2, true, false),
    ('en_traitement', 'en traitement',
     'un agent a pris en charge votre demande', 3, false, false),
    ('incomplet', 'incomplet',
     'l''agent instructeur a décelé des manques dans votre demande',
     4, true, false),
    ('rectifie', 'rectifié',
     'une action rectificative a été apportée à votre demande', 5, false,
     false),
    ('complet', 'complet',
     'tous les éléments nécessaires au traitement de votre demande sont'
     ' présents, elle suit son cours', 6, false, false),
    ('rejete', 'rejeté', 'l''agent instructeur a rejeté votre demande',
     7, false, true),
    ('annule', 'annulé', 'l''agent instructeur a annulé votre demande',
     8, false, true),
    ('valide', 'validé',
     'votre demande a été validée, le résultat doit vous parvenir', 9,
     false, true);


-- The whole state machine of DESIGN.md, and who may make each move: the
-- citizen submits a draft and completes an incomplete request, agents do
-- the rest.  Any other move is refused.  A rejection carries a motive.
CREATE TABLE portal.request_transitions (
    from_state       text NOT NULL REFERENCES portal.request_states,
    to_state         text NOT NULL REFERENCES portal.request_states,
    actor            text NOT NULL CHECK (actor IN ('citizen', 'agent')),
    motive_required  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (from_state, to_state),
    -- what request_events refers to
    UNIQUE (from_state, to_state, actor)
);

INSERT INTO portal.request_transitions
    (from_state, to_state, actor, motive_required) VALUES
    ('brouillon', 'en_attente', 'citizen', false),
    ('en_attente', 'en_traitement', 'agent', false),
    ('en_attente', 'annule', 'agent', false),
    ('en_traitement', 'incomplet', 'agent', false),
    ('en_traitement', 'complet', 'agent', false),
    ('en_traitement', 'rejete', 'agent', true),
    ('en_traitement', 'annule', 'agent', false),
    ('en_traitement', 'valide', 'agent', false),
    ('incomplet', 'rectifie', 'citizen', false),
    ('rectifie', 'en_traitement', 'agent', false),
    ('rectifie', 'incomplet', 'agent', false),
    ('rectifie', 'complet', 'agent', false),
    ('rectifie', 'rejete', 'agent', true),
    ('rectifie', 'annule', 'agent', false),
    ('rectifie', 'valide', 'agent', false),
    ('complet', 'valide', 'agent', false),
    ('complet', 'rejete', 'agent', true),
    ('complet', 'annule', 'agent', false);


-- A member's requests name the member together with the household: the
-- foreign key of requests below holds both.
ALTER TABLE portal.members
    ADD CONSTRAINT members_id_account UNIQUE (id, account_id);


-- The reference's number restarts each year.  One row per year, updated
-- under its row lock by the transaction that makes the request: numbers
-- have no gaps (a sequence would leave one for each rolled-back request,
-- and a register with holes looks like a lost request to the agents).
-- Requests made at once wait for each other only for the rest of their
-- short transaction.
CREATE TABLE portal.request_counters (
    year  smallint PRIMARY KEY,
    n     integer NOT NULL
);


CREATE TABLE portal.requests (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- 2026-000123
    reference     text NOT NULL UNIQUE
                  CHECK (reference ~ '^[0-9]{4}-[0-9]{6,}$'),
    procedure_id  integer NOT NULL REFERENCES portal.procedures,
    -- NULL: made without an account, by the applicant below
    account_id    uuid REFERENCES portal.accounts,
    -- the holder's shape: civility, first_name, last_name, birth_date,
    -- email, phone, address {line, postcode, city}
    applicant     jsonb CHECK (jsonb_typeof(applicant) = 'object'),
    member_id     uuid,
    data          jsonb NOT NULL DEFAULT '{}'
                  CHECK (jsonb_typeof(data) = 'object'),
    state         text NOT NULL DEFAULT 'brouillon'
                  CHECK (state IN ('brouillon', 'en_attente',
                                   'en_traitement', 'incomplet', 'rectifie',
                                   'complet', 'rejete', 'annule', 'valide')),
    contact_mode  text NOT NULL
                  CHECK (contact_mode IN ('email', 'phone', 'post')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- the first submission
    submitted_at  timestamptz,
    CONSTRAINT requests_applicant
        CHECK ((account_id IS NULL) = (applicant IS NOT NULL)),
    CONSTRAINT requests_member_account
        CHECK (member_id IS NULL OR account_id IS NOT NULL),
    -- a member of the request's own household; a member who leaves it
    -- leaves the request without a member, the request stays
    CONSTRAINT requests_member_household
        FOREIGN KEY (member_id, account_id)
        REFERENCES portal.members (id, account_id)
        ON DELETE SET NULL (member_id)
);

-- GET me/requests: an account's newest first, read in index order.
CREATE INDEX requests_account ON portal.requests
    (account_id, created_at DESC, id DESC);
CREATE INDEX requests_member ON portal.requests (member_id)
    WHERE member_id IS NOT NULL;


-- Every change of state, the first (NULL to brouillon) included, and only
-- along the state machine: the foreign key makes an event of a move that
-- is not in it impossible, whoever writes it.  Agents arrive with issue
-- 11: agent_id has no foreign key yet, the agents' table will give it one.
CREATE TABLE portal.request_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  uuid NOT NULL REFERENCES portal.requests ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    from_state  text,
    to_state    text NOT NULL REFERENCES portal.request_states,
    actor       text NOT NULL CHECK (actor IN ('citizen', 'agent')),
    agent_id    uuid,
    motive      text CHECK (length(motive) <= 2000),
    CONSTRAINT request_events_transition
        FOREIGN KEY (from_state, to_state, actor)
        REFERENCES portal.request_transitions (from_state, to_state, actor),
    CONSTRAINT request_events_first
        CHECK (from_state IS NOT NULL OR to_state = 'brouillon'),
    CONSTRAINT request_events_agent
        CHECK (actor = 'agent' OR agent_id IS NULL)
);

CREATE INDEX request_events_request ON portal.request_events
    (request_id, id);


-- Supporting documents of a request, stored in chunks: the module streams
-- an upload in pieces of a few hundred KiB, one round trip and one
-- transaction each, so that neither a worker nor a backend ever holds a
-- whole file.  A document is "pending" while its chunks come, "complete"
-- once its type and digest are known; pending ones left behind (a client
-- gone, a worker stopped) are purged by housekeeping after an hour.
CREATE TABLE portal.request_documents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id    uuid NOT NULL REFERENCES portal.requests ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,63}$'),
    -- what the citizen called it, shown back, never used as a path
    filename      text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text CHECK (content_type IN ('application/pdf',
                                               'image/jpeg', 'image/png')),
    size          bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    chunks        integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    sha256        bytea CHECK (length(sha256) = 32),
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'complete')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    CONSTRAINT request_documents_complete
        CHECK (state = 'pending'
               OR (content_type IS NOT NULL AND sha256 IS NOT NULL
                   AND size > 0 AND completed_at IS NOT NULL))
);

CREATE INDEX request_documents_request ON portal.request_documents
    (request_id, created_at);
CREATE INDEX request_documents_pending ON portal.request_documents
    (created_at) WHERE state = 'pending';

CREATE TABLE portal.request_document_chunks (
    document_id  uuid NOT NULL
                 REFERENCES portal.request_documents ON DELETE CASCADE,
    n            integer NOT NULL CHECK (n >= 0),
    data         bytea NOT NULL
                 CHECK (octet_length(data) BETWEEN 1 AND 1048576),
    PRIMARY KEY (document_id, n)
);

-- PDF, JPEG and PNG are compressed already: no time lost trying again.
ALTER TABLE portal.request_document_chunks
    ALTER COLUMN data SET STORAGE EXTERNAL;


-- What a citizen (an account, or an applicant without one) was sent, as
-- "Avancement et communications" shows it: acknowledgements, decisions,
-- information; by email, post or phone.  A mail also has its row in the
-- outbox, which delivers it.  send_at and cancelled_at are for messages
-- that agents schedule (issue 11); sent_at is when the message left the
-- portal's hands (queued for delivery): from then on it cannot be taken
-- back.
CREATE TABLE portal.messages (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    uuid REFERENCES portal.accounts ON DELETE CASCADE,
    request_id    uuid REFERENCES portal.requests ON DELETE SET NULL,
    outbox_id     bigint REFERENCES portal.outbox ON DELETE SET NULL,
    kind          text NOT NULL
                  CHECK (kind IN ('acknowledgement', 'decision',
                                  'information')),
    channel       text NOT NULL CHECK (channel IN ('email', 'post', 'phone')),
    -- an e-mail address, a postal address or a phone number
    recipient     text NOT NULL,
    subject       text NOT NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    send_at       timestamptz,
    sent_at       timestamptz,
    cancelled_at  timestamptz
);

CREATE INDEX messages_account ON portal.messages (account_id, created_at)
    WHERE account_id IS NOT NULL;
CREATE INDEX messages_request ON portal.messages (request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX messages_outbox ON portal.messages (outbox_id)
    WHERE outbox_id IS NOT NULL;


-- Idempotency-Key: the first answer to a key, kept 24 hours, so that a
-- client that retries (a lost answer, a double click) gets it again
-- instead of a second request.  A key belongs to a scope (the account's
-- id, or "anonymous") and to one route and one body (their sha256): the
-- same key with another body is refused.  The row is written by the very
-- transaction that made the answer, so an answer is stored if and only if
-- its change committed; a retry while the first is still running finds
-- the first one's advisory lock taken (see sql/functions/090).
CREATE TABLE portal.idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    route        text NOT NULL,
    fingerprint  bytea NOT NULL CHECK (length(fingerprint) = 32),
    status       smallint NOT NULL,
    response     json NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created ON portal.idempotency_keys
    (created_at);
