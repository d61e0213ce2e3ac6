-- Bench data at a town's ten-year scale (make bench: 50,000 accounts and
-- 200,000 requests), made in a few set-based statements.  Never granted
-- to portal: the owner runs it through psql, e.g.
--
--   ci/pg psql DIR DB -c "SELECT portal.bench_seed(50000, 200000,
--                                                  'jean.dupont')"
--
-- bench_seed(p_accounts integer, p_requests integer, p_like text) -> json
--     p_accounts new accounts bench.N (N after the last one made), each
--     with a child, validated, with the password hash and security answer
--     of the existing account p_like: the bench logs in as any of them
--     with the password it knows, and Argon2id is not run 50,000 times.
--     p_requests requests, as many for each of those accounts (give it
--     four times as many requests as accounts), over the last ten years, in
--     every state (most of them done), with their history along the state
--     machine and references that follow the yearly counters.
--     Answers {accounts, requests, events, seconds}.

CREATE FUNCTION portal.bench_seed(p_accounts integer, p_requests integer,
                                  p_like text)
RETURNS json
LANGUAGE plpgsql
SET search_path = pg_catalog, portal, pg_temp
AS $$
DECLARE
    t0           timestamptz := clock_timestamp();
    model        portal.accounts;
    first        integer;
    ids          uuid[];
    children     uuid[];
    procs        integer[] := ARRAY(SELECT id FROM portal.procedures
                                     WHERE active ORDER BY id);
    nevents      bigint;
    replication  text;
BEGIN
    SELECT * INTO model FROM portal.accounts WHERE login = p_like;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account % to take the hashes from', p_like;
    END IF;

    -- Rows made consistent by construction: as a superuser, the foreign
    -- keys' checks (a million lookups, three quarters of the time) are
    -- skipped for this transaction.  The tests run it as portal_owner,
    -- checks on.
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        replication := current_setting('session_replication_role');
        PERFORM set_config('session_replication_role', 'replica', true);
    END IF;

    SELECT coalesce(max(substring(login FROM '^bench\.([0-9]+)$')::integer),
                    0) + 1
      INTO first FROM portal.accounts WHERE login LIKE 'bench.%';

    WITH made AS (
        INSERT INTO portal.accounts (login, civility, first_name, last_name,
                                     birth_date, email, phone, address_line,
                                     postcode, city, contact_mode,
                                     password_hash, question_id,
                                     answer_hash, validated, validated_at,
                                     created_at)
        SELECT 'bench.' || i, CASE WHEN i % 2 = 0 THEN 'M' ELSE 'Mme' END,
               (ARRAY['Camille', 'Dominique', 'Claude', 'Sacha', 'Alix',
                      'Maxime', 'Morgan', 'Lou'])[1 + i % 8],
               (ARRAY['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert',
                      'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent',
                      'Simon'])[1 + i % 11],
               date '1950-01-01' + (i * 7919) % 18000,
               'bench.' || i || '@example.org',
               '06' || lpad((i % 100000000)::text, 8, '0'),
               (1 + i % 120) || ' rue de la République', '44000', 'Nantes',
               'email', model.password_hash, model.question_id,
               model.answer_hash, true, now(),
               now() - interval '3650 days' * ((i * 31) % 1000) / 1000.0
          FROM generate_series(first, first + p_accounts - 1) i
        RETURNING id, login
    ), kids AS (
        INSERT INTO portal.members (account_id, kind, first_name, last_name,
                                    birth_date, address_line, postcode, city)
        SELECT a.id, 'child', 'Enfant', 'Banc',
               date '2010-01-01' + abs(hashtext(a.login)) % 4000,
               '1 rue de la République', '44000', 'Nantes'
          FROM made a
        RETURNING id, account_id
    )
    SELECT array_agg(a.id ORDER BY a.login), array_agg(k.id ORDER BY a.login)
      INTO ids, children
      FROM made a JOIN kids k ON k.account_id = a.id;

    -- References follow the counters: nobody else numbers meanwhile.
    LOCK TABLE portal.request_counters IN EXCLUSIVE MODE;

    CREATE TEMPORARY TABLE bench_requests ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, x.who, x.created_at,
           extract(year FROM x.created_at AT TIME ZONE portal.town_zone())
               ::smallint AS year,
           procs[1 + x.i % cardinality(procs)] AS procedure_id,
           (ARRAY['valide', 'valide', 'valide', 'valide', 'valide',
                  'valide', 'valide', 'valide', 'valide', 'valide',
                  'complet', 'rejete', 'annule', 'en_traitement',
                  'en_traitement', 'en_attente', 'en_attente', 'incomplet',
                  'rectifie', 'brouillon'])[1 + x.r % 20] AS state
      FROM (SELECT i, 1 + (i - 1) % p_accounts AS who,
                   floor(random() * 20)::integer AS r,
                   now() - interval '3650 days' * random() AS created_at
              FROM generate_series(1, p_requests) i) x;

    INSERT INTO portal.requests (id, reference, procedure_id, account_id,
                                 member_id, data, state, contact_mode,
                                 created_at, updated_at, submitted_at)
    SELECT b.id,
           b.year || '-' || lpad((coalesce(c.n, 0)
                                   + row_number() OVER (
                                         PARTITION BY b.year
                                         ORDER BY b.created_at))::text,
                                  6, '0'),
           b.procedure_id, ids[b.who],
           CASE WHEN p.fields @> '[{"type": "member"}]'
                THEN children[b.who] END,
           jsonb_build_object('nom', 'Banc', 'observations',
                              'Demande faite pour le banc d''essai.'),
           b.state, 'email', b.created_at,
           b.created_at + interval '9 days',
           CASE WHEN b.state <> 'brouillon'
                THEN b.created_at + interval '1 hour' END
      FROM bench_requests b
      JOIN portal.procedures p ON p.id = b.procedure_id
      LEFT JOIN portal.request_counters c ON c.year = b.year;

    INSERT INTO portal.request_counters AS c (year, n)
    SELECT year, count(*) FROM bench_requests GROUP BY year
    ON CONFLICT (year) DO UPDATE SET n = c.n + excluded.n;

    -- each state's way from the draft, along the state machine
    INSERT INTO portal.request_events (request_id, at, from_state,
                                       to_state, actor, motive)
    SELECT b.id, b.created_at + interval '1 day' * w.step, w.from_state,
           w.to_state, w.actor,
           CASE WHEN w.to_state = 'rejete'
                THEN 'Les conditions de la démarche ne sont pas remplies.'
           END
      FROM bench_requests b
      JOIN (VALUES
            ('brouillon', 0, NULL, 'brouillon', 'citizen'),
            ('en_attente', 1, 'brouillon', 'en_attente', 'citizen'),
            ('en_traitement', 2, 'en_attente', 'en_traitement', 'agent'),
            ('incomplet', 3, 'en_traitement', 'incomplet', 'agent'),
            ('rectifie', 4, 'incomplet', 'rectifie', 'citizen'),
            ('complet', 3, 'en_traitement', 'complet', 'agent'),
            ('valide', 4, 'complet', 'valide', 'agent'),
            ('rejete', 3, 'en_traitement', 'rejete', 'agent'),
            ('annule', 2, 'en_attente', 'annule', 'agent'))
           AS w (reached, step, from_state, to_state, actor)
        ON w.reached = ANY (CASE b.state
            WHEN 'brouillon' THEN ARRAY['brouillon']
            WHEN 'en_attente' THEN ARRAY['brouillon', 'en_attente']
            WHEN 'en_traitement'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement']
            WHEN 'incomplet'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement',
                           'incomplet']
            WHEN 'rectifie'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement',
                           'incomplet', 'rectifie']
            WHEN 'complet'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement',
                           'complet']
            WHEN 'valide'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement',
                           'complet', 'valide']
            WHEN 'rejete'
                THEN ARRAY['brouillon', 'en_attente', 'en_traitement',
                           'rejete']
            WHEN 'annule' THEN ARRAY['brouillon', 'en_attente', 'annule']
        END)
     ORDER BY b.id, w.step;

    GET DIAGNOSTICS nevents = ROW_COUNT;

    IF replication IS NOT NULL THEN
        PERFORM set_config('session_replication_role', replication, true);
    END IF;

    ANALYZE portal.accounts;
    ANALYZE portal.members;
    ANALYZE portal.requests;
    ANALYZE portal.request_events;

    RETURN json_build_object(
        'accounts', p_accounts, 'requests', p_requests, 'events', nevents,
        'seconds', round(extract(epoch FROM clock_timestamp() - t0), 1));
END
$$;
