-- The account's supporting documents in chunks, as a request's are (006):
-- the module streams an upload in pieces of 256 KiB, one round trip and
-- one transaction each, so that neither a worker nor a backend ever holds
-- a whole file; a download reads a few chunks at a time.  A document is
-- "pending" while its chunks come, "complete" once its type and digest are
-- known; pending ones left behind (a client gone, a worker stopped) are
-- purged by housekeeping after an hour.  The content of the documents
-- stored until now moves into chunks of the same size.
--
-- The form's "kind" may come after a file of several chunks: a pending
-- document, of an account or of a request, may have no kind yet; a
-- complete one has it.

SET LOCAL ROLE portal_owner;


CREATE TABLE portal.document_chunks (
    document_id  uuid NOT NULL REFERENCES portal.documents ON DELETE CASCADE,
    n            integer NOT NULL CHECK (n >= 0),
    data         bytea NOT NULL
                 CHECK (octet_length(data) BETWEEN 1 AND 1048576),
    PRIMARY KEY (document_id, n)
);

-- PDF, JPEG and PNG are compressed already: no time lost trying again.
ALTER TABLE portal.document_chunks ALTER COLUMN data SET STORAGE EXTERNAL;


-- A pending document has no type, digest or size yet, maybe no kind.
ALTER TABLE portal.documents
    ADD COLUMN chunks integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    ADD COLUMN state text NOT NULL DEFAULT 'complete'
               CHECK (state IN ('pending', 'complete')),
    ALTER COLUMN kind DROP NOT NULL,
    ALTER COLUMN content_type DROP NOT NULL,
    ALTER COLUMN sha256 DROP NOT NULL,
    ALTER COLUMN size SET DEFAULT 0,
    DROP CONSTRAINT documents_size_check,
    ADD CONSTRAINT documents_size_check CHECK (size >= 0);

INSERT INTO portal.document_chunks (document_id, n, data)
SELECT d.id, g.n, substring(d.content FROM g.n * 262144 + 1 FOR 262144)
  FROM portal.documents d,
       generate_series(0, (octet_length(d.content) - 1) / 262144) g (n)
 WHERE octet_length(d.content) > 0;

UPDATE portal.documents
   SET chunks = (octet_length(content) + 262143) / 262144;

ALTER TABLE portal.documents
    DROP COLUMN content,
    ALTER COLUMN state SET DEFAULT 'pending',
    ADD CONSTRAINT documents_complete
        CHECK (state = 'pending'
               OR (kind IS NOT NULL AND content_type IS NOT NULL
                   AND sha256 IS NOT NULL AND size > 0));

CREATE INDEX documents_pending ON portal.documents (created_at)
    WHERE state = 'pending';


ALTER TABLE portal.request_documents
    ALTER COLUMN kind DROP NOT NULL,
    ADD CONSTRAINT request_documents_kind
        CHECK (state = 'pending' OR kind IS NOT NULL);
