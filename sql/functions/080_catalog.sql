-- The catalog of online procedures, as GET catalog and GET
-- procedures/{slug} answer it.  The module keeps it in each worker's
-- memory: it reads catalog_snapshot() once, then again whenever the
-- version moves (LISTEN portal_catalog on a pool connection: the payload
-- is the new version; or catalog_version(), one row, where LISTEN is not
-- at hand).  The version makes a good ETag.
--
-- Contract (every function here is called by the module):
--
--   catalog_version() -> bigint
--       the catalog's version, bumped by every statement that changes a
--       theme or a procedure
--
--   catalog_json() -> json
--       [{slug, title, procedures: [{slug, title, description,
--         requires_account, requires_captcha}]}]
--       themes by position, each with its active procedures by position;
--       a theme without any is left out
--
--   procedure_json(p_slug text) -> json, NULL when unknown or withdrawn
--       {slug, title, description, theme: {slug, title},
--        requires_account, requires_captcha, fields: [...],
--        documents: [{kind, label, required}]}
--       fields as sql/005_catalog.sql describes them (API.md's shape, with
--       prefill and hint)
--
--   catalog_snapshot() -> TABLE (version bigint, slug text, body json)
--       all of it from one snapshot: a first row with slug NULL and body
--       catalog_json(), then one row per active procedure with its
--       procedure_json(); every row carries the version they are of

CREATE FUNCTION portal.catalog_version()
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT version FROM portal.catalog_meta
$$;


CREATE FUNCTION portal.procedure_public_json(p portal.procedures,
                                             t portal.themes)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'slug', p.slug, 'title', p.title, 'description', p.description,
        'theme', json_build_object('slug', t.slug, 'title', t.title),
        'requires_account', p.requires_account,
        'requires_captcha', p.requires_captcha,
        'fields', p.fields, 'documents', p.documents)
$$;

CREATE FUNCTION portal.catalog_build()
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(json_agg(json_build_object(
               'slug', t.slug, 'title', t.title,
               'procedures', (
                   SELECT json_agg(json_build_object(
                              'slug', p.slug, 'title', p.title,
                              'description', p.description,
                              'requires_account', p.requires_account,
                              'requires_captcha', p.requires_captcha)
                          ORDER BY p.position, p.slug)
                     FROM portal.procedures p
                    WHERE p.theme_id = t.id AND p.active))
           ORDER BY t.position, t.slug), '[]')
      FROM portal.themes t
     WHERE EXISTS (SELECT 1 FROM portal.procedures p
                    WHERE p.theme_id = t.id AND p.active)
$$;


CREATE FUNCTION portal.catalog_json()
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.catalog_build()
$$;

CREATE FUNCTION portal.procedure_json(p_slug text)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.procedure_public_json(p, t)
      FROM portal.procedures p
      JOIN portal.themes t ON t.id = p.theme_id
     WHERE p.slug = p_slug AND p.active
$$;

CREATE FUNCTION portal.catalog_snapshot()
RETURNS TABLE (version bigint, slug text, body json)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT m.version, NULL::text, portal.catalog_build()
      FROM portal.catalog_meta m
    UNION ALL
    SELECT m.version, p.slug, portal.procedure_public_json(p, t)
      FROM portal.catalog_meta m,
           portal.procedures p
      JOIN portal.themes t ON t.id = p.theme_id
     WHERE p.active
     ORDER BY 2 NULLS FIRST
$$;
