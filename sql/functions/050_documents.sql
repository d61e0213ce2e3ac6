-- Supporting documents of an account's opening.  The content comes as a
-- binary parameter; the name the citizen gave is only shown back.

-- At most 20 documents and 50 MiB of them per account ("documents_limit"):
-- the account's row is locked, so that uploads at once count one after
-- another.
CREATE FUNCTION portal.document_add(p_account uuid, p_kind text,
                                    p_filename text, p_type text,
                                    p_sha256 bytea, p_content bytea)
RETURNS json
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    d  portal.documents;
BEGIN
    PERFORM 1 FROM portal.accounts WHERE id = p_account FOR UPDATE;

    IF (SELECT count(*) >= 20
               OR coalesce(sum(size), 0) + octet_length(p_content)
                  > 50 * 1024 * 1024
          FROM portal.documents WHERE account_id = p_account)
    THEN
        RAISE EXCEPTION 'the documents of % are at their limit', p_account
              USING CONSTRAINT = 'documents_limit';
    END IF;

    INSERT INTO portal.documents (account_id, kind, filename, content_type,
                                  size, sha256, content)
    VALUES (p_account, p_kind, p_filename, p_type, octet_length(p_content),
            p_sha256, p_content)
    RETURNING * INTO d;

    RETURN portal.document_json(d);
END
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
     WHERE d.account_id = p_account
$$;

-- The file itself; another account's document is as absent as an unknown
-- one.
CREATE FUNCTION portal.document_content(p_account uuid, p_id uuid)
RETURNS TABLE (content bytea, content_type text, filename text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT d.content, d.content_type, d.filename
      FROM portal.documents d
     WHERE d.id = p_id AND d.account_id = p_account
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
    RETURNING portal.document_json(d)
$$;
