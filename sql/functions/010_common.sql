-- What every other file uses: the health probe, the mail queue and the
-- JSON of rows shared by several resources.

-- One real round trip for GET /api/health: it proves that the connection
-- works and that the schema is the portal's.
CREATE FUNCTION portal.health() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$ SELECT 'ok'::text $$;


-- The greeting and the footer of every mail.
CREATE FUNCTION portal.mail_text(p_account portal.accounts, p_text text,
                                 p_url text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'Bonjour %s %s %s,\n\n%s\n\n%s'
                  'Ce message est envoyé automatiquement : merci de ne pas'
                  ' y répondre.\nLa Mairie - Mon Compte Citoyen\n',
                  CASE p_account.civility WHEN 'M' THEN 'Monsieur'
                                          ELSE 'Madame' END,
                  p_account.first_name, p_account.last_name, p_text,
                  CASE WHEN coalesce(p_url, '') <> ''
                       THEN format(E'Portail : %s\n\n', p_url) ELSE '' END)
$$;

-- Queued in the transaction of the change that caused it.
CREATE FUNCTION portal.queue_mail(p_account portal.accounts, p_subject text,
                                  p_text text, p_url text,
                                  p_sensitive boolean DEFAULT false)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO portal.outbox (account_id, recipient, subject, body,
                               sensitive)
    VALUES (p_account.id, p_account.email, p_subject,
            portal.mail_text(p_account, p_text, p_url), p_sensitive)
$$;


CREATE FUNCTION portal.member_json(m portal.members)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', m.id, 'kind', m.kind, 'civility', m.civility,
        'first_name', m.first_name, 'last_name', m.last_name,
        'name', m.first_name || ' ' || m.last_name,
        'birth_date', m.birth_date, 'email', m.email, 'phone', m.phone,
        'address', json_build_object('line', m.address_line,
                                     'postcode', m.postcode,
                                     'city', m.city),
        'created_at', m.created_at, 'updated_at', m.updated_at)
$$;

-- A document's metadata, never its content.
CREATE FUNCTION portal.document_json(d portal.documents)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', d.id, 'kind', d.kind, 'filename', d.filename,
        'content_type', d.content_type, 'size', d.size,
        'sha256', encode(d.sha256, 'hex'),
        'created_at', to_char(d.created_at,
                              'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'))
$$;
