/*
 * Mon Compte Citoyen, the "Compte" tab: creating an account (seed flow A:
 * the holder, a password, a security question, the contact mode, the
 * household, the captcha, "Confirmer et continuer"), then the account
 * itself: the household (adults on the left, children on the right), each
 * person's file with "Modifier" beside each block, "Ajouter" an adult or a
 * child, the account-opening documents, the export of one's data, and
 * changing one's password.
 *
 * Runs after js/portal.js, whose window.Portail it uses (API calls, session,
 * form errors). No inline code anywhere: the page runs under a strict CSP.
 */
(function () {
    'use strict';

    var P = window.Portail;
    if (!P) {
        return;
    }
    var creer = P.creer;
    var taille = P.taille;
    var tous = P.tous;

    var MOIS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin',
                'juillet', 'août', 'septembre', 'octobre', 'novembre',
                'décembre'];

    var CIVILITES = { Mme: 'Madame', M: 'Monsieur' };

    var CONTACTS = {
        email: 'Par courriel',
        phone: 'Par téléphone',
        post: 'Par courrier'
    };

    var DOCUMENTS = {
        justificatif_domicile: 'Justificatif de domicile',
        piece_identite: 'Pièce d’identité',
        livret_famille: 'Livret de famille',
        autre: 'Autre'
    };

    /*
     * The fields of a person, as the API names them. "personnel": the
     * autocomplete token, given only when the person is the one typing.
     */
    var CHAMPS = {
        civility: { libelle: 'Civilité', type: 'radio',
                    options: [['Mme', 'Madame'], ['M', 'Monsieur']] },
        first_name: { libelle: 'Prénom', personnel: 'given-name', max: 100 },
        last_name: { libelle: 'Nom', personnel: 'family-name', max: 100 },
        birth_date: { libelle: 'Date de naissance', type: 'date',
                      personnel: 'bday' },
        email: { libelle: 'Adresse électronique', type: 'email',
                 personnel: 'email', max: 254 },
        phone: { libelle: 'Téléphone', type: 'tel', personnel: 'tel', max: 30,
                 aide: '10 chiffres, par exemple 01 23 45 67 89, ou + et '
                       + 'l’indicatif : +33 1 23 45 67 89.' },
        'address.line': { libelle: 'Numéro et rue',
                          personnel: 'address-line1', max: 200 },
        'address.postcode': { libelle: 'Code postal',
                              personnel: 'postal-code', max: 5,
                              aide: '5 chiffres', numerique: true },
        'address.city': { libelle: 'Commune', personnel: 'address-level2',
                          max: 100 },
        contact_mode: { libelle: 'Mode de contact', type: 'radio',
                        options: [['email', 'Par courriel'],
                                  ['phone', 'Par téléphone'],
                                  ['post', 'Par courrier']] }
    };

    var ADRESSE = ['address.line', 'address.postcode', 'address.city'];

    /* ------------------------------------------------------ utilities */

    function aujourdhui() {
        var d = new Date();
        var mm = String(d.getMonth() + 1);
        var jj = String(d.getDate());
        return d.getFullYear() + '-' + (mm.length < 2 ? '0' : '') + mm
               + '-' + (jj.length < 2 ? '0' : '') + jj;
    }

    /* "2015-01-04" → "4 janvier 2015", without any time zone shift. */
    function dateLongue(iso) {
        var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || '');
        if (!m) {
            return iso || '';
        }
        var jour = parseInt(m[3], 10);
        return (jour === 1 ? '1er' : String(jour)) + ' '
               + MOIS[parseInt(m[2], 10) - 1] + ' ' + m[1];
    }

    function valeur(objet, chemin) {
        return chemin.split('.').reduce(function (o, k) {
            return o && typeof o === 'object' ? o[k] : undefined;
        }, objet);
    }

    function poser(objet, chemin, v) {
        var cles = chemin.split('.');
        var o = objet;
        cles.slice(0, -1).forEach(function (k) {
            if (!o[k] || typeof o[k] !== 'object') {
                o[k] = {};
            }
            o = o[k];
        });
        o[cles[cles.length - 1]] = v;
    }

    function nomComplet(p) {
        return [p.first_name, p.last_name].filter(Boolean).join(' ')
               || p.name || 'Sans nom';
    }

    function texteAdresse(a) {
        if (!a || (!a.line && !a.postcode && !a.city)) {
            return '';
        }
        return [a.line, [a.postcode, a.city].filter(Boolean).join(' ')]
               .filter(Boolean).join(', ');
    }

    /* A button whose accessible name says what it acts on. */
    function boutonNomme(visible, cache, classe) {
        var b = creer('button', classe || 'bouton bouton--secondaire bouton--petit');
        b.type = 'button';
        b.appendChild(document.createTextNode(visible));
        if (cache) {
            b.appendChild(creer('span', 'visuellement-cache', ' : ' + cache));
        }
        return b;
    }

    /*
     * One field of a person. nom: a key of CHAMPS; o: {id (base of the
     * ids), cle (its data-champ, the API's key for errors), valeur,
     * facultatif, personnel (autocomplete tokens), libelle, aide, options}.
     */
    function construireChamp(nom, o) {
        var def = CHAMPS[nom];
        var libelle = o.libelle || def.libelle;
        var aide = o.aide !== undefined ? o.aide : def.aide;
        var id = o.id + '-' + nom.replace(/\./g, '-');
        var facultatif = function (el) {
            if (o.facultatif) {
                el.appendChild(document.createTextNode(' '));
                el.appendChild(creer('span', 'facultatif', '(facultatif)'));
            }
        };

        if (def.type === 'radio') {
            var groupe = creer('fieldset', 'champ champ--choix');
            groupe.setAttribute('data-champ', o.cle);
            groupe.setAttribute('data-nom', nom);
            groupe.id = id;
            var legende = creer('legend', null, libelle);
            facultatif(legende);
            groupe.appendChild(legende);
            var ligne = creer('div', 'choix-ligne');
            (o.options || def.options).forEach(function (opt) {
                var div = creer('div', 'choix');
                var input = creer('input');
                input.type = 'radio';
                input.name = id;
                input.id = id + '-' + (opt[0] || 'aucun');
                input.value = opt[0];
                input.checked = (o.valeur || '') === opt[0];
                if (!o.facultatif) {
                    input.required = true;
                }
                var label = creer('label', null, opt[1]);
                label.htmlFor = input.id;
                div.appendChild(input);
                div.appendChild(label);
                ligne.appendChild(div);
            });
            groupe.appendChild(ligne);
            return groupe;
        }

        var champ = creer('div', 'champ');
        var label = creer('label', null, libelle);
        label.htmlFor = id;
        facultatif(label);
        champ.appendChild(label);
        var input = creer('input');
        input.id = id;
        input.type = def.type || 'text';
        input.setAttribute('data-champ', o.cle);
        input.setAttribute('data-nom', nom);
        if (aide) {
            var p = creer('p', 'champ__aide', aide);
            p.id = id + '-aide';
            champ.appendChild(p);
            input.setAttribute('aria-describedby', p.id);
        }
        if (def.max) {
            input.maxLength = def.max;
        }
        if (def.numerique) {
            input.inputMode = 'numeric';
        }
        if (def.type === 'date') {
            input.min = '1900-01-01';
            input.max = aujourdhui();
            champ.classList.add('champ--court');
        }
        if (nom === 'address.postcode' || def.type === 'tel') {
            champ.classList.add('champ--moyen');
        }
        input.autocomplete = o.personnel && def.personnel ? def.personnel
                                                          : 'off';
        if (!o.facultatif) {
            input.required = true;
        }
        input.value = o.valeur === null || o.valeur === undefined
                      ? '' : String(o.valeur);
        champ.appendChild(input);
        return champ;
    }

    /* What the fields under racine hold, as the API wants it. */
    function lireChamps(racine) {
        var donnees = {};
        tous('[data-nom]', racine).forEach(function (el) {
            var nom = el.getAttribute('data-nom');
            var v;
            if (el.tagName === 'FIELDSET') {
                var coche = el.querySelector('input:checked');
                v = coche ? coche.value : '';
            } else {
                v = el.value.trim();
            }
            poser(donnees, nom, v);
        });
        return donnees;
    }

    /*
     * The checks made before sending: the server's rules and words
     * (P.TEXTES), so that nothing it would refuse is sent. requis: the
     * fields that must not be empty.
     */
    function verifierDonnees(d, prefixe, requis, erreurs) {
        var T = P.TEXTES;
        var R = P.REGLES;
        var vides = {
            civility: T.civilite,
            first_name: T.prenom,
            last_name: T.nom,
            birth_date: T.naissance,
            email: T.courriel,
            'address.line': T.adresseLigne,
            'address.postcode': T.codePostal,
            'address.city': T.commune
        };
        function erreur(nom, texte) {
            if (!erreurs[prefixe + nom]) {
                erreurs[prefixe + nom] = texte;
            }
        }
        requis.forEach(function (nom) {
            if (valeur(d, nom) === '') {
                erreur(nom, vides[nom] || 'Ce champ est obligatoire.');
            }
        });
        var v = valeur(d, 'first_name');
        if (v && !R.nomValide(v)) {
            erreur('first_name', T.prenomForme);
        }
        v = valeur(d, 'last_name');
        if (v && !R.nomValide(v)) {
            erreur('last_name', T.nomForme);
        }
        v = valeur(d, 'birth_date');
        if (v && !R.dateValide(v)) {
            erreur('birth_date', T.naissanceForme);
        }
        v = valeur(d, 'email');
        if (v && !R.courrielValide(v)) {
            erreur('email', T.courrielForme);
        }
        v = valeur(d, 'phone');
        if (v && !R.telephoneValide(v)) {
            erreur('phone', T.telephoneForme);
        }
        v = valeur(d, 'address.postcode');
        if (v && !/^[0-9]{5}$/.test(v)) {
            erreur('address.postcode', T.codePostal);
        }
        return d;
    }

    function verifierPersonne(racine, prefixe, requis, erreurs) {
        return verifierDonnees(lireChamps(racine), prefixe, requis, erreurs);
    }

    /* A zone's message, and the focus on it (the result of an action). */
    function resultat(zone, texte, genre) {
        var p = P.annoncer(zone, texte, genre || 'succes');
        if (p) {
            p.tabIndex = -1;
            p.focus();
        }
        return p;
    }

    /* ============================================== account creation */

    var creation = {
        formulaire: null,
        crypto: null,
        terminee: false     /* the account is created: no empty form below */
    };

    function renumeroterMembres() {
        var compte = { adult: 0, child: 0 };
        tous('#cr-membres .membre').forEach(function (bloc) {
            var genre = bloc.getAttribute('data-genre');
            compte[genre] += 1;
            var nom = (genre === 'adult' ? 'Adulte ' : 'Enfant ') + compte[genre];
            bloc.setAttribute('data-groupe-libelle', nom);
            bloc.querySelector('legend').textContent = nom;
            var retirer = bloc.querySelector('[data-action="retirer-membre"]');
            retirer.lastChild.textContent = ' : ' + nom;
        });
    }

    function ajouterMembreCreation(genre) {
        var liste = document.getElementById('cr-membres');
        var annonce = document.getElementById('cr-membres-message');
        var n = liste.querySelectorAll('.membre').length;
        if (n >= 20) {
            annonce.textContent = 'Vous pouvez déclarer 20 membres au plus.';
            return;
        }
        var bloc = creer('fieldset', 'membre');
        bloc.setAttribute('data-genre', genre);
        bloc.appendChild(creer('legend'));
        var base = 'cr-membre-' + Date.now().toString(36)
                   + Math.floor(Math.random() * 1e6).toString(36);
        var champs = genre === 'adult'
            ? ['civility', 'first_name', 'last_name', 'birth_date']
            : ['first_name', 'last_name', 'birth_date'];
        var grille = creer('div', 'grille-2');
        champs.forEach(function (nom) {
            var el = construireChamp(nom, {
                id: base,
                cle: nom,
                facultatif: nom === 'civility' || nom === 'last_name',
                aide: nom === 'last_name' ? 'S’il diffère du vôtre.' : undefined
            });
            if (nom === 'first_name' || nom === 'last_name') {
                grille.appendChild(el);
                if (nom === 'first_name') {
                    bloc.appendChild(grille);
                }
            } else {
                bloc.appendChild(el);
            }
        });
        var retirer = boutonNomme('Retirer', 'membre',
                                  'bouton bouton--tertiaire bouton--petit');
        retirer.setAttribute('data-action', 'retirer-membre');
        retirer.addEventListener('click', function () {
            var nom = bloc.getAttribute('data-groupe-libelle');
            bloc.parentNode.removeChild(bloc);
            renumeroterMembres();
            annonce.textContent = nom + ' est retiré du formulaire.';
            document.querySelector('[data-ajout-membre="' + genre + '"]').focus();
        });
        bloc.appendChild(retirer);
        liste.appendChild(bloc);
        renumeroterMembres();
        annonce.textContent = bloc.getAttribute('data-groupe-libelle')
                              + ' est ajouté au formulaire.';
        var premier = bloc.querySelector('input');
        premier.focus();
    }

    function chargerQuestions() {
        var select = document.getElementById('cr-question');
        return P.appel('GET', 'security-questions').then(function (res) {
            var liste = res.ok && Array.isArray(res.data) ? res.data : null;
            if (!liste) {
                return;
            }
            liste.forEach(function (q) {
                var opt = creer('option', null, q.label);
                opt.value = String(q.id);
                select.appendChild(opt);
            });
        });
    }

    /* Every field, as the server will check it; the captcha last. */
    function verifierCreation(f) {
        var T = P.TEXTES;
        var R = P.REGLES;
        var erreurs = {};
        /* The holder's fields carry the API's keys, "holder.…". */
        tous('[data-champ^="holder."]', f).forEach(function (el) {
            el.setAttribute('data-nom',
                            el.getAttribute('data-champ').slice('holder.'.length));
        });
        var d = {};
        tous('[data-champ^="holder."]', f).forEach(function (el) {
            var cle = el.getAttribute('data-nom');
            var v;
            if (el.tagName === 'FIELDSET') {
                var coche = el.querySelector('input:checked');
                v = coche ? coche.value : '';
            } else {
                v = el.value.trim();
            }
            poser(d, cle, v);
        });
        verifierDonnees(d, 'holder.', ['civility', 'first_name',
            'last_name', 'birth_date', 'email', 'address.line',
            'address.postcode', 'address.city'], erreurs);

        var mdp = f.elements.namedItem('password').value;
        var confirmation = f.elements.namedItem('password_confirm').value;
        var refus = R.motDePasseRefuse(mdp, [
            (d.first_name || '') + ' ' + (d.last_name || ''),
            d.first_name, d.last_name, d.email
        ], false);
        if (refus) {
            erreurs.password = refus;
        } else if (confirmation !== mdp) {
            erreurs.password_confirm = T.mdpConfirmation;
        }
        if (!f.elements.namedItem('security_question_id').value) {
            erreurs.security_question_id = T.question;
        }
        var reponse = f.elements.namedItem('security_answer').value;
        if (!R.plier(reponse)) {
            erreurs.security_answer = T.reponse;
        }
        var contact = f.querySelector('input[name="contact_mode"]:checked');
        if (!contact) {
            erreurs.contact_mode = T.contact;
        } else if (contact.value === 'phone' && !d.phone) {
            erreurs.contact_mode = T.contactTelephone;
        }

        var membres = [];
        tous('#cr-membres .membre', f).forEach(function (bloc, i) {
            var prefixe = 'members.' + i + '.';
            /* The keys of this member's fields, in today's order. */
            tous('[data-nom]', bloc).forEach(function (el) {
                el.setAttribute('data-champ', prefixe + el.getAttribute('data-nom'));
            });
            var m = verifierPersonne(bloc, prefixe,
                                     ['first_name', 'birth_date'], erreurs);
            var membre = { kind: bloc.getAttribute('data-genre') };
            Object.keys(m).forEach(function (k) {
                if (m[k] !== '') {
                    membre[k] = m[k];
                }
            });
            membres.push(membre);
        });

        /* Only a form without any other error may spend the captcha. */
        var crypto = creation.crypto.verifier();
        if (crypto) {
            erreurs.captcha_answer = crypto;
        }
        var titulaire = {};
        Object.keys(d).forEach(function (k) {
            if (k === 'phone' && !d.phone) {
                return;
            }
            titulaire[k] = d[k];
        });
        var v = creation.crypto.valeurs();

        return {
            erreurs: erreurs,
            corps: {
                holder: titulaire,
                password: mdp,
                password_confirm: confirmation,
                security_question_id: parseInt(
                    f.elements.namedItem('security_question_id').value, 10) || null,
                security_answer: reponse,
                contact_mode: contact ? contact.value : null,
                members: membres,
                captcha_id: v.captcha_id,
                captcha_answer: v.captcha_answer
            }
        };
    }

    /*
     * The account is created: its login, then the session opened with the
     * password just chosen; when that fails, the citizen is told why and
     * what to do.
     */
    function creationReussie(login, email, mdp) {
        var panneau = document.getElementById('creation-reussie');
        var raison = document.getElementById('creation-connexion');
        document.getElementById('creation-login').textContent = login;
        document.getElementById('creation-email').textContent = email;
        raison.textContent = '';
        var champLogin = document.getElementById('identifiant');
        if (champLogin) {
            champLogin.value = login;
        }
        var f = creation.formulaire;
        P.effacerErreurs(f);
        f.reset();
        ['cr-mdp', 'cr-mdp-confirmation'].forEach(function (id) {
            document.getElementById(id).type = 'password';
        });
        tous('#cr-membres .membre', f).forEach(function (b) {
            b.parentNode.removeChild(b);
        });
        creation.terminee = true;
        creation.crypto.masquer();
        document.getElementById('creer-un-compte').hidden = true;
        document.getElementById('connexion-necessaire').hidden = true;
        panneau.hidden = false;

        /* Logged in at once with the password just chosen, to go on. */
        return P.ouvrirSession(login, mdp).then(function (res) {
            panneau.hidden = false;
            if (!res.ok) {
                var p = creer('p', 'alerte alerte--attente');
                p.appendChild(creer('span', 'alerte__titre',
                                    'Vous n’êtes pas encore connecté'));
                if (P.demandeCryptogramme(res)) {
                    p.appendChild(document.createTextNode(
                        'La connexion automatique a été refusée : trop '
                        + 'd’essais infructueux ont été faits depuis votre '
                        + 'connexion à Internet. Votre identifiant et votre '
                        + 'mot de passe sont déjà saisis dans le cadre '
                        + '« Me connecter » : '));
                    var a = creer('a', null, 'recopiez-y le texte de l’image');
                    a.href = '#connexion-captcha-reponse';
                    a.addEventListener('click', function (ev) {
                        var champ = document.getElementById(
                            'connexion-captcha-reponse');
                        if (champ) {
                            ev.preventDefault();
                            champ.focus();
                        }
                    });
                    p.appendChild(a);
                    p.appendChild(document.createTextNode(
                        ', puis choisissez « Connexion ».'));
                    P.connexionAvecCryptogramme(login, mdp,
                        'Votre compte est créé : recopiez le texte de '
                        + 'l’image, puis choisissez « Connexion ».');
                } else {
                    p.appendChild(document.createTextNode(
                        'La connexion automatique n’a pas abouti. '
                        + P.messageErreur(res, 'connexion') + ' Connectez-vous '
                        + 'avec votre identifiant et votre mot de passe dans le '
                        + 'cadre « Me connecter ».'));
                }
                raison.appendChild(p);
            }
            document.getElementById('creation-reussie-titre').focus();
            panneau.scrollIntoView({ block: 'start' });
        });
    }

    /* The sign-up form: shown to visitors, until their account is created. */
    function afficherCreation(s) {
        var section = document.getElementById('creer-un-compte');
        if (!section || !creation.crypto) {
            return;
        }
        var visible = s.authenticated !== true && !creation.terminee;
        section.hidden = !visible;
        /* The panel of the account just created says what to do instead. */
        if (creation.terminee) {
            document.getElementById('connexion-necessaire').hidden = true;
        }
        if (!visible) {
            creation.crypto.masquer();
        } else if (P.session.csrf_token) {
            creation.crypto.afficher();
        }
    }

    function initCreation() {
        var f = document.getElementById('form-creation');
        if (!f) {
            return;
        }
        creation.formulaire = f;
        creation.crypto = new P.Cryptogramme(document.getElementById('cr-captcha'),
                                             'cr-captcha');
        creation.crypto.conteneur.hidden = false;
        var naissance = document.getElementById('cr-naissance');
        naissance.max = aujourdhui();

        chargerQuestions();

        tous('[data-ajout-membre]', f).forEach(function (b) {
            b.addEventListener('click', function () {
                ajouterMembreCreation(b.getAttribute('data-ajout-membre'));
            });
        });

        var afficher = document.getElementById('cr-mdp-afficher');
        afficher.addEventListener('change', function () {
            ['cr-mdp', 'cr-mdp-confirmation'].forEach(function (id) {
                document.getElementById(id).type = afficher.checked ? 'text'
                                                                    : 'password';
            });
        });

        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var v = verifierCreation(f);
            if (Object.keys(v.erreurs).length) {
                P.afficherErreurs(f, 'Certaines informations sont à corriger.',
                                  v.erreurs);
                return;
            }
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('POST', 'accounts', v.corps).then(function (res) {
                if (res.ok && res.data && res.data.login) {
                    return creationReussie(res.data.login, v.corps.holder.email,
                                           v.corps.password)
                        .then(function () { P.occupe(f, false); });
                }
                P.occupe(f, false);
                if (P.cryptogrammeRefuse(res)) {
                    /* Spent (wrong) or expired: a new one, the API's words. */
                    res.erreur.fields = {
                        captcha_answer: creation.crypto.refuse(res)
                    };
                    P.erreursApi(f, res, 'creation');
                    return;
                }
                P.erreursApi(f, res, 'creation');
                if (res.status === 422) {
                    /* The server checks every field first: still unspent. */
                    creation.crypto.dire('Cette image reste valable : corrigez '
                                         + 'les champs signalés, puis confirmez '
                                         + 'de nouveau.');
                }
            });
        });
    }

    /* ======================================================= account */

    var compte = {
        me: null,
        charge: null,       /* the login whose account is shown */
        fiche: null,        /* {type: 'titulaire'|'membre', id} */
        documents: null
    };

    var RAISON = 'Pas encore possible : vos informations seront modifiables '
                 + 'après la validation de votre compte par la Mairie. Vos '
                 + 'démarches, elles, sont déjà possibles.';

    function zoneCompte() {
        return document.getElementById('compte-message');
    }

    function zoneFoyer() {
        return document.getElementById('foyer-message');
    }

    function valide() {
        if (compte.me && typeof compte.me.validated === 'boolean') {
            return compte.me.validated;
        }
        return P.session.validated === true;
    }

    /*
     * A change the server allows after validation only. Before it, the
     * button stays in the page (focusable, named, described by the reason)
     * but says it is unavailable, and pressing it tells why.
     */
    function modifiable(bouton, zone, action) {
        bouton.setAttribute('data-modifiable', '');
        bouton.addEventListener('click', function () {
            if (!valide()) {
                P.annoncer(typeof zone === 'function' ? zone() : zone, RAISON,
                           'info');
                return;
            }
            action();
        });
        majDisponible(bouton);
        return bouton;
    }

    function majDisponible(bouton) {
        if (valide()) {
            bouton.removeAttribute('aria-disabled');
            bouton.classList.remove('bouton--indisponible');
            P.retirerDescription(bouton, 'raison-non-valide');
        } else {
            bouton.setAttribute('aria-disabled', 'true');
            bouton.classList.add('bouton--indisponible');
            P.ajouterDescription(bouton, 'raison-non-valide');
        }
    }

    function majDisponibilites() {
        tous('[data-modifiable]').forEach(majDisponible);
    }

    function personne(ref) {
        if (!compte.me) {
            return null;
        }
        if (ref.type === 'titulaire') {
            return compte.me.holder;
        }
        return (compte.me.members || []).filter(function (m) {
            return m.id === ref.id;
        })[0] || null;
    }

    function carte(p, ref, role) {
        var li = creer('li', 'personne');
        var nom = nomComplet(p);
        li.appendChild(creer('p', 'personne__nom', nom));
        if (role) {
            li.appendChild(creer('p', 'personne__role', role));
        }
        if (p.birth_date) {
            li.appendChild(creer('p', 'personne__detail',
                                 'Date de naissance : ' + dateLongue(p.birth_date)));
        }
        var actions = creer('div', 'personne__actions');
        var b = boutonNomme('Voir la fiche', nom);
        b.setAttribute('aria-controls', 'fiche');
        b.setAttribute('data-fiche', ref.type === 'titulaire' ? 'titulaire'
                                                               : ref.id);
        b.addEventListener('click', function () {
            ouvrirFiche(ref);
        });
        actions.appendChild(b);
        if (ref.type === 'membre') {
            var retirer = boutonNomme('Retirer du foyer', nom,
                                      'bouton bouton--tertiaire bouton--petit');
            retirer.setAttribute('data-retirer', ref.id);
            modifiable(retirer, zoneFoyer, function () {
                retirerMembre(ref, retirer);
            });
            actions.appendChild(retirer);
        }
        li.appendChild(actions);
        return li;
    }

    function afficherFoyer() {
        var adultes = document.getElementById('liste-adultes');
        var enfants = document.getElementById('liste-enfants');
        adultes.textContent = '';
        enfants.textContent = '';
        var me = compte.me;
        adultes.appendChild(carte(me.holder, { type: 'titulaire' },
                                  'Responsable du compte'));
        (me.members || []).forEach(function (m) {
            var ref = { type: 'membre', id: m.id };
            (m.kind === 'child' ? enfants : adultes).appendChild(carte(m, ref));
        });
        if (!enfants.children.length) {
            enfants.appendChild(creer('li', 'personnes__vide',
                                      'Aucun enfant déclaré.'));
        }
        if (adultes.children.length < 2) {
            adultes.appendChild(creer('li', 'personnes__vide',
                                      'Aucun autre adulte déclaré.'));
        }
        document.querySelector('#foyer .foyer').setAttribute('aria-busy', 'false');
        majDisponibilites();
    }

    /* A member leaves the household, once the citizen said yes to their name. */
    function retirerMembre(ref, bouton) {
        var p = personne(ref);
        if (!p) {
            return;
        }
        var nom = nomComplet(p);
        var enfant = p.kind === 'child';
        P.confirmer({
            titre: 'Retirer ' + nom + ' du foyer ?',
            texte: nom + ' ne fera plus partie de votre foyer et sa fiche sera '
                   + 'supprimée. Vous pourrez ' + (enfant ? 'le ou la ' : 'l’')
                   + 'ajouter de nouveau plus tard.',
            bouton: 'Retirer ' + nom,
            declencheur: bouton
        }).then(function (oui) {
            if (!oui) {
                return;
            }
            P.annoncer(zoneFoyer(), 'Retrait de ' + nom + ' en cours…', 'info');
            P.appel('DELETE', 'me/members/' + encodeURIComponent(ref.id))
                .then(function (res) {
                    if (!res.ok && res.status !== 404) {
                        P.annoncer(zoneFoyer(), nom + ' n’a pas été retiré du '
                                   + 'foyer. ' + P.messageErreur(res, 'retrait'),
                                   'erreur');
                        bouton.focus();
                        return;
                    }
                    compte.me.members = (compte.me.members || [])
                        .filter(function (m) { return m.id !== ref.id; });
                    if (compte.fiche && compte.fiche.type === 'membre'
                        && compte.fiche.id === ref.id) {
                        document.getElementById('fiche').hidden = true;
                        compte.fiche = null;
                    }
                    afficherFoyer();
                    P.annoncer(zoneFoyer(), nom + ' ne fait plus partie de '
                               + 'votre foyer.', 'succes');
                    document.getElementById(enfant ? 'enfants-titre'
                                                   : 'adultes-titre').focus();
                });
        });
    }

    /* The blocks of a file: what they show and what "Modifier" sends. */
    function blocsDe(ref, p) {
        var titulaire = ref.type === 'titulaire';
        var enfant = !titulaire && p.kind === 'child';
        var blocs = [{
            id: 'identite',
            titre: 'Identité',
            champs: enfant ? ['first_name', 'last_name', 'birth_date']
                           : ['civility', 'first_name', 'last_name', 'birth_date'],
            facultatifs: titulaire ? [] : ['civility']
        }];
        if (enfant) {
            blocs.push({ id: 'adresse', titre: 'Adresse', champs: ADRESSE,
                         facultatifs: [] });
        } else {
            blocs.push({
                id: 'coordonnees',
                titre: 'Coordonnées et adresse',
                champs: ['email', 'phone'].concat(ADRESSE),
                facultatifs: titulaire ? ['phone'] : ['email', 'phone']
            });
        }
        if (titulaire) {
            blocs.push({ id: 'contact', titre: 'Mode de contact',
                         champs: ['contact_mode'], facultatifs: [] });
        }
        return blocs;
    }

    function texteValeur(nom, v) {
        if (v === null || v === undefined || v === '') {
            return null;
        }
        if (nom === 'civility') {
            return CIVILITES[v] || v;
        }
        if (nom === 'birth_date') {
            return dateLongue(v);
        }
        if (nom === 'contact_mode') {
            return CONTACTS[v] || v;
        }
        return String(v);
    }

    function lectureBloc(bloc, p, ref) {
        var dl = creer('dl', 'fiche__donnees');
        var source = ref.type === 'titulaire' && bloc.id === 'contact'
                     ? compte.me : p;
        var champs = bloc.champs.filter(function (n) {
            return ADRESSE.indexOf(n) === -1;
        });
        champs.forEach(function (nom) {
            dl.appendChild(creer('dt', null, CHAMPS[nom].libelle));
            var t = texteValeur(nom, valeur(source, nom));
            dl.appendChild(creer('dd', t ? null : 'fiche__vide',
                                 t || 'Non renseigné'));
        });
        if (bloc.champs.indexOf('address.line') !== -1) {
            dl.appendChild(creer('dt', null, 'Adresse'));
            var a = texteAdresse(p.address);
            dl.appendChild(creer('dd', a ? null : 'fiche__vide',
                                 a || 'Non renseignée'));
        }
        return dl;
    }

    function afficherBloc(section, bloc, ref, focusTitre) {
        var p = personne(ref);
        var corps = section.querySelector('.fiche__corps');
        corps.textContent = '';
        corps.appendChild(lectureBloc(bloc, p, ref));
        section.querySelector('[data-action="modifier"]').hidden = false;
        if (focusTitre) {
            section.querySelector('h3').focus();
        }
    }

    /* The password asked for a new e-mail address of the holder. */
    function champMotDePasseCourriel(base, courriel, actuel) {
        var champ = creer('div', 'champ champ--moyen');
        var id = base + '-current_password';
        var label = creer('label', null, 'Mot de passe actuel');
        label.htmlFor = id;
        var aide = creer('p', 'champ__aide',
                         'Pour changer d’adresse électronique, confirmez avec '
                         + 'votre mot de passe. Votre ancienne adresse en sera '
                         + 'avertie par courriel.');
        aide.id = id + '-aide';
        var input = creer('input');
        input.type = 'password';
        input.id = id;
        input.autocomplete = 'current-password';
        input.setAttribute('data-champ', 'current_password');
        input.setAttribute('aria-describedby', aide.id);
        champ.appendChild(label);
        champ.appendChild(aide);
        champ.appendChild(input);
        function maj() {
            champ.hidden = courriel.value.trim().toLowerCase()
                           === String(actuel || '').toLowerCase();
        }
        courriel.addEventListener('input', maj);
        maj();
        return champ;
    }

    function modifierBloc(section, bloc, ref) {
        var p = personne(ref);
        var titulaire = ref.type === 'titulaire';
        var corps = section.querySelector('.fiche__corps');
        var bouton = section.querySelector('[data-action="modifier"]');
        var zone = section.querySelector('.fiche__message');
        corps.textContent = '';
        bouton.hidden = true;
        P.annoncer(zone, '');

        var f = creer('form', 'formulaire formulaire--bloc');
        f.noValidate = true;
        var base = 'fiche-' + bloc.id;
        var grille = null;
        var champMdp = null;
        var crypto = null;
        bloc.champs.forEach(function (nom) {
            var source = titulaire && nom === 'contact_mode' ? compte.me : p;
            var cle = titulaire && nom !== 'contact_mode' ? 'holder.' + nom : nom;
            var el = construireChamp(nom, {
                id: base,
                cle: cle,
                valeur: valeur(source, nom),
                facultatif: bloc.facultatifs.indexOf(nom) !== -1,
                personnel: titulaire
            });
            if (nom === 'first_name' || nom === 'last_name') {
                if (!grille) {
                    grille = creer('div', 'grille-2');
                    f.appendChild(grille);
                }
                grille.appendChild(el);
            } else {
                f.appendChild(el);
            }
            if (titulaire && nom === 'email') {
                champMdp = champMotDePasseCourriel(base, el.querySelector('input'),
                                                   p.email);
                f.appendChild(champMdp);
            }
        });
        if (champMdp) {
            /* The password counts as a login: past the limits, a captcha. */
            var zoneCrypto = creer('div');
            zoneCrypto.hidden = true;
            f.appendChild(zoneCrypto);
            crypto = new P.Cryptogramme(zoneCrypto, base + '-captcha');
        }
        var actions = creer('div', 'formulaire__actions');
        var enregistrer = creer('button', 'bouton', 'Enregistrer');
        enregistrer.type = 'submit';
        var annuler = creer('button', 'bouton bouton--secondaire', 'Annuler');
        annuler.type = 'button';
        actions.appendChild(enregistrer);
        actions.appendChild(annuler);
        f.appendChild(actions);
        corps.appendChild(f);

        annuler.addEventListener('click', function () {
            afficherBloc(section, bloc, ref, false);
            bouton.focus();
        });

        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.annoncer(zone, '');
            var erreurs = {};
            var requis = bloc.champs.filter(function (n) {
                return bloc.facultatifs.indexOf(n) === -1 && n !== 'contact_mode';
            });
            var d = verifierPersonne(f, titulaire ? 'holder.' : '', requis,
                                     erreurs);
            if (bloc.id === 'contact' && !d.contact_mode) {
                erreurs.contact_mode = P.TEXTES.contact;
            } else if (bloc.id === 'contact' && d.contact_mode === 'phone'
                       && !compte.me.holder.phone) {
                erreurs.contact_mode = P.TEXTES.contactTelephone;
            }
            var mdpCourriel = champMdp && !champMdp.hidden
                              ? champMdp.querySelector('input').value : null;
            if (mdpCourriel === '') {
                erreurs.current_password = P.TEXTES.mdpPourCourriel;
            }
            var avecCrypto = crypto !== null && crypto.visible()
                             && Boolean(mdpCourriel);
            if (avecCrypto && !Object.keys(erreurs).length) {
                var probleme = crypto.verifier();
                if (probleme) {
                    erreurs.captcha_answer = probleme;
                }
            }
            if (Object.keys(erreurs).length) {
                P.afficherErreurs(f, 'Certaines informations sont à corriger.',
                                  erreurs);
                return;
            }
            var chemin;
            var corpsRequete;
            if (titulaire) {
                chemin = 'me';
                if (bloc.id === 'contact') {
                    corpsRequete = { contact_mode: d.contact_mode };
                } else {
                    if (d.phone === '' && !p.phone) {
                        delete d.phone;
                    }
                    corpsRequete = { holder: d };
                    if (mdpCourriel) {
                        corpsRequete.current_password = mdpCourriel;
                    }
                    if (avecCrypto) {
                        var v = crypto.valeurs();
                        corpsRequete.captcha_id = v.captcha_id;
                        corpsRequete.captcha_answer = v.captcha_answer;
                    }
                }
            } else {
                chemin = 'me/members/' + encodeURIComponent(ref.id);
                corpsRequete = d;
                if (d.civility === '') {
                    delete corpsRequete.civility;
                }
            }
            var courrielChange = Boolean(mdpCourriel);
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('PATCH', chemin, corpsRequete).then(function (res) {
                P.occupe(f, false);
                if (!res.ok && crypto && P.demandeCryptogramme(res)) {
                    crypto.afficher();
                    P.effacerErreurs(f);
                    P.annoncer(zone, P.messageErreur(res, 'modification'),
                               'erreur');
                    crypto.input.focus();
                    return;
                }
                if (!res.ok && crypto && P.cryptogrammeRefuse(res)) {
                    res.erreur.fields = { captcha_answer: crypto.refuse(res) };
                    P.erreursApi(f, res, 'modification');
                    return;
                }
                if (!res.ok) {
                    if (avecCrypto) {
                        /* The captcha served for this try. */
                        crypto.nouveau('refus');
                    }
                    P.erreursApi(f, res, 'modification');
                    return;
                }
                if (crypto) {
                    crypto.masquer();
                }
                if (titulaire) {
                    if (res.data && res.data.holder) {
                        compte.me = res.data;
                    }
                } else if (res.data && res.data.id) {
                    compte.me.members = (compte.me.members || []).map(function (m) {
                        return m.id === res.data.id ? res.data : m;
                    });
                }
                afficherFoyer();
                titreFiche(ref);
                afficherBloc(section, bloc, ref, true);
                P.annoncer(zone, courrielChange
                           ? 'Votre nouvelle adresse électronique est '
                             + 'enregistrée ; l’ancienne en est avertie par '
                             + 'courriel.'
                           : 'Les modifications du bloc « ' + bloc.titre
                             + ' » sont enregistrées.', 'succes');
            });
        });

        /* The first field; of a choice, the option checked (not the first). */
        var premier = f.querySelector('input, select');
        if (premier && premier.type === 'radio') {
            premier = premier.closest('fieldset').querySelector('input:checked')
                      || premier;
        }
        if (premier) {
            premier.focus();
        }
    }

    function titreFiche(ref) {
        var p = personne(ref);
        document.getElementById('fiche-titre').textContent =
            'Fiche de ' + nomComplet(p);
        document.getElementById('fiche-sous-titre').textContent =
            ref.type === 'titulaire' ? 'Responsable du compte'
            : (p.kind === 'child' ? 'Enfant du foyer' : 'Adulte du foyer');
    }

    function ouvrirFiche(ref) {
        var p = personne(ref);
        if (!p) {
            return;
        }
        compte.fiche = ref;
        document.getElementById('ajout-membre').hidden = true;
        var panneau = document.getElementById('fiche');
        var blocs = document.getElementById('fiche-blocs');
        blocs.textContent = '';
        titreFiche(ref);
        blocsDe(ref, p).forEach(function (bloc) {
            var section = creer('section', 'fiche__bloc');
            var titreId = 'fiche-bloc-' + bloc.id;
            section.setAttribute('aria-labelledby', titreId);
            section.setAttribute('data-bloc', bloc.id);
            var entete = creer('div', 'fiche__entete');
            var h3 = creer('h3', null, bloc.titre);
            h3.id = titreId;
            h3.tabIndex = -1;
            entete.appendChild(h3);
            var zone = creer('div', 'fiche__message zone-message');
            zone.id = 'fiche-message-' + bloc.id;
            zone.setAttribute('aria-live', 'polite');
            zone.setAttribute('aria-atomic', 'true');
            var modifier = boutonNomme('Modifier', bloc.titre);
            modifier.setAttribute('data-action', 'modifier');
            modifiable(modifier, zone, function () {
                modifierBloc(section, bloc, ref);
            });
            entete.appendChild(modifier);
            section.appendChild(entete);
            section.appendChild(zone);
            section.appendChild(creer('div', 'fiche__corps'));
            blocs.appendChild(section);
            afficherBloc(section, bloc, ref, false);
        });
        panneau.hidden = false;
        document.getElementById('fiche-titre').focus();
    }

    function fermerFiche() {
        var ref = compte.fiche;
        document.getElementById('fiche').hidden = true;
        compte.fiche = null;
        if (ref) {
            var cle = ref.type === 'titulaire' ? 'titulaire' : ref.id;
            tous('[data-fiche]').some(function (b) {
                if (b.getAttribute('data-fiche') === cle) {
                    b.focus();
                    return true;
                }
                return false;
            });
        }
    }

    /* "Ajouter un adulte" / "Ajouter un enfant". */
    function ouvrirAjout(genre) {
        if (!compte.me) {
            return;
        }
        var h = compte.me.holder || {};
        var panneau = document.getElementById('ajout-membre');
        var f = document.getElementById('form-ajout');
        var champs = document.getElementById('ajout-champs');
        P.effacerErreurs(f);
        champs.textContent = '';
        f.setAttribute('data-genre', genre);
        document.getElementById('fiche').hidden = true;
        document.getElementById('ajout-titre').textContent =
            genre === 'child' ? 'Ajouter un enfant' : 'Ajouter un adulte';

        var noms = genre === 'child'
            ? ['first_name', 'last_name', 'birth_date']
            : ['civility', 'first_name', 'last_name', 'birth_date', 'email',
               'phone'];
        var base = 'ajout';
        var grille = creer('div', 'grille-2');
        noms.forEach(function (nom) {
            var el = construireChamp(nom, {
                id: base,
                cle: nom,
                valeur: nom === 'last_name' ? h.last_name : '',
                facultatif: ['civility', 'email', 'phone'].indexOf(nom) !== -1
            });
            if (nom === 'first_name' || nom === 'last_name') {
                grille.appendChild(el);
                if (nom === 'first_name') {
                    champs.appendChild(grille);
                }
            } else {
                champs.appendChild(el);
            }
        });
        var adresse = creer('fieldset', 'sous-groupe');
        adresse.appendChild(creer('legend', null, 'Adresse'));
        ADRESSE.forEach(function (nom) {
            adresse.appendChild(construireChamp(nom, {
                id: base,
                cle: nom,
                valeur: valeur(h, nom)
            }));
        });
        champs.appendChild(adresse);
        panneau.hidden = false;
        document.getElementById('ajout-titre').focus();
    }

    function initAjout() {
        var f = document.getElementById('form-ajout');
        if (!f) {
            return;
        }
        tous('[data-ajouter]').forEach(function (b) {
            modifiable(b, zoneFoyer, function () {
                ouvrirAjout(b.getAttribute('data-ajouter'));
            });
        });
        f.querySelector('[data-action="annuler-ajout"]')
            .addEventListener('click', function () {
                var genre = f.getAttribute('data-genre');
                document.getElementById('ajout-membre').hidden = true;
                document.querySelector('[data-ajouter="' + genre + '"]').focus();
            });
        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var genre = f.getAttribute('data-genre');
            var erreurs = {};
            var d = verifierPersonne(f, '', ['first_name', 'last_name',
                                             'birth_date'].concat(ADRESSE),
                                     erreurs);
            if (Object.keys(erreurs).length) {
                P.afficherErreurs(f, 'Certaines informations sont à corriger.',
                                  erreurs);
                return;
            }
            var corps = { kind: genre };
            Object.keys(d).forEach(function (k) {
                if (d[k] !== '') {
                    corps[k] = d[k];
                }
            });
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('POST', 'me/members', corps).then(function (res) {
                P.occupe(f, false);
                if (!res.ok || !res.data || !res.data.id) {
                    P.erreursApi(f, res, 'ajout');
                    return;
                }
                compte.me.members = (compte.me.members || []).concat([res.data]);
                afficherFoyer();
                document.getElementById('ajout-membre').hidden = true;
                P.annoncer(zoneFoyer(), nomComplet(res.data)
                           + ' fait maintenant partie de votre foyer ('
                           + (genre === 'child' ? 'enfants' : 'adultes') + ').',
                           'succes');
                var b = document.querySelector('[data-fiche="' + res.data.id + '"]');
                if (b) {
                    b.focus();
                }
            });
        });
    }

    /* ----------------------------------------------------- documents */

    var QUOTA = { nombre: 20, octets: 50 * 1024 * 1024 };

    function zoneDocuments() {
        return document.getElementById('documents-message');
    }

    function idDocument(d) {
        return 'document-' + String(d.id).replace(/[^A-Za-z0-9_-]/g, '');
    }

    /*
     * The documents as a list (a table does not fit a phone): each with
     * "Voir", "Remplacer" and "Supprimer".
     */
    function listeDocuments(liste) {
        var conteneur = document.getElementById('liste-documents');
        conteneur.setAttribute('aria-busy', 'false');
        conteneur.textContent = '';
        if (!liste.length) {
            conteneur.appendChild(creer('p', 'documents__vide',
                                        'Aucun document déposé pour l’instant.'));
            return;
        }
        var titre = creer('h3', 'documents__titre', 'Documents déposés');
        titre.id = 'documents-liste-titre';
        titre.tabIndex = -1;
        conteneur.appendChild(titre);
        var ul = creer('ul', 'documents');
        ul.setAttribute('aria-labelledby', titre.id);
        liste.forEach(function (d) {
            ul.appendChild(elementDocument(d));
        });
        conteneur.appendChild(ul);
    }

    function elementDocument(d) {
        var li = creer('li', 'document');
        li.id = idDocument(d);
        var nom = creer('p', 'document__nom', d.filename);
        nom.id = li.id + '-nom';
        nom.tabIndex = -1;
        li.appendChild(nom);
        li.appendChild(creer('p', 'document__details',
            [DOCUMENTS[d.kind] || d.kind, taille(d.size),
             d.created_at ? 'déposé le ' + P.dateFr(d.created_at) : '']
                .filter(Boolean).join(' – ')));
        var actions = creer('div', 'document__actions');
        var voir = creer('a', 'bouton bouton--secondaire bouton--petit', 'Voir');
        voir.href = P.urlApi('me/documents/' + encodeURIComponent(d.id));
        voir.appendChild(creer('span', 'visuellement-cache',
                               ' : ' + d.filename + ' (téléchargement)'));
        actions.appendChild(voir);
        var remplacer = boutonNomme('Remplacer', d.filename);
        remplacer.setAttribute('aria-expanded', 'false');
        actions.appendChild(remplacer);
        var supprimer = boutonNomme('Supprimer', d.filename,
                                    'bouton bouton--tertiaire bouton--petit');
        actions.appendChild(supprimer);
        li.appendChild(actions);

        var f = formulaireRemplacement(d, remplacer);
        li.appendChild(f);
        remplacer.setAttribute('aria-controls', f.id);
        remplacer.addEventListener('click', function () {
            var ouvrir = f.hidden;
            f.hidden = !ouvrir;
            remplacer.setAttribute('aria-expanded', ouvrir ? 'true' : 'false');
            if (ouvrir) {
                P.effacerErreurs(f);
                f.querySelector('input[type="file"]').focus();
            }
        });
        supprimer.addEventListener('click', function () {
            supprimerDocument(d, supprimer);
        });
        return li;
    }

    function formulaireRemplacement(d, bouton) {
        var f = creer('form', 'formulaire document__remplacement');
        f.noValidate = true;
        f.hidden = true;
        f.id = idDocument(d) + '-remplacement';
        var champ = creer('div', 'champ');
        var id = idDocument(d) + '-fichier';
        var label = creer('label', null, 'Nouveau fichier pour « '
                                         + d.filename + ' »');
        label.htmlFor = id;
        var input = creer('input');
        input.type = 'file';
        input.id = id;
        input.setAttribute('data-champ', 'file');
        input.accept = 'application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png';
        input.setAttribute('aria-describedby', 'document-fichier-aide');
        champ.appendChild(label);
        champ.appendChild(input);
        f.appendChild(champ);
        var actions = creer('div', 'formulaire__actions');
        var envoyer = creer('button', 'bouton bouton--petit',
                            'Remplacer le document');
        envoyer.type = 'submit';
        var annuler = creer('button', 'bouton bouton--secondaire bouton--petit',
                            'Annuler');
        annuler.type = 'button';
        actions.appendChild(envoyer);
        actions.appendChild(annuler);
        f.appendChild(actions);
        annuler.addEventListener('click', function () {
            f.hidden = true;
            bouton.setAttribute('aria-expanded', 'false');
            bouton.focus();
        });
        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            if (!input.files || !input.files.length) {
                P.afficherErreurs(f, null, { file: 'Choisissez le nouveau fichier.' },
                                  { recap: false });
                return;
            }
            remplacerDocument(d, f, input.files[0]);
        });
        return f;
    }

    /* The account's quota, before sending: the server's limits and words. */
    function quotaDepasse(fichier, remplace) {
        var liste = (compte.documents || []).filter(function (d) {
            return !remplace || d.id !== remplace.id;
        });
        var total = liste.reduce(function (s, d) {
            return s + (d.size || 0);
        }, 0);
        return liste.length >= QUOTA.nombre
               || total + fichier.size > QUOTA.octets;
    }

    function montrerDocument(d) {
        var nom = document.getElementById(idDocument(d) + '-nom');
        if (nom) {
            nom.focus();
        }
    }

    function remplacerDocument(ancien, f, fichier) {
        if (quotaDepasse(fichier, ancien)) {
            P.afficherErreurs(f, null, { file: P.TEXTES.documents },
                              { recap: false });
            return;
        }
        var donnees = new FormData();
        donnees.append('kind', ancien.kind);
        donnees.append('file', fichier, fichier.name);
        P.effacerErreurs(f);
        P.occupe(f, true);
        P.annoncer(zoneDocuments(), 'Envoi de « ' + fichier.name + ' » en cours…',
                   'info');
        P.envoyerFichier('me/documents', donnees, null).then(function (res) {
            if (!res.ok || !res.data || !res.data.id) {
                P.occupe(f, false);
                P.annoncer(zoneDocuments(), '');
                P.afficherErreurs(f, null, { file: P.messageEnvoi(res) },
                                  { recap: false });
                return;
            }
            var nouveau = res.data;
            return P.appel('DELETE', 'me/documents/'
                           + encodeURIComponent(ancien.id)).then(function (r) {
                P.occupe(f, false);
                var gardes = (compte.documents || []).filter(function (d) {
                    return d.id !== nouveau.id
                           && (d.id !== ancien.id || !(r.ok || r.status === 404));
                });
                compte.documents = [nouveau].concat(gardes);
                listeDocuments(compte.documents);
                montrerDocument(nouveau);
                if (r.ok || r.status === 404) {
                    P.annoncer(zoneDocuments(), 'Le document « ' + nouveau.filename
                               + ' » remplace « ' + ancien.filename + ' ».',
                               'succes');
                } else {
                    P.annoncer(zoneDocuments(), 'Le document « ' + nouveau.filename
                               + ' » est déposé, mais « ' + ancien.filename
                               + ' » n’a pas pu être supprimé. '
                               + P.messageErreur(r, 'document'), 'erreur');
                }
            });
        });
    }

    function supprimerDocument(d, bouton) {
        P.confirmer({
            titre: 'Supprimer « ' + d.filename + ' » ?',
            texte: 'Ce document (' + (DOCUMENTS[d.kind] || d.kind) + ') sera '
                   + 'retiré de votre compte. Vous pourrez en déposer un autre '
                   + 'à sa place.',
            bouton: 'Supprimer « ' + d.filename + ' »',
            declencheur: bouton
        }).then(function (oui) {
            if (!oui) {
                return;
            }
            P.annoncer(zoneDocuments(), 'Suppression de « ' + d.filename
                       + ' » en cours…', 'info');
            P.appel('DELETE', 'me/documents/' + encodeURIComponent(d.id))
                .then(function (res) {
                    if (!res.ok && res.status !== 404) {
                        P.annoncer(zoneDocuments(), 'Le document « ' + d.filename
                                   + ' » n’a pas été supprimé. '
                                   + P.messageErreur(res, 'document'), 'erreur');
                        bouton.focus();
                        return;
                    }
                    compte.documents = (compte.documents || [])
                        .filter(function (x) { return x.id !== d.id; });
                    listeDocuments(compte.documents);
                    P.annoncer(zoneDocuments(), 'Le document « ' + d.filename
                               + ' » est supprimé.', 'succes');
                    var titre = document.getElementById('documents-liste-titre')
                                || document.getElementById('documents-titre');
                    titre.focus();
                });
        });
    }

    function chargerDocuments() {
        var conteneur = document.getElementById('liste-documents');
        return P.appel('GET', 'me/documents').then(function (res) {
            if (!res.ok || !Array.isArray(res.data)) {
                conteneur.setAttribute('aria-busy', 'false');
                conteneur.textContent = '';
                conteneur.appendChild(creer('p', 'alerte alerte--erreur',
                    'La liste des documents ne peut pas être affichée. '
                    + P.messageErreur(res, 'documents')));
                return;
            }
            compte.documents = res.data;
            listeDocuments(res.data);
        });
    }

    function initDocuments() {
        var f = document.getElementById('form-document');
        if (!f) {
            return;
        }
        var fichier = document.getElementById('document-fichier');
        var type = document.getElementById('document-type');
        var envoi = document.getElementById('envoi');
        var barre = document.getElementById('envoi-progression');
        var pourcentage = document.getElementById('envoi-pourcentage');
        var zone = document.getElementById('document-message');

        function avancer(part) {
            var n = Math.max(0, Math.min(100, Math.round(part * 100)));
            barre.value = n;
            barre.textContent = n + ' %';
            pourcentage.textContent = n + '\u00a0%';
        }

        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.annoncer(zone, '');
            if (!fichier.files || !fichier.files.length) {
                P.afficherErreurs(f, 'Aucun fichier choisi.', {
                    file: 'Choisissez le fichier à envoyer.'
                });
                return;
            }
            var choisi = fichier.files[0];
            if (quotaDepasse(choisi, null)) {
                P.afficherErreurs(f, 'Le document n’a pas été déposé.',
                                  { file: P.TEXTES.documents });
                return;
            }
            P.effacerErreurs(f);
            var donnees = new FormData();
            donnees.append('kind', type.value);
            donnees.append('file', choisi, choisi.name);
            avancer(0);
            envoi.hidden = false;
            P.occupe(f, true);
            P.annoncer(zone, 'Envoi de « ' + choisi.name + ' » en cours…', 'info');
            P.envoyerFichier('me/documents', donnees, avancer).then(function (res) {
                P.occupe(f, false);
                if (!res.ok || !res.data || !res.data.id) {
                    envoi.hidden = true;
                    P.annoncer(zone, '');
                    P.afficherErreurs(f, 'Le document n’a pas été déposé.',
                                      { file: P.messageEnvoi(res) });
                    return;
                }
                avancer(1);
                compte.documents = [res.data].concat(
                    (compte.documents || []).filter(function (d) {
                        return d.id !== res.data.id;
                    }));
                listeDocuments(compte.documents);
                fichier.value = '';
                P.annoncer(zone, '');
                P.annoncer(zoneDocuments(), 'Le document « ' + res.data.filename
                           + ' » (' + (DOCUMENTS[res.data.kind] || res.data.kind)
                           + ') est déposé.', 'succes');
                montrerDocument(res.data);
            });
        });
    }

    /* ------------------------------------------------ password change */

    function initChangerMdp() {
        var f = document.getElementById('form-changer-mdp');
        if (!f) {
            return;
        }
        var zone = document.getElementById('changer-mdp-message');
        var crypto = new P.Cryptogramme(document.getElementById('mdp-captcha'),
                                        'mdp-captcha');
        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.annoncer(zone, '');
            var T = P.TEXTES;
            var actuel = f.elements.namedItem('current');
            var nouveau = f.elements.namedItem('new');
            var confirmation = f.elements.namedItem('new_confirm');
            var avecCrypto = crypto.visible();
            var erreurs = {};
            if (!actuel.value) {
                erreurs.current = T.mdpActuel;
            }
            var refus = P.REGLES.motDePasseRefuse(
                nouveau.value, P.REGLES.personnelsDe(P.session.login), true);
            if (refus) {
                erreurs['new'] = refus;
            } else if (confirmation.value !== nouveau.value) {
                erreurs.new_confirm = T.mdpConfirmation;
            }
            if (avecCrypto && !Object.keys(erreurs).length) {
                var probleme = crypto.verifier();
                if (probleme) {
                    erreurs.captcha_answer = probleme;
                }
            }
            if (Object.keys(erreurs).length) {
                P.afficherErreurs(f, 'Le mot de passe n’a pas été changé.',
                                  erreurs);
                return;
            }
            var corps = {
                current: actuel.value,
                'new': nouveau.value,
                new_confirm: confirmation.value
            };
            if (avecCrypto) {
                var v = crypto.valeurs();
                corps.captcha_id = v.captcha_id;
                corps.captcha_answer = v.captcha_answer;
            }
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('POST', 'password', corps).then(function (res) {
                P.occupe(f, false);
                if (res.ok) {
                    f.reset();
                    crypto.masquer();
                    resultat(zone, 'Votre mot de passe est changé. Un courriel '
                             + 'vous le confirme ; vos autres connexions sont '
                             + 'fermées.');
                    return;
                }
                if (P.demandeCryptogramme(res)) {
                    crypto.afficher();
                    P.effacerErreurs(f);
                    P.annoncer(zone, P.messageErreur(res, 'mot-de-passe'),
                               'erreur');
                    crypto.input.focus();
                    return;
                }
                if (P.cryptogrammeRefuse(res)) {
                    res.erreur.fields = { captcha_answer: crypto.refuse(res) };
                    P.erreursApi(f, res, 'mot-de-passe');
                    return;
                }
                if (avecCrypto) {
                    /* The captcha served for this try. */
                    crypto.nouveau('refus');
                }
                P.erreursApi(f, res, 'mot-de-passe');
            });
        });
    }

    /* ------------------------------------------------------- loading */

    function viderCompte() {
        compte.me = null;
        compte.charge = null;
        compte.fiche = null;
        compte.documents = null;
        ['liste-adultes', 'liste-enfants', 'liste-documents', 'fiche-blocs']
            .forEach(function (id) {
                var el = document.getElementById(id);
                if (el) {
                    el.textContent = '';
                }
            });
        ['fiche', 'ajout-membre'].forEach(function (id) {
            var el = document.getElementById(id);
            if (el) {
                el.hidden = true;
            }
        });
        ['compte-message', 'foyer-message', 'documents-message',
         'document-message'].forEach(function (id) {
            P.annoncer(document.getElementById(id), '');
        });
    }

    function chargerCompte() {
        compte.charge = P.session.login;
        document.documentElement.setAttribute('data-compte', 'chargement');
        return Promise.all([
            P.appel('GET', 'me').then(function (res) {
                if (!res.ok || !res.data || !res.data.holder) {
                    P.annoncer(zoneCompte(), 'Votre compte ne peut pas être '
                               + 'affiché pour le moment. '
                               + P.messageErreur(res, 'compte'), 'erreur');
                    return;
                }
                compte.me = res.data;
                afficherFoyer();
            }),
            chargerDocuments()
        ]).then(function () {
            document.documentElement.setAttribute('data-compte', 'pret');
        });
    }

    function surSession(ev) {
        var s = ev.detail || P.session;
        var connecte = s.authenticated === true && !s.password_change_required;
        if (!connecte) {
            if (compte.charge) {
                viderCompte();
                document.getElementById('creation-reussie').hidden = true;
                /* Logged out: the form is there for the next citizen. */
                creation.terminee = false;
            }
            afficherCreation(s);
            return;
        }
        afficherCreation(s);
        if (compte.charge !== s.login) {
            viderCompte();
            chargerCompte();
        } else {
            majDisponibilites();
        }
    }

    function demarrer() {
        initCreation();
        initAjout();
        initDocuments();
        initChangerMdp();
        var fermer = document.querySelector('[data-action="fermer-fiche"]');
        if (fermer) {
            fermer.addEventListener('click', fermerFiche);
        }
        P.surSession(surSession);
    }

    demarrer();
}());
