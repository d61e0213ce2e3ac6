-- What the back-office tells citizens, in French, and how: the texts of
-- an account's validation, of each move of a request (with the FAQ's
-- meaning of the state it reaches), of an information and of a decision
-- with its motive, each saying that no reply is needed (the FAQ: "Dois-je
-- répondre aux emails ou aux courriers que je reçois ? Non"); then the
-- message on the request's contact mode, in the transaction of the change
-- that caused it: an e-mail queued in the outbox, a letter for agents to
-- print, or a call for agents to make.  Helpers only: nothing here is
-- called by the module.


-- A text an agent gave, without the blanks around it; NULL when nothing
-- else is left.
CREATE FUNCTION portal.trimmed(p text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT nullif(regexp_replace(p, '^\s+|\s+$', '', 'g'), '') $$;

-- The person a request is about, as an accounts row: the account's
-- holder, or the applicant of a request made without one.
CREATE FUNCTION portal.request_person(r portal.requests)
RETURNS portal.accounts
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a  portal.accounts;
BEGIN
    IF r.account_id IS NOT NULL THEN
        SELECT * INTO a FROM portal.accounts WHERE id = r.account_id;
    ELSE
        a.civility := r.applicant->>'civility';
        a.first_name := r.applicant->>'first_name';
        a.last_name := r.applicant->>'last_name';
        a.email := r.applicant->>'email';
        a.phone := nullif(r.applicant->>'phone', '');
        a.address_line := r.applicant->'address'->>'line';
        a.postcode := r.applicant->'address'->>'postcode';
        a.city := r.applicant->'address'->>'city';
    END IF;
    RETURN a;
END
$$;

CREATE FUNCTION portal.civility_text(p text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE p WHEN 'M' THEN 'Monsieur' ELSE 'Madame' END $$;

-- The address of a letter: name, street, postcode and town.
CREATE FUNCTION portal.postal_block(a portal.accounts)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'%s %s %s\n%s\n%s %s', portal.civility_text(a.civility),
                  a.first_name, a.last_name, a.address_line, a.postcode,
                  a.city)
$$;

CREATE FUNCTION portal.agent_no_reply(p_channel text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE p_channel
        WHEN 'post' THEN 'Ce courrier ne demande aucune réponse de votre'
                         ' part.'
        WHEN 'phone' THEN 'Cet appel ne demande aucune réponse de votre'
                          ' part.'
        ELSE 'Ce message ne demande aucune réponse de votre part.'
    END
$$;

-- A letter's text: greeting, the text, the town hall's closing.
CREATE FUNCTION portal.letter_text(a portal.accounts, p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'%s,\n\n%s\n\nNous vous prions d''agréer, %s,'
                  ' l''expression de nos salutations distinguées.\n\n'
                  'La Mairie - Mon Compte Citoyen\n',
                  portal.civility_text(a.civility), p_text,
                  portal.civility_text(a.civility))
$$;

-- What the agent who calls says.
CREATE FUNCTION portal.call_text(a portal.accounts, p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'Bonjour %s %s %s, la Mairie vous appelle au sujet de'
                  ' votre demande.\n\n%s\n', portal.civility_text(a.civility),
                  a.first_name, a.last_name, p_text)
$$;


-- ----------------------------------------------------------- the texts

-- The account is validated: from now on the citizen may change it.
CREATE FUNCTION portal.account_validated_text(a portal.accounts)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT format(E'Les services de la Mairie ont validé votre compte'
                  ' (identifiant : %s).\n\nVous pouvez désormais le'
                  ' modifier et y déclarer les membres de votre foyer,'
                  ' depuis l''onglet « Compte ».\n\n%s', a.login,
                  portal.agent_no_reply('email'))
$$;

-- A move an agent made: kind (decision for the final states, information
-- otherwise), subject and text, the latter with what the new state means
-- (the FAQ's words), what the citizen may do, the motive and the agent's
-- message when there are.  p_account: the request has an account (its
-- citizen follows it on the portal).
CREATE FUNCTION portal.agent_state_mail(r portal.requests, p_to text,
                                        p_motive text, p_message text,
                                        p_channel text,
                                        OUT kind text, OUT subject text,
                                        OUT body text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    s        portal.request_states;
    account  boolean := r.account_id IS NOT NULL;
    next     text;
BEGIN
    SELECT * INTO s FROM portal.request_states WHERE state = p_to;

    kind := CASE WHEN s.final THEN 'decision' ELSE 'information' END;
    subject := CASE p_to
        WHEN 'valide' THEN format('Demande %s validée', r.reference)
        WHEN 'rejete' THEN format('Demande %s rejetée', r.reference)
        WHEN 'annule' THEN format('Demande %s annulée', r.reference)
        ELSE format('Demande %s : %s', r.reference, s.label)
    END;

    next := CASE p_to
        WHEN 'en_traitement'
            THEN 'Le service instructeur l''examine et vous fera part de'
                 ' sa décision.'
        WHEN 'incomplet'
            THEN CASE WHEN account
                      THEN 'Vous pouvez la compléter et y joindre les'
                           ' pièces qui manquent depuis l''onglet'
                           ' « Demandes » de votre compte, puis la'
                           ' soumettre à nouveau.'
                      ELSE 'Le service instructeur vous indique ci-dessous'
                           ' ce qui manque et comment le lui faire'
                           ' parvenir.' END
        WHEN 'complet'
            THEN 'Vous n''avez rien d''autre à fournir.'
        WHEN 'valide'
            THEN 'Le résultat vous parviendra selon les modalités de la'
                 ' démarche.'
        ELSE NULL
    END;

    body := format('Votre demande %s est passée à l''état « %s » : %s.',
                   portal.request_named(r), s.label, s.meaning);

    IF next IS NOT NULL THEN
        body := body || E'\n\n' || next;
    END IF;

    IF portal.trimmed(p_motive) IS NOT NULL THEN
        body := body || E'\n\nMotif : ' || portal.trimmed(p_motive);
    END IF;

    IF portal.trimmed(p_message) IS NOT NULL THEN
        body := body || E'\n\nMessage du service instructeur :\n'
                || portal.trimmed(p_message);
    END IF;

    IF account AND p_channel = 'email' THEN
        body := body || E'\n\nVous pouvez suivre l''avancement de vos'
                        ' demandes depuis l''onglet « Demandes » de votre'
                        ' compte.';
    END IF;

    body := body || E'\n\n' || portal.agent_no_reply(p_channel);
END
$$;

-- A message an agent writes: an information, or a decision with its
-- motive.
CREATE FUNCTION portal.agent_message_mail(r portal.requests, p_kind text,
                                          p_body text, p_motive text,
                                          p_channel text,
                                          OUT subject text, OUT body text)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF p_kind = 'decision' THEN
        subject := format('Décision sur votre demande %s', r.reference);
        body := format(E'Le service instructeur de votre demande %s a pris'
                        ' la décision suivante :\n\n%s',
                       portal.request_named(r), portal.trimmed(p_body));
        IF portal.trimmed(p_motive) IS NOT NULL THEN
            body := body || E'\n\nMotif : ' || portal.trimmed(p_motive);
        END IF;
    ELSE
        subject := format('Information sur votre demande %s', r.reference);
        body := format(E'Le service instructeur de votre demande %s vous'
                        ' communique l''information suivante :\n\n%s',
                       portal.request_named(r), portal.trimmed(p_body));
    END IF;

    body := body || E'\n\n' || portal.agent_no_reply(p_channel);
END
$$;


-- ------------------------------------------------------------ delivery

-- The channel of a request's contact mode, and whom it reaches: a phone
-- contact without a phone number (the citizen cleared it since) falls
-- back on e-mail, which every account and applicant has.
CREATE FUNCTION portal.request_channel(r portal.requests, a portal.accounts,
                                       OUT channel text, OUT recipient text)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT x.c, CASE x.c WHEN 'post' THEN portal.postal_block(a)
                         WHEN 'phone' THEN a.phone
                         ELSE a.email END
      FROM (SELECT CASE WHEN r.contact_mode = 'phone'
                             AND coalesce(a.phone, '') = '' THEN 'email'
                        ELSE r.contact_mode END AS c) x
$$;

-- A message about a request on its contact mode, written by p_agent,
-- going at p_send_at (NULL: now): e-mail is queued in the outbox, due
-- then; a letter or a call waits for agents, due then.  The message's
-- sent_at is when it goes; until then it may be cancelled.
CREATE FUNCTION portal.agent_notify(r portal.requests, p_agent uuid,
                                    p_kind text, p_subject text,
                                    p_text text, p_url text,
                                    p_send_at timestamptz DEFAULT NULL)
RETURNS portal.messages
LANGUAGE plpgsql
AS $$
DECLARE
    a     portal.accounts := portal.request_person(r);
    c     record := portal.request_channel(r, a);
    due   timestamptz := greatest(coalesce(p_send_at, now()), now());
    body  text;
    o     bigint;
    m     portal.messages;
BEGIN
    body := CASE c.channel
        WHEN 'post' THEN portal.letter_text(a, p_text)
        WHEN 'phone' THEN portal.call_text(a, p_text)
        ELSE portal.mail_text(a, p_text, p_url)
    END;

    IF c.channel = 'email' THEN
        INSERT INTO portal.outbox (account_id, recipient, subject, body,
                                   next_attempt_at)
        VALUES (r.account_id, c.recipient, p_subject, body, due)
        RETURNING id INTO o;
    END IF;

    INSERT INTO portal.messages (account_id, request_id, outbox_id, kind,
                                 channel, recipient, subject, body,
                                 send_at, sent_at, agent_id)
    VALUES (r.account_id, r.id, o, p_kind, c.channel, c.recipient,
            p_subject, body,
            CASE WHEN due > now() THEN due END, due, p_agent)
    RETURNING * INTO m;

    IF c.channel = 'post' THEN
        INSERT INTO portal.letters (message_id, due_at) VALUES (m.id, due);
    ELSIF c.channel = 'phone' THEN
        INSERT INTO portal.calls (message_id, due_at) VALUES (m.id, due);
    END IF;

    RETURN m;
END
$$;
