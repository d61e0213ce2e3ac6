-- Agents of the town hall: logging in (the attempts counted as citizens'
-- are), their sessions, who they are, what they may see, the audit log,
-- and `make agent`.  The back-office's other functions (110, 120, 130)
-- take the agent's id first, as the citizen's take the account's.
--
-- Contract.  Refusals are RAISE with SQLSTATE P0001 and a CONSTRAINT name
-- (HTTP status in brackets); NULL is the route's 404.  Times are ISO 8601
-- with offset.
--
-- agent_credentials_begin(p_login text, p_addr text, p_captcha_id uuid,
--                p_captcha_answer text)
--     -> TABLE (verdict text, attempt bigint, id uuid, login text,
--               hash text, epoch integer, role text)
--     as credentials_begin() for citizens: verdict "go" (the attempt is
--     counted before it is hashed: verify hash with Argon2id, against a
--     dummy when id is NULL, then call credentials_granted(attempt) and
--     agent_login_succeeded(id) if it was right), or "captcha_required",
--     "captcha_wrong", "captcha_expired", "blocked" (nothing counted).
--     The same limits (5 per login, 30 per address in 15 minutes, then a
--     captcha; 200 per address, then nothing), counted apart from the
--     citizens' (kind "agent").  A disabled agent is an unknown login.
-- agent_login_succeeded(p_id uuid) -> void
-- agent_session_check(p_id uuid, p_epoch integer)
--     -> TABLE (login text, role text, name text)
--     no row: the cookie opens nothing (unknown, disabled, older epoch)
-- agent_session_end(p_id uuid, p_epoch integer) -> void
--     log out: the epoch moves on, every copy of the cookie dies
-- agent_me(p_agent uuid) -> json | NULL
--     {id, login, name, role, themes: [{slug, title}]} (themes empty: all
--     of them)
--
-- For operators (psql as the owner, never granted to portal):
-- agent_upsert(p_login text, p_role text, p_password_hash text,
--              p_name text DEFAULT NULL, p_themes text[] DEFAULT NULL)
--     -> json (agent_me's)
--     `make agent`: creates the agent, or updates its role, name and
--     password (a new password ends its sessions) and enables it again.
--     p_themes: the slugs an instructeur is limited to ('{}': none, all
--     themes; NULL keeps them).  Raises agent_role (admin or instructeur),
--     agent_theme (an unknown slug, or themes for an admin), and the
--     table's checks (agents_login_check, agents_password_hash_check:
--     an Argon2id hash, "$argon2id$...").
-- agent_disable(p_login text) -> boolean
--     the agent can no longer log in, and its sessions end.
--
-- Raised by every agent function of 100-130:
--   agent_session  [401] no such agent, or disabled
--   agent_role     [403] an admin's function


-- ------------------------------------------------------------- helpers

-- The agent calling, enabled; agent_session otherwise.
CREATE FUNCTION portal.agent_active(p_agent uuid)
RETURNS portal.agents
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a  portal.agents;
BEGIN
    SELECT * INTO a FROM portal.agents WHERE id = p_agent AND active;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'no agent %', p_agent
              USING CONSTRAINT = 'agent_session';
    END IF;
    RETURN a;
END
$$;

CREATE FUNCTION portal.agent_admin(p_agent uuid)
RETURNS portal.agents
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a  portal.agents := portal.agent_active(p_agent);
BEGIN
    IF a.role <> 'admin' THEN
        RAISE EXCEPTION 'agent % is not an admin', a.login
              USING CONSTRAINT = 'agent_role';
    END IF;
    RETURN a;
END
$$;

-- The procedures whose requests an agent sees: NULL for all of them (an
-- admin, an instructeur without themes).
CREATE FUNCTION portal.agent_procedures(a portal.agents)
RETURNS integer[]
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN a.role = 'admin'
                  OR NOT EXISTS (SELECT 1 FROM portal.agent_themes t
                                  WHERE t.agent_id = a.id)
                THEN NULL
                ELSE ARRAY(SELECT p.id FROM portal.procedures p
                             JOIN portal.agent_themes t
                               ON t.theme_id = p.theme_id
                            WHERE t.agent_id = a.id)
           END
$$;

CREATE FUNCTION portal.agent_sees(a portal.agents, p_procedure integer)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(p_procedure = ANY (portal.agent_procedures(a)), true)
$$;

-- The audit log: who read or did what on a citizen's file, when, and
-- from where (the address portal.agent_at() set for this transaction:
-- sql/012_audit_address.sql).
CREATE FUNCTION portal.audit(p_agent uuid, p_action text, p_account uuid,
                             p_request uuid, p_detail jsonb DEFAULT NULL)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO portal.audit_log (agent_id, action, account_id, request_id,
                                  detail, client_addr)
    VALUES (p_agent, p_action, p_account, p_request, p_detail,
            nullif(current_setting('portal.agent_addr', true), '')::inet)
$$;

-- The same for what an agent read or did with a message (a letter read
-- or printed, a call made): the message's request and account.  A
-- message of no request (an account's, or its request's gone) is
-- audited too, with its account.
CREATE FUNCTION portal.audit_message(p_agent uuid, p_action text,
                                     p_message uuid, p_detail jsonb)
RETURNS void
LANGUAGE sql
AS $$
    SELECT portal.audit(p_agent, p_action,
                        coalesce(q.account_id, g.account_id), q.id,
                        p_detail)
      FROM portal.messages g
      LEFT JOIN portal.requests q ON q.id = g.request_id
     WHERE g.id = p_message
$$;

CREATE FUNCTION portal.agent_json(a portal.agents)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object(
        'id', a.id, 'login', a.login, 'name', a.name, 'role', a.role,
        'themes', coalesce((SELECT json_agg(json_build_object(
                                       'slug', t.slug, 'title', t.title)
                                   ORDER BY t.position, t.slug)
                              FROM portal.themes t
                              JOIN portal.agent_themes x
                                ON x.theme_id = t.id
                             WHERE x.agent_id = a.id), '[]'))
$$;

-- Who did something, as other agents see it in a history.
CREATE FUNCTION portal.agent_ref(p_agent uuid)
RETURNS json
LANGUAGE sql STABLE
AS $$
    SELECT json_build_object('id', a.id, 'login', a.login, 'name', a.name)
      FROM portal.agents a WHERE a.id = p_agent
$$;


-- A key of a list read newest first: a time and an id, as one opaque
-- word ("<microseconds since 1970>.<uuid>"), given with each item and
-- taken back as ?page=.
--
-- STABLE as date_part() of a timestamptz is, so that it is inlined in the
-- queries that make 50 of these; date_part's double is exact to the
-- microsecond for centuries, and cheaper than extract's numeric.
CREATE FUNCTION portal.page_key(p_at timestamptz, p_id uuid)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT (date_part('epoch', p_at) * 1000000)::bigint || '.' || p_id
$$;

-- The time and id of a key; agent_page for anything else.
CREATE FUNCTION portal.page_parse(p_key text, OUT at timestamptz,
                                  OUT id uuid)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    m  text[] := regexp_match(p_key,
                     '^(-?[0-9]{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}'
                     '-[0-9a-f]{4}-[0-9a-f]{12})$');
BEGIN
    IF p_key IS NULL THEN
        RETURN;
    END IF;

    IF m IS NULL THEN
        RAISE EXCEPTION 'bad page key %', left(p_key, 80)
              USING CONSTRAINT = 'agent_page';
    END IF;

    at := timestamptz 'epoch' + m[1]::bigint * interval '1 microsecond';
    id := m[2]::uuid;
END
$$;

-- The key of a list read newest first by a bigint id (the outbox, the
-- audit log): the id as text; agent_page for anything else.
CREATE FUNCTION portal.page_id(p_key text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF p_key IS NOT NULL AND p_key !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'bad page key %', left(p_key, 80)
              USING CONSTRAINT = 'agent_page';
    END IF;
    RETURN p_key::bigint;
END
$$;

-- A page's size: 50 unless told, 1 to 200.
CREATE FUNCTION portal.page_limit(p_limit integer)
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT least(greatest(coalesce(p_limit, 50), 1), 200) $$;


-- ------------------------------------------------------------- log in

CREATE FUNCTION portal.agent_credentials_begin(p_login text, p_addr text,
                                               p_captcha_id uuid,
                                               p_captcha_answer text)
RETURNS TABLE (verdict text, attempt bigint, id uuid, login text,
               hash text, epoch integer, role text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    lkey  text := lower(p_login);
    a     portal.agents;
    t     record;
BEGIN
    SELECT * INTO t FROM portal.attempt_begin('agent', lkey, p_addr,
                                              p_captcha_id,
                                              p_captcha_answer);

    IF t.verdict <> 'go' THEN
        RETURN QUERY SELECT t.verdict, NULL::bigint, NULL::uuid, NULL::text,
                            NULL::text, NULL::integer, NULL::text;
        RETURN;
    END IF;

    SELECT * INTO a FROM portal.agents
     WHERE agents.login = lkey AND active;

    RETURN QUERY SELECT 'go', t.attempt, a.id, a.login, a.password_hash,
                        a.session_epoch, a.role;
END
$$;

CREATE FUNCTION portal.agent_login_succeeded(p_id uuid)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.agents SET last_login_at = now() WHERE id = p_id
$$;

-- Run by every request of an agent: in PL/pgSQL, as portal.session_check
-- (040_credentials.sql says why), so that its plan is kept.
CREATE FUNCTION portal.agent_session_check(p_id uuid, p_epoch integer)
RETURNS TABLE (login text, role text, name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 1
SET search_path = pg_catalog, portal, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT g.login, g.role, g.name FROM portal.agents g
         WHERE g.id = p_id AND g.session_epoch = p_epoch AND g.active;
END
$$;

CREATE FUNCTION portal.agent_session_end(p_id uuid, p_epoch integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    UPDATE portal.agents SET session_epoch = session_epoch + 1
     WHERE id = p_id AND session_epoch = p_epoch
$$;

CREATE FUNCTION portal.agent_me(p_agent uuid)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, portal, pg_temp
AS $$
    SELECT portal.agent_json(a) FROM portal.agents a
     WHERE a.id = p_agent AND a.active
$$;


-- ---------------------------------------------------------- operators

CREATE FUNCTION portal.agent_upsert(p_login text, p_role text,
                                    p_password_hash text,
                                    p_name text DEFAULT NULL,
                                    p_themes text[] DEFAULT NULL)
RETURNS json
LANGUAGE plpgsql
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    a        portal.agents;
    unknown  text;
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('admin', 'instructeur') THEN
        RAISE EXCEPTION 'a role is admin or instructeur, not %', p_role
              USING CONSTRAINT = 'agent_role';
    END IF;

    IF p_role = 'admin' AND cardinality(p_themes) > 0 THEN
        RAISE EXCEPTION 'an admin sees every theme'
              USING CONSTRAINT = 'agent_theme';
    END IF;

    SELECT string_agg(s, ', ') INTO unknown
      FROM unnest(p_themes) s
     WHERE NOT EXISTS (SELECT 1 FROM portal.themes t WHERE t.slug = s);

    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'no theme %', unknown
              USING CONSTRAINT = 'agent_theme';
    END IF;

    INSERT INTO portal.agents AS g (login, name, role, password_hash)
    VALUES (lower(p_login), coalesce(nullif(p_name, ''), lower(p_login)),
            p_role, p_password_hash)
    ON CONFLICT (login) DO UPDATE
       SET name = coalesce(nullif(p_name, ''), g.name),
           role = excluded.role,
           password_hash = excluded.password_hash,
           session_epoch = g.session_epoch
                           + (g.password_hash <> excluded.password_hash
                              OR NOT g.active)::integer,
           active = true,
           updated_at = now()
    RETURNING * INTO a;

    IF p_role = 'admin' OR p_themes IS NOT NULL THEN
        DELETE FROM portal.agent_themes WHERE agent_id = a.id;
        INSERT INTO portal.agent_themes (agent_id, theme_id)
        SELECT a.id, t.id FROM portal.themes t
         WHERE t.slug = ANY (p_themes) AND p_role = 'instructeur';
    END IF;

    RETURN portal.agent_json(a);
END
$$;

CREATE FUNCTION portal.agent_disable(p_login text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, portal, pg_temp
AS $$
    WITH d AS (
        UPDATE portal.agents
           SET active = false, session_epoch = session_epoch + 1,
               updated_at = now()
         WHERE login = lower(p_login) AND active
        RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM d)
$$;
