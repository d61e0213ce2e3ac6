-- Supporting documents of an account's opening, streamed in chunks as a
-- request's are (090_requests.sql): begin, then chunks 0, 1, 2... of at
-- most 1 MiB (the module sends 256 KiB), each its own round trip and
-- transaction, then finish, or abort on any failure.  The name the citizen
-- gave is only shown back.
--
-- Contract (refusals: SQLSTATE P0001 and a CONSTRAINT name, HTTP status in
-- brackets; NULL is the route's 404):
-- document_begin(p_account uuid, p_kind text, p_filename text)
--     -> uuid | NULL
--     a pending document of the account; p_kind NULL when the form gives
--     it after the file (finish has it then).  20 documents and 50 MiB per
--     account, pending ones included: documents_limit [422].
-- document_chunk(p_account uuid, p_document uuid, p_n integer,
--                p_data bytea) -> bigint (bytes so far) | NULL
--     chunk p_n, in order (document_chunk [409] otherwise); past 50 MiB:
--     documents_limit [422].
-- document_finish(p_account uuid, p_document uuid, p_content_type text,
--                 p_sha256 bytea, p_size bigint, p_kind text DEFAULT NULL)
--     -> document | NULL [201]
--     the type found by content, the digest and size the module counted
--     while streaming (document_size [422] when the size is not the
--     chunks', or 0); p_kind, when given, is the document's kind (one is
--     needed by then).
-- document_abort(p_account uuid, p_document uuid) -> boolean
--     a pending document goes (housekeeping takes those left over an
--     hour).
-- documents_of(p_account uuid) -> [document], newest first
-- document_content(p_account uuid, p_id uuid, p_first integer DEFAULT 0,
--                  p_count integer DEFAULT NULL)
--     -> TABLE (n integer, data bytea, content_type text, filename text,
--               size bigint, chunks integer)
--     a complete document's chunks p_first.. in order (p_count NULL: all
--     of them); no rows: 404.
-- document_remove(p_account uuid, p_id uuid) -> document | NULL [204]
-- A document's JSON (portal.document_json, 010_common.sql): {id, kind,
-- filename, content_type, size, sha256 (hex), created_at}; complete
-- documents only.


-- At most 20 documents and 50 MiB of them per account, those still coming
-- included ("documents_limit").  The caller holds the account's row, so
-- that uploads at once count one after another.
CREATE FUNCTION portal.documents_room(p_account uuid,
                                      p_more_documents integer,
                                      p_more_bytes bigint)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF (SELECT count(*) + p_more_documents > 20
               OR coalesce(sum(size), 0) + p_more_bytes > 50 * 1024 * 1024
          FROM portal.documents WHERE account_id = p_account)
    THEN
        RAISE EXCEPTION 'the documents of % are at their limit', p_account
              USING CONSTRAINT = 'documents_limit';
    END IF;
END
$$;

CREATE FUNCTION portal.document_begin(p_account uuid, p_kind text,
                                      p_filename text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d  uuid;
BEGIN
    PERFORM 1 FROM portal.accounts WHERE id = p_account FOR NO KEY UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    PERFORM portal.documents_room(p_account, 1, 1);

    INSERT INTO portal.documents (account_id, kind, filename)
    VALUES (p_account, p_kind,
            coalesce(nullif(left(p_filename, 255), ''), 'document'))
    RETURNING id INTO d;

    RETURN d;
END
$$;

-- A pending document of the account, the account's row locked; NULL
-- otherwise.
CREATE FUNCTION portal.document_lock(p_account uuid, p_document uuid)
RETURNS portal.documents
LANGUAGE plpgsql
AS $$
DECLARE
    d  portal.documents;
BEGIN
    PERFORM 1 FROM portal.accounts WHERE id = p_account FOR NO KEY UPDATE;

    SELECT * INTO d FROM portal.documents
     WHERE id = p_document AND account_id = p_account AND state = 'pending'
       FOR UPDATE;

    RETURN d;
END
$$;

CREATE FUNCTION portal.document_chunk(p_account uuid, p_document uuid,
                                      p_n integer, p_data bytea)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d  portal.documents := portal.document_lock(p_account, p_document);
BEGIN
    IF d.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF p_n IS DISTINCT FROM d.chunks THEN
        RAISE EXCEPTION 'chunk % of document % where % was due', p_n,
                        d.id, d.chunks
              USING CONSTRAINT = 'document_chunk';
    END IF;

    PERFORM portal.documents_room(p_account, 0, octet_length(p_data));

    INSERT INTO portal.document_chunks (document_id, n, data)
    VALUES (d.id, p_n, p_data);

    UPDATE portal.documents
       SET size = size + octet_length(p_data), chunks = chunks + 1
     WHERE id = d.id
    RETURNING size INTO d.size;

    RETURN d.size;
END
$$;

CREATE FUNCTION portal.document_finish(p_account uuid, p_document uuid,
                                       p_content_type text, p_sha256 bytea,
                                       p_size bigint,
                                       p_kind text DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d  portal.documents := portal.document_lock(p_account, p_document);
BEGIN
    IF d.id IS NULL THEN
        RETURN NULL;
    END IF;

    IF d.size = 0 OR p_size IS DISTINCT FROM d.size THEN
        RAISE EXCEPTION 'document % has % bytes, not %', d.id, d.size,
                        p_size
              USING CONSTRAINT = 'document_size';
    END IF;

    UPDATE portal.documents
       SET state = 'complete', kind = coalesce(p_kind, kind),
           content_type = p_content_type, sha256 = p_sha256
     WHERE id = d.id
    RETURNING * INTO d;

    RETURN portal.document_json(d);
END
$$;

CREATE FUNCTION portal.document_abort(p_account uuid, p_document uuid)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM portal.documents d
         WHERE d.id = p_document AND d.account_id = p_account
           AND d.state = 'pending'
        RETURNING d.id
    )
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

-- Newest first.
CREATE FUNCTION portal.documents_of(p_account uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT coalesce(json_agg(portal.document_json(d)
                             ORDER BY d.created_at DESC, d.id DESC),
                    '[]'::json)
      FROM portal.documents d
     WHERE d.account_id = p_account AND d.state = 'complete'
$$;

-- The file itself, a few chunks at a time; another account's document is
-- as absent as an unknown one.
CREATE FUNCTION portal.document_content(p_account uuid, p_id uuid,
                                        p_first integer DEFAULT 0,
                                        p_count integer DEFAULT NULL)
RETURNS TABLE (n integer, data bytea, content_type text, filename text,
               size bigint, chunks integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT c.n, c.data, d.content_type, d.filename, d.size, d.chunks
      FROM portal.documents d
      JOIN portal.document_chunks c ON c.document_id = d.id
     WHERE d.id = p_id AND d.account_id = p_account
       AND d.state = 'complete'
       AND c.n >= coalesce(p_first, 0)
       AND (p_count IS NULL OR c.n < coalesce(p_first, 0) + p_count)
     ORDER BY c.n
$$;

-- A document the citizen no longer wants kept; NULL when there is no such
-- document of this account.
CREATE FUNCTION portal.document_remove(p_account uuid, p_id uuid)
RETURNS json
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    DELETE FROM portal.documents d
     WHERE d.id = p_id AND d.account_id = p_account
       AND d.state = 'complete'
    RETURNING portal.document_json(d)
$$;
