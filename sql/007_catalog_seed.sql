-- The town hall's first catalog: six themes, twelve procedures.  Civil
-- status certificates, the road report and the renewal of a grave are
-- open without an account, with a captcha (the FAQ: people who lived here
-- and moved away should not need an account); the others need one.
--
-- Texts are written with plain spaces; the last statement puts the
-- no-break spaces of French typography before « : ; ? ! » and after «, as
-- the pages do.

SET LOCAL ROLE portal_owner;

INSERT INTO portal.themes (slug, title, position) VALUES
    ('etat-civil', 'État civil', 1),
    ('citoyennete', 'Citoyenneté', 2),
    ('enfance', 'Enfance et scolarité', 3),
    ('cadre-de-vie', 'Cadre de vie', 4),
    ('vie-associative', 'Vie associative', 5),
    ('cimetieres', 'Cimetières', 6);


-- État civil ------------------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('acte-naissance',
        (SELECT id FROM portal.themes WHERE slug = 'etat-civil'), 1,
        'Demande d’acte de naissance',
        'Copie intégrale ou extrait d’un acte de naissance dressé par la'
        ' commune, gratuit, envoyé par courrier. Pour une naissance à'
        ' l’étranger, adressez-vous au Service central d’état civil.',
        false, true, $json$[
    {"name": "type_acte", "label": "Document demandé", "type": "select",
     "required": true, "options": [
        {"value": "copie_integrale", "label": "Copie intégrale"},
        {"value": "extrait_filiation", "label": "Extrait avec filiation"},
        {"value": "extrait_sans_filiation",
         "label": "Extrait sans filiation"},
        {"value": "extrait_plurilingue",
         "label": "Extrait plurilingue (pour l’étranger)"}]},
    {"name": "qualite", "label": "Vous êtes", "type": "select",
     "required": true, "options": [
        {"value": "interesse", "label": "la personne concernée"},
        {"value": "parent", "label": "son père ou sa mère"},
        {"value": "enfant", "label": "son fils ou sa fille"},
        {"value": "conjoint", "label": "son époux ou son épouse"},
        {"value": "grand_parent", "label": "son grand-père ou sa grand-mère"},
        {"value": "representant", "label": "son représentant légal"}]},
    {"name": "nom", "label": "Nom de naissance de la personne concernée",
     "type": "text", "required": true, "max_length": 100,
     "prefill": "holder.last_name"},
    {"name": "prenoms", "label": "Prénoms", "type": "text",
     "required": true, "max_length": 150, "prefill": "holder.first_name"},
    {"name": "date_naissance", "label": "Date de naissance", "type": "date",
     "required": true, "max": 0, "prefill": "holder.birth_date"},
    {"name": "nom_pere", "label": "Nom et prénoms du père", "type": "text",
     "required": false, "max_length": 150,
     "hint": "Pour une copie intégrale ou un extrait avec filiation."},
    {"name": "nom_mere", "label": "Nom de naissance et prénoms de la mère",
     "type": "text", "required": false, "max_length": 150},
    {"name": "exemplaires", "label": "Nombre d’exemplaires", "type": "number",
     "required": true, "min": 1, "max": 5},
    {"name": "adresse_envoi", "label": "Adresse d’envoi", "type": "textarea",
     "required": true, "max_length": 300, "prefill": "holder.address"},
    {"name": "motif", "label": "Motif de la demande", "type": "text",
     "required": false, "max_length": 200,
     "hint": "Par exemple : mariage, demande de passeport."}
]$json$, $json$[
    {"kind": "piece_identite", "label": "Pièce d’identité du demandeur",
     "required": false}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('acte-mariage',
        (SELECT id FROM portal.themes WHERE slug = 'etat-civil'), 2,
        'Demande d’acte de mariage',
        'Copie intégrale ou extrait d’un acte de mariage célébré dans la'
        ' commune, gratuit, envoyé par courrier.',
        false, true, $json$[
    {"name": "type_acte", "label": "Document demandé", "type": "select",
     "required": true, "options": [
        {"value": "copie_integrale", "label": "Copie intégrale"},
        {"value": "extrait_filiation", "label": "Extrait avec filiation"},
        {"value": "extrait_sans_filiation",
         "label": "Extrait sans filiation"},
        {"value": "extrait_plurilingue",
         "label": "Extrait plurilingue (pour l’étranger)"}]},
    {"name": "qualite", "label": "Vous êtes", "type": "select",
     "required": true, "options": [
        {"value": "epoux", "label": "l’un des époux"},
        {"value": "ascendant", "label": "leur père, mère ou grand-parent"},
        {"value": "descendant", "label": "leur enfant ou petit-enfant"},
        {"value": "representant", "label": "leur représentant légal"}]},
    {"name": "epoux_1", "label": "Nom de naissance et prénoms d’un époux",
     "type": "text", "required": true, "max_length": 150},
    {"name": "epoux_2",
     "label": "Nom de naissance et prénoms de l’autre époux",
     "type": "text", "required": true, "max_length": 150},
    {"name": "date_mariage", "label": "Date du mariage", "type": "date",
     "required": true, "max": 0},
    {"name": "exemplaires", "label": "Nombre d’exemplaires", "type": "number",
     "required": true, "min": 1, "max": 5},
    {"name": "adresse_envoi", "label": "Adresse d’envoi", "type": "textarea",
     "required": true, "max_length": 300, "prefill": "holder.address"}
]$json$, $json$[
    {"kind": "piece_identite", "label": "Pièce d’identité du demandeur",
     "required": false},
    {"kind": "livret_famille", "label": "Livret de famille",
     "required": false}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('acte-deces',
        (SELECT id FROM portal.themes WHERE slug = 'etat-civil'), 3,
        'Demande d’acte de décès',
        'Copie d’un acte de décès dressé dans la commune : toute personne'
        ' peut la demander. Gratuit, envoyé par courrier.',
        false, true, $json$[
    {"name": "nom_defunt", "label": "Nom du défunt", "type": "text",
     "required": true, "max_length": 100},
    {"name": "prenoms_defunt", "label": "Prénoms du défunt", "type": "text",
     "required": true, "max_length": 150},
    {"name": "date_deces", "label": "Date du décès", "type": "date",
     "required": true, "max": 0},
    {"name": "lien", "label": "Votre lien avec le défunt", "type": "select",
     "required": true, "options": [
        {"value": "conjoint", "label": "Conjoint"},
        {"value": "enfant", "label": "Enfant"},
        {"value": "parent", "label": "Père ou mère"},
        {"value": "famille", "label": "Autre membre de la famille"},
        {"value": "notaire", "label": "Notaire"},
        {"value": "autre", "label": "Autre"}]},
    {"name": "exemplaires", "label": "Nombre d’exemplaires", "type": "number",
     "required": true, "min": 1, "max": 5},
    {"name": "adresse_envoi", "label": "Adresse d’envoi", "type": "textarea",
     "required": true, "max_length": 300, "prefill": "holder.address"},
    {"name": "courriel",
     "label": "Adresse électronique pour vous prévenir de l’envoi",
     "type": "email", "required": false, "max_length": 254,
     "prefill": "holder.email"}
]$json$, '[]');


-- Citoyenneté -----------------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('inscription-listes-electorales',
        (SELECT id FROM portal.themes WHERE slug = 'citoyennete'), 1,
        'Inscription sur les listes électorales',
        'Pour voter dans la commune : première inscription, arrivée dans la'
        ' commune ou changement d’adresse. Inscription possible toute'
        ' l’année, au plus tard le sixième vendredi avant un scrutin.',
        true, false, $json$[
    {"name": "nationalite", "label": "Nationalité", "type": "select",
     "required": true, "options": [
        {"value": "francaise", "label": "Française"},
        {"value": "europeenne",
         "label": "D’un autre pays de l’Union européenne"}]},
    {"name": "motif", "label": "Motif de l’inscription", "type": "select",
     "required": true, "options": [
        {"value": "premiere", "label": "Première inscription"},
        {"value": "arrivee", "label": "Arrivée dans la commune"},
        {"value": "demenagement",
         "label": "Changement d’adresse dans la commune"}]},
    {"name": "nom_naissance", "label": "Nom de naissance", "type": "text",
     "required": true, "max_length": 100, "prefill": "holder.last_name"},
    {"name": "nom_usage", "label": "Nom d’usage, s’il diffère",
     "type": "text", "required": false, "max_length": 100},
    {"name": "prenoms", "label": "Prénoms", "type": "text",
     "required": true, "max_length": 150, "prefill": "holder.first_name"},
    {"name": "date_naissance", "label": "Date de naissance", "type": "date",
     "required": true, "max": 0, "prefill": "holder.birth_date"},
    {"name": "lieu_naissance", "label": "Commune et pays de naissance",
     "type": "text", "required": true, "max_length": 150},
    {"name": "adresse", "label": "Adresse dans la commune", "type": "text",
     "required": true, "max_length": 300, "prefill": "holder.address"},
    {"name": "attestation",
     "label": "J’atteste sur l’honneur l’exactitude de ces informations.",
     "type": "checkbox", "required": true}
]$json$, $json$[
    {"kind": "piece_identite",
     "label": "Pièce d’identité ou passeport en cours de validité",
     "required": true},
    {"kind": "justificatif_domicile",
     "label": "Justificatif de domicile de moins de trois mois",
     "required": true}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('recensement-citoyen',
        (SELECT id FROM portal.themes WHERE slug = 'citoyennete'), 2,
        'Recensement citoyen',
        'Tout jeune Français se fait recenser entre ses 16 ans et la fin du'
        ' troisième mois qui suit. L’attestation remise est demandée pour'
        ' les examens et le permis de conduire.',
        true, false, $json$[
    {"name": "jeune", "label": "Jeune de votre foyer", "type": "member",
     "required": false, "member_kind": "child",
     "hint": "Choisi ici, ses informations sont reprises ci-dessous."},
    {"name": "nom", "label": "Nom", "type": "text", "required": true,
     "max_length": 100, "prefill": "member.last_name"},
    {"name": "prenoms", "label": "Prénoms", "type": "text",
     "required": true, "max_length": 150, "prefill": "member.first_name"},
    {"name": "date_naissance", "label": "Date de naissance", "type": "date",
     "required": true, "min": -9300, "max": -5840,
     "prefill": "member.birth_date"},
    {"name": "lieu_naissance", "label": "Commune et pays de naissance",
     "type": "text", "required": true, "max_length": 150},
    {"name": "nationalite", "label": "Nationalité française",
     "type": "select", "required": true, "options": [
        {"value": "naissance", "label": "Française de naissance"},
        {"value": "acquisition", "label": "Acquise depuis la naissance"}]},
    {"name": "situation", "label": "Situation", "type": "select",
     "required": true, "options": [
        {"value": "scolaire", "label": "Scolarisé ou étudiant"},
        {"value": "apprentissage", "label": "En apprentissage"},
        {"value": "emploi", "label": "En emploi"},
        {"value": "autre", "label": "Autre situation"}]},
    {"name": "courriel_jeune", "label": "Adresse électronique du jeune",
     "type": "email", "required": false, "max_length": 254},
    {"name": "telephone", "label": "Téléphone du représentant légal",
     "type": "tel", "required": false, "max_length": 30,
     "prefill": "holder.phone"}
]$json$, $json$[
    {"kind": "piece_identite", "label": "Pièce d’identité du jeune",
     "required": true},
    {"kind": "livret_famille", "label": "Livret de famille",
     "required": true}
]$json$);


-- Enfance et scolarité --------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('inscription-scolaire',
        (SELECT id FROM portal.themes WHERE slug = 'enfance'), 1,
        'Inscription scolaire',
        'Première inscription dans une école maternelle ou élémentaire'
        ' publique de la commune, ou changement d’école après un'
        ' déménagement.',
        true, false, $json$[
    {"name": "enfant", "label": "Enfant de votre foyer", "type": "member",
     "required": false, "member_kind": "child",
     "hint": "Choisi ici, ses informations sont reprises ci-dessous."},
    {"name": "nom", "label": "Nom de l’enfant", "type": "text",
     "required": true, "max_length": 100, "prefill": "member.last_name"},
    {"name": "prenoms", "label": "Prénoms de l’enfant", "type": "text",
     "required": true, "max_length": 150, "prefill": "member.first_name"},
    {"name": "date_naissance", "label": "Date de naissance de l’enfant",
     "type": "date", "required": true, "max": 0,
     "prefill": "member.birth_date"},
    {"name": "niveau", "label": "Classe à la rentrée", "type": "select",
     "required": true, "options": [
        {"value": "tps", "label": "Toute petite section"},
        {"value": "ps", "label": "Petite section"},
        {"value": "ms", "label": "Moyenne section"},
        {"value": "gs", "label": "Grande section"},
        {"value": "cp", "label": "CP"},
        {"value": "ce1", "label": "CE1"},
        {"value": "ce2", "label": "CE2"},
        {"value": "cm1", "label": "CM1"},
        {"value": "cm2", "label": "CM2"}]},
    {"name": "ecole", "label": "École souhaitée", "type": "select",
     "required": false, "options": [
        {"value": "jules-ferry", "label": "École Jules-Ferry"},
        {"value": "louis-pasteur", "label": "École Louis-Pasteur"},
        {"value": "george-sand", "label": "École George-Sand"}],
     "hint": "Celle du secteur de votre adresse, sauf dérogation."},
    {"name": "date_entree", "label": "Date d’entrée souhaitée",
     "type": "date", "required": true, "min": 0, "max": 400},
    {"name": "telephone", "label": "Téléphone du responsable légal",
     "type": "tel", "required": true, "max_length": 30,
     "prefill": "holder.phone"},
    {"name": "observations",
     "label": "Observations (santé, garde alternée…)",
     "type": "textarea", "required": false, "max_length": 1000}
]$json$, $json$[
    {"kind": "livret_famille",
     "label": "Livret de famille ou acte de naissance de l’enfant",
     "required": true},
    {"kind": "justificatif_domicile",
     "label": "Justificatif de domicile de moins de trois mois",
     "required": true},
    {"kind": "vaccinations",
     "label": "Pages des vaccinations du carnet de santé",
     "required": true}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('restauration-scolaire',
        (SELECT id FROM portal.themes WHERE slug = 'enfance'), 2,
        'Inscription à la restauration scolaire',
        'Inscription d’un enfant d’une école publique de la commune au'
        ' restaurant scolaire, tous les jours ou certains jours de la'
        ' semaine.',
        true, false, $json$[
    {"name": "enfant", "label": "Enfant de votre foyer", "type": "member",
     "required": false, "member_kind": "child",
     "hint": "Choisi ici, ses informations sont reprises ci-dessous."},
    {"name": "nom", "label": "Nom de l’enfant", "type": "text",
     "required": true, "max_length": 100, "prefill": "member.last_name"},
    {"name": "prenoms", "label": "Prénoms de l’enfant", "type": "text",
     "required": true, "max_length": 150, "prefill": "member.first_name"},
    {"name": "lundi", "label": "Lundi", "type": "checkbox",
     "required": false},
    {"name": "mardi", "label": "Mardi", "type": "checkbox",
     "required": false},
    {"name": "jeudi", "label": "Jeudi", "type": "checkbox",
     "required": false},
    {"name": "vendredi", "label": "Vendredi", "type": "checkbox",
     "required": false},
    {"name": "menu", "label": "Menu", "type": "select", "required": true,
     "options": [
        {"value": "standard", "label": "Menu standard"},
        {"value": "sans_viande", "label": "Menu sans viande"},
        {"value": "sans_porc", "label": "Menu sans porc"}]},
    {"name": "allergie",
     "label": "Mon enfant a une allergie ou une intolérance alimentaire",
     "type": "checkbox", "required": false,
     "hint": "Un projet d’accueil individualisé (PAI) sera établi."},
    {"name": "date_debut", "label": "À partir du", "type": "date",
     "required": true, "min": 0, "max": 365},
    {"name": "reglement",
     "label": "J’ai lu le règlement de la restauration scolaire.",
     "type": "checkbox", "required": true}
]$json$, $json$[
    {"kind": "quotient_familial",
     "label": "Attestation de quotient familial de la CAF",
     "required": false},
    {"kind": "pai", "label": "Projet d’accueil individualisé (PAI)",
     "required": false}
]$json$);


-- Cadre de vie ----------------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('encombrants',
        (SELECT id FROM portal.themes WHERE slug = 'cadre-de-vie'), 1,
        'Enlèvement des encombrants',
        'Collecte gratuite à domicile des objets trop volumineux pour la'
        ' poubelle (meubles, électroménager, literie), 5 m³ au plus par'
        ' passage.',
        true, false, $json$[
    {"name": "adresse", "label": "Adresse de collecte", "type": "text",
     "required": true, "max_length": 300, "prefill": "holder.address"},
    {"name": "date_souhaitee", "label": "Date de collecte souhaitée",
     "type": "date", "required": true, "min": 7, "max": 60,
     "hint": "Le service vous confirmera le jour de passage."},
    {"name": "volume", "label": "Volume estimé (en m³)", "type": "number",
     "required": true, "min": 0.5, "max": 5},
    {"name": "objets", "label": "Objets à enlever", "type": "textarea",
     "required": true, "max_length": 1000},
    {"name": "emplacement", "label": "Où seront-ils déposés ?",
     "type": "select", "required": true, "options": [
        {"value": "trottoir", "label": "Sur le trottoir, devant le domicile"},
        {"value": "cour",
         "label": "Dans la cour ou le jardin, accessible depuis la rue"},
        {"value": "autre", "label": "Ailleurs (précisez avec les objets)"}]},
    {"name": "telephone",
     "label": "Téléphone pour vous joindre le jour de la collecte",
     "type": "tel", "required": true, "max_length": 30,
     "prefill": "holder.phone"}
]$json$, $json$[
    {"kind": "photo", "label": "Photo des objets", "required": false}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('signalement-voirie',
        (SELECT id FROM portal.themes WHERE slug = 'cadre-de-vie'), 2,
        'Signalement d’un problème sur la voirie',
        'Nid-de-poule, éclairage en panne, panneau abîmé, dépôt sauvage :'
        ' signalez-le aux services techniques, qui interviennent selon'
        ' l’urgence.',
        false, true, $json$[
    {"name": "nature", "label": "Nature du problème", "type": "select",
     "required": true, "options": [
        {"value": "chaussee",
         "label": "Chaussée ou trottoir dégradé (nid-de-poule…)"},
        {"value": "eclairage", "label": "Éclairage public en panne"},
        {"value": "signalisation",
         "label": "Panneau ou feu tricolore endommagé"},
        {"value": "depot", "label": "Dépôt sauvage de déchets"},
        {"value": "mobilier", "label": "Mobilier urbain dégradé"},
        {"value": "autre", "label": "Autre"}]},
    {"name": "lieu", "label": "Adresse ou lieu précis", "type": "text",
     "required": true, "max_length": 200},
    {"name": "description", "label": "Description", "type": "textarea",
     "required": true, "max_length": 2000},
    {"name": "date_constat", "label": "Date du constat", "type": "date",
     "required": false, "min": -365, "max": 0},
    {"name": "danger", "label": "Le problème présente un danger immédiat",
     "type": "checkbox", "required": false},
    {"name": "courriel",
     "label": "Adresse électronique pour être informé de l’intervention",
     "type": "email", "required": false, "max_length": 254,
     "prefill": "holder.email"}
]$json$, $json$[
    {"kind": "photo", "label": "Photo du problème", "required": false}
]$json$);


-- Vie associative -------------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('pret-salle',
        (SELECT id FROM portal.themes WHERE slug = 'vie-associative'), 1,
        'Prêt d’une salle municipale',
        'Prêt d’une salle aux associations de la commune pour une réunion,'
        ' une assemblée générale ou une manifestation, demandé au moins un'
        ' mois à l’avance.',
        true, false, $json$[
    {"name": "association", "label": "Nom de l’association", "type": "text",
     "required": true, "max_length": 150},
    {"name": "rna", "label": "Numéro RNA", "type": "text",
     "required": false, "max_length": 10,
     "hint": "W et 9 chiffres, sur le récépissé de déclaration."},
    {"name": "salle", "label": "Salle demandée", "type": "select",
     "required": true, "options": [
        {"value": "fetes", "label": "Salle des fêtes (300 places)"},
        {"value": "polyvalente",
         "label": "Maison des associations, salle polyvalente (80 places)"},
        {"value": "reunion",
         "label": "Maison des associations, salle de réunion (20 places)"}]},
    {"name": "date_manifestation", "label": "Date", "type": "date",
     "required": true, "min": 30, "max": 365},
    {"name": "creneau", "label": "Créneau", "type": "select",
     "required": true, "options": [
        {"value": "matin", "label": "Matin (8 h à 12 h)"},
        {"value": "apres_midi", "label": "Après-midi (13 h à 18 h)"},
        {"value": "soiree", "label": "Soirée (18 h à minuit)"},
        {"value": "journee", "label": "Journée entière"}]},
    {"name": "participants", "label": "Nombre de participants attendus",
     "type": "number", "required": true, "min": 1, "max": 300},
    {"name": "objet", "label": "Objet de la réunion ou de la manifestation",
     "type": "textarea", "required": true, "max_length": 1000},
    {"name": "buvette",
     "label": "Une buvette sera tenue (autorisation à demander à part)",
     "type": "checkbox", "required": false},
    {"name": "courriel", "label": "Adresse électronique du responsable",
     "type": "email", "required": true, "max_length": 254,
     "prefill": "holder.email"},
    {"name": "telephone", "label": "Téléphone du responsable", "type": "tel",
     "required": true, "max_length": 30, "prefill": "holder.phone"},
    {"name": "reglement",
     "label": "Je m’engage à respecter le règlement des salles municipales.",
     "type": "checkbox", "required": true}
]$json$, $json$[
    {"kind": "assurance",
     "label": "Attestation d’assurance responsabilité civile",
     "required": true},
    {"kind": "statuts", "label": "Statuts de l’association",
     "required": false}
]$json$);

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('manifestation-voie-publique',
        (SELECT id FROM portal.themes WHERE slug = 'vie-associative'), 2,
        'Déclaration d’une manifestation sur la voie publique',
        'Vide-greniers, fête de quartier, course : une manifestation sur la'
        ' voie publique se déclare en mairie au moins deux mois à l’avance.',
        true, false, $json$[
    {"name": "organisateur", "label": "Organisateur (association ou personne)",
     "type": "text", "required": true, "max_length": 150},
    {"name": "intitule", "label": "Intitulé de la manifestation",
     "type": "text", "required": true, "max_length": 150},
    {"name": "date_manifestation", "label": "Date", "type": "date",
     "required": true, "min": 60, "max": 730},
    {"name": "lieu", "label": "Lieu et parcours", "type": "textarea",
     "required": true, "max_length": 1000},
    {"name": "participants", "label": "Nombre de participants attendus",
     "type": "number", "required": true, "min": 1, "max": 10000},
    {"name": "sonorisation", "label": "Utilisation d’une sonorisation",
     "type": "checkbox", "required": false},
    {"name": "installations",
     "label": "Stands, barnums ou tables installés sur la voie publique",
     "type": "checkbox", "required": false},
    {"name": "telephone",
     "label": "Téléphone de l’organisateur le jour de la manifestation",
     "type": "tel", "required": true, "max_length": 30,
     "prefill": "holder.phone"}
]$json$, $json$[
    {"kind": "assurance",
     "label": "Attestation d’assurance responsabilité civile",
     "required": true},
    {"kind": "plan", "label": "Plan d’implantation ou du parcours",
     "required": false}
]$json$);


-- Cimetières ------------------------------------------------------------

INSERT INTO portal.procedures (slug, theme_id, position, title, description,
                               requires_account, requires_captcha, fields,
                               documents)
VALUES ('concession-funeraire',
        (SELECT id FROM portal.themes WHERE slug = 'cimetieres'), 1,
        'Renouvellement d’une concession funéraire',
        'Renouveler une concession échue ou qui arrive à échéance dans l’un'
        ' des cimetières de la commune. Le service des cimetières vous'
        ' indiquera le tarif et la façon de régler.',
        false, true, $json$[
    {"name": "cimetiere", "label": "Cimetière", "type": "select",
     "required": true, "options": [
        {"value": "ancien", "label": "Cimetière ancien"},
        {"value": "paysager", "label": "Cimetière paysager"}]},
    {"name": "numero", "label": "Numéro de la concession", "type": "text",
     "required": false, "max_length": 20,
     "hint": "Il figure sur le titre de concession."},
    {"name": "famille", "label": "Nom de la famille inhumée", "type": "text",
     "required": true, "max_length": 150},
    {"name": "duree", "label": "Durée du renouvellement", "type": "select",
     "required": true, "options": [
        {"value": "15", "label": "15 ans"},
        {"value": "30", "label": "30 ans"},
        {"value": "50", "label": "50 ans"}]},
    {"name": "lien", "label": "Votre lien avec les personnes inhumées",
     "type": "text", "required": true, "max_length": 100},
    {"name": "adresse", "label": "Votre adresse", "type": "textarea",
     "required": true, "max_length": 300, "prefill": "holder.address"},
    {"name": "telephone", "label": "Téléphone", "type": "tel",
     "required": false, "max_length": 30, "prefill": "holder.phone"},
    {"name": "courriel", "label": "Adresse électronique", "type": "email",
     "required": true, "max_length": 254, "prefill": "holder.email"}
]$json$, $json$[
    {"kind": "piece_identite", "label": "Pièce d’identité",
     "required": false},
    {"kind": "titre_concession", "label": "Titre de concession",
     "required": false}
]$json$);


-- French typography: a no-break space before « : ; ? ! » and after «.
UPDATE portal.themes
   SET title = regexp_replace(title, ' ([:;?!»])', E'\u00a0\\1', 'g');

UPDATE portal.procedures
   SET title = regexp_replace(regexp_replace(title,
                   ' ([:;?!»])', E'\u00a0\\1', 'g'), '« ', E'«\u00a0', 'g'),
       description = regexp_replace(regexp_replace(description,
                   ' ([:;?!»])', E'\u00a0\\1', 'g'), '« ', E'«\u00a0', 'g'),
       fields = regexp_replace(regexp_replace(fields::text,
                   ' ([:;?!»])', E'\u00a0\\1', 'g'), '« ', E'«\u00a0',
                   'g')::jsonb,
       documents = regexp_replace(regexp_replace(documents::text,
                   ' ([:;?!»])', E'\u00a0\\1', 'g'), '« ', E'«\u00a0',
                   'g')::jsonb;
