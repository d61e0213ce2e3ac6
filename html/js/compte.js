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
                 aide: 'Par exemple : 01 23 45 67 89.' },
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

    function taille(octets) {
        if (typeof octets !== 'number') {
            return '';
        }
        if (octets < 1024) {
            return octets + ' octets';
        }
        if (octets < 1024 * 1024) {
            return (octets / 1024).toFixed(1).replace('.', ',') + ' Ko';
        }
        return (octets / (1024 * 1024)).toFixed(1).replace('.', ',') + ' Mo';
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

    /* The checks made before sending: the same words as the API's. */
    function verifierPersonne(racine, prefixe, requis, erreurs) {
        var d = lireChamps(racine);
        var messages = {
            civility: 'Choisissez « M » ou « Mme ».',
            first_name: 'Saisissez le prénom.',
            last_name: 'Saisissez le nom.',
            birth_date: 'Saisissez la date de naissance.',
            email: 'Saisissez une adresse électronique.',
            'address.line': 'Saisissez le numéro et la rue.',
            'address.postcode': 'Le code postal compte 5 chiffres.',
            'address.city': 'Saisissez la commune.'
        };
        requis.forEach(function (nom) {
            var v = valeur(d, nom);
            if (v === undefined) {
                return;
            }
            if (v === '') {
                erreurs[prefixe + nom] = messages[nom] || 'Ce champ est obligatoire.';
            }
        });
        var cp = valeur(d, 'address.postcode');
        if (cp && !/^[0-9]{5}$/.test(cp)) {
            erreurs[prefixe + 'address.postcode'] = messages['address.postcode'];
        }
        var naissance = valeur(d, 'birth_date');
        if (naissance && (naissance > aujourdhui()
                          || !/^\d{4}-\d{2}-\d{2}$/.test(naissance))) {
            erreurs[prefixe + 'birth_date'] = 'La date de naissance doit être '
                                              + 'une date passée.';
        }
        var courriel = valeur(d, 'email');
        if (courriel && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(courriel)) {
            erreurs[prefixe + 'email'] = 'L’adresse électronique n’est pas valide.';
        }
        return d;
    }

    /* ============================================== account creation */

    var creation = {
        formulaire: null,
        captchaId: null,
        captchaDemande: false
    };

    function nouveauCaptcha(annonce) {
        var img = document.getElementById('cr-captcha-image');
        var audio = document.getElementById('cr-captcha-audio');
        var reponse = document.getElementById('cr-captcha-reponse');
        var message = document.getElementById('cr-captcha-message');
        var bouton = document.getElementById('cr-captcha-nouveau');
        var boite = img.closest('.cryptogramme');

        bouton.disabled = true;
        boite.setAttribute('aria-busy', 'true');
        return P.appel('POST', 'captcha').then(function (res) {
            bouton.disabled = false;
            boite.setAttribute('aria-busy', 'false');
            var d = res.data;
            if (!res.ok || !d || typeof d.captcha_id !== 'string') {
                creation.captchaId = null;
                img.alt = 'Le cryptogramme n’a pas pu être affiché.';
                message.textContent = 'Le cryptogramme n’a pas pu être affiché. '
                    + P.messageErreur(res, 'captcha')
                    + ' Choisissez « Nouvelle image » pour réessayer.';
                return;
            }
            creation.captchaId = d.captcha_id;
            var base = P.urlApi('captcha/' + encodeURIComponent(d.captcha_id));
            img.src = d.image ? new URL(d.image, document.baseURI).toString()
                              : base + '.png';
            img.alt = d.alt || 'Cryptogramme : des caractères déformés à '
                               + 'recopier dans le champ « Saisir le texte '
                               + 'de l’image ».';
            img.setAttribute('data-captcha-id', d.captcha_id);
            audio.src = d.audio ? new URL(d.audio, document.baseURI).toString()
                                : base + '.wav';
            reponse.value = '';
            message.textContent = annonce
                ? 'Une nouvelle image est affichée. Recopiez ses caractères.'
                : '';
        });
    }

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

    function verifierCreation(f) {
        var erreurs = {};
        /* The holder's fields carry the API's keys, "holder.…". */
        var d = {};
        tous('[data-champ^="holder."]', f).forEach(function (el) {
            var cle = el.getAttribute('data-champ').slice('holder.'.length);
            var v;
            if (el.tagName === 'FIELDSET') {
                var coche = el.querySelector('input:checked');
                v = coche ? coche.value : '';
            } else {
                v = el.value.trim();
            }
            poser(d, cle, v);
        });
        var requis = {
            civility: 'Choisissez « M » ou « Mme ».',
            first_name: 'Saisissez le prénom.',
            last_name: 'Saisissez le nom.',
            birth_date: 'Saisissez la date de naissance.',
            email: 'Saisissez une adresse électronique.',
            'address.line': 'Saisissez le numéro et la rue.',
            'address.postcode': 'Le code postal compte 5 chiffres.',
            'address.city': 'Saisissez la commune.'
        };
        Object.keys(requis).forEach(function (cle) {
            if (!valeur(d, cle)) {
                erreurs['holder.' + cle] = requis[cle];
            }
        });
        if (d.address && d.address.postcode
            && !/^[0-9]{5}$/.test(d.address.postcode)) {
            erreurs['holder.address.postcode'] = requis['address.postcode'];
        }
        if (d.birth_date && d.birth_date > aujourdhui()) {
            erreurs['holder.birth_date'] = 'La date de naissance doit être '
                                           + 'une date passée.';
        }
        if (d.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(d.email)) {
            erreurs['holder.email'] = 'L’adresse électronique n’est pas valide.';
        }

        var mdp = f.elements.namedItem('password').value;
        var confirmation = f.elements.namedItem('password_confirm').value;
        if (mdp.length < 12) {
            erreurs.password = 'Le mot de passe doit compter au moins '
                               + '12 caractères.';
        } else if (confirmation !== mdp) {
            erreurs.password_confirm = 'Les deux mots de passe ne sont pas '
                                       + 'identiques.';
        }
        if (!f.elements.namedItem('security_question_id').value) {
            erreurs.security_question_id = 'Choisissez une question dans la liste.';
        }
        if (!f.elements.namedItem('security_answer').value.trim()) {
            erreurs.security_answer = 'Saisissez la réponse à la question choisie.';
        }
        var contact = f.querySelector('input[name="contact_mode"]:checked');
        if (!contact) {
            erreurs.contact_mode = 'Choisissez un mode de contact : courriel, '
                                   + 'téléphone ou courrier.';
        } else if (contact.value === 'phone' && !d.phone) {
            erreurs.contact_mode = 'Le contact par téléphone demande un '
                                   + 'numéro de téléphone.';
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

        if (!f.elements.namedItem('captcha_answer').value.trim()) {
            erreurs.captcha_answer = 'Saisissez le texte de l’image.';
        }

        var titulaireOut = {};
        Object.keys(d).forEach(function (k) {
            if (k === 'phone' && !d.phone) {
                return;
            }
            titulaireOut[k] = d[k];
        });

        return {
            erreurs: erreurs,
            corps: {
                holder: titulaireOut,
                password: mdp,
                password_confirm: confirmation,
                security_question_id: parseInt(
                    f.elements.namedItem('security_question_id').value, 10) || null,
                security_answer: f.elements.namedItem('security_answer').value,
                contact_mode: contact ? contact.value : null,
                members: membres,
                captcha_id: creation.captchaId,
                captcha_answer: f.elements.namedItem('captcha_answer').value.trim()
            }
        };
    }

    function creationReussie(login, email, mdp) {
        var panneau = document.getElementById('creation-reussie');
        document.getElementById('creation-login').textContent = login;
        document.getElementById('creation-email').textContent = email;
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
        panneau.hidden = false;

        /* Logged in at once with the password just chosen, to go on. */
        return P.ouvrirSession(login, mdp).then(function () {
            panneau.hidden = false;
            if (!P.session.authenticated) {
                nouveauCaptcha(false);
            }
            document.getElementById('creation-reussie-titre').focus();
            panneau.scrollIntoView({ block: 'start' });
        });
    }

    function initCreation() {
        var f = document.getElementById('form-creation');
        if (!f) {
            return;
        }
        creation.formulaire = f;
        var naissance = document.getElementById('cr-naissance');
        naissance.max = aujourdhui();

        chargerQuestions();

        document.getElementById('cr-captcha-nouveau')
            .addEventListener('click', function () {
                nouveauCaptcha(true);
            });

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
            if (!creation.captchaId) {
                P.afficherErreurs(f, 'Le cryptogramme n’est pas disponible.', {
                    captcha_answer: 'Choisissez « Nouvelle image » pour afficher '
                                    + 'un cryptogramme.'
                });
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
                var champs = res.erreur && res.erreur.fields;
                if (champs && champs.captcha_id && !champs.captcha_answer) {
                    champs.captcha_answer = champs.captcha_id;
                }
                if (res.erreur && res.erreur.code === 'captcha'
                    && !(champs && champs.captcha_answer)) {
                    res.erreur.fields = { captcha_answer: res.erreur.message };
                }
                P.erreursApi(f, res, 'creation');
                /* A captcha serves once: any try spends it. */
                return nouveauCaptcha(true);
            });
        });
    }

    /* ======================================================= account */

    var compte = {
        me: null,
        charge: null,       /* the login whose account is shown */
        fiche: null         /* {type: 'titulaire'|'membre', id} */
    };

    function zoneCompte() {
        return document.getElementById('compte-message');
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
        var b = boutonNomme('Voir la fiche', nom);
        b.setAttribute('aria-controls', 'fiche');
        b.setAttribute('data-fiche', ref.type === 'titulaire' ? 'titulaire'
                                                               : ref.id);
        b.addEventListener('click', function () {
            ouvrirFiche(ref);
        });
        li.appendChild(b);
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

    function modifierBloc(section, bloc, ref) {
        var p = personne(ref);
        var titulaire = ref.type === 'titulaire';
        var corps = section.querySelector('.fiche__corps');
        var bouton = section.querySelector('[data-action="modifier"]');
        corps.textContent = '';
        bouton.hidden = true;

        var f = creer('form', 'formulaire formulaire--bloc');
        f.noValidate = true;
        var base = 'fiche-' + bloc.id;
        var grille = null;
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
        });
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
            var erreurs = {};
            var requis = bloc.champs.filter(function (n) {
                return bloc.facultatifs.indexOf(n) === -1 && n !== 'contact_mode';
            });
            var d = verifierPersonne(f, titulaire ? 'holder.' : '', requis,
                                     erreurs);
            if (bloc.id === 'contact' && !d.contact_mode) {
                erreurs.contact_mode = 'Choisissez un mode de contact.';
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
                    corpsRequete = { holder: d };
                }
            } else {
                chemin = 'me/members/' + encodeURIComponent(ref.id);
                corpsRequete = d;
                if (d.civility === '') {
                    delete corpsRequete.civility;
                }
            }
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('PATCH', chemin, corpsRequete).then(function (res) {
                P.occupe(f, false);
                if (!res.ok) {
                    P.erreursApi(f, res, 'modification');
                    return;
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
                P.annoncer(zoneCompte(), 'Les modifications du bloc « '
                           + bloc.titre + ' » sont enregistrées.', 'succes');
            });
        });

        var premier = f.querySelector('input, select');
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
            var modifier = boutonNomme('Modifier', bloc.titre);
            modifier.setAttribute('data-action', 'modifier');
            modifier.addEventListener('click', function () {
                modifierBloc(section, bloc, ref);
            });
            entete.appendChild(modifier);
            section.appendChild(entete);
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
            b.addEventListener('click', function () {
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
                P.annoncer(zoneCompte(), nomComplet(res.data)
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

    function tableauDocuments(liste) {
        var conteneur = document.getElementById('liste-documents');
        conteneur.setAttribute('aria-busy', 'false');
        conteneur.textContent = '';
        if (!liste.length) {
            conteneur.appendChild(creer('p', 'documents__vide',
                                        'Aucun document déposé pour l’instant.'));
            return;
        }
        var enveloppe = creer('div', 'tableau-defilant');
        var table = creer('table', 'tableau-documents');
        table.appendChild(creer('caption', null, 'Documents déposés'));
        var thead = creer('thead');
        var tr = creer('tr');
        ['Type', 'Fichier', 'Taille', 'Déposé le'].forEach(function (n) {
            var th = creer('th', null, n);
            th.scope = 'col';
            tr.appendChild(th);
        });
        thead.appendChild(tr);
        table.appendChild(thead);
        var tbody = creer('tbody');
        liste.forEach(function (d) {
            var ligne = creer('tr');
            ligne.appendChild(creer('td', null, DOCUMENTS[d.kind] || d.kind));
            ligne.appendChild(creer('td', 'documents__fichier', d.filename));
            ligne.appendChild(creer('td', null, taille(d.size)));
            ligne.appendChild(creer('td', null, P.dateFr(d.created_at)));
            tbody.appendChild(ligne);
        });
        table.appendChild(tbody);
        enveloppe.appendChild(table);
        conteneur.appendChild(enveloppe);
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
            tableauDocuments(res.data);
        });
    }

    /* Sends one file with XMLHttpRequest, for its upload progress. */
    function envoyerFichier(donnees, progression, dejaRelance) {
        return new Promise(function (resoudre) {
            var xhr = new XMLHttpRequest();
            xhr.open('POST', P.urlApi('me/documents'));
            xhr.setRequestHeader('Accept', 'application/json');
            if (P.session.csrf_token) {
                xhr.setRequestHeader('X-CSRF-Token', P.session.csrf_token);
            }
            xhr.upload.addEventListener('progress', function (ev) {
                if (ev.lengthComputable) {
                    progression(ev.loaded / ev.total);
                }
            });
            xhr.addEventListener('load', function () {
                var data = null;
                try {
                    data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
                } catch (e) {
                    data = null;
                }
                var ok = xhr.status >= 200 && xhr.status < 300;
                resoudre({
                    ok: ok,
                    status: xhr.status,
                    data: data,
                    erreur: ok ? null
                               : (data && typeof data.error === 'object'
                                  && data.error) || {}
                });
            });
            var echec = function () {
                resoudre({ ok: false, status: 0, data: null, erreur: {} });
            };
            xhr.addEventListener('error', echec);
            xhr.addEventListener('abort', echec);
            xhr.addEventListener('timeout', echec);
            xhr.send(donnees);
        }).then(function (res) {
            if (!res.ok && res.status === 403 && res.erreur.code === 'csrf'
                && !dejaRelance) {
                return P.chargerSession().then(function () {
                    return envoyerFichier(donnees, progression, true);
                });
            }
            return res;
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
            P.effacerErreurs(f);
            var choisi = fichier.files[0];
            var donnees = new FormData();
            donnees.append('kind', type.value);
            donnees.append('file', choisi, choisi.name);
            avancer(0);
            envoi.hidden = false;
            P.occupe(f, true);
            P.annoncer(zone, 'Envoi de « ' + choisi.name + ' » en cours…', 'info');
            envoyerFichier(donnees, avancer).then(function (res) {
                P.occupe(f, false);
                if (!res.ok || !res.data || !res.data.id) {
                    envoi.hidden = true;
                    P.annoncer(zone, '');
                    var message;
                    if (res.erreur && res.erreur.message) {
                        message = res.erreur.message;
                    } else if (res.status === 413) {
                        message = 'Ce fichier est trop volumineux.';
                    } else if (res.status === 415) {
                        message = 'Ce type de fichier n’est pas accepté : '
                                  + 'déposez un PDF, une image JPEG ou PNG.';
                    } else if (res.status === 0) {
                        message = 'L’envoi a échoué. Vérifiez votre connexion '
                                  + 'et la taille du fichier, puis réessayez.';
                    } else {
                        message = P.messageErreur(res, 'document');
                    }
                    P.afficherErreurs(f, 'Le document n’a pas été déposé.',
                                      { file: message });
                    return;
                }
                avancer(1);
                compte.documents = [res.data].concat(
                    (compte.documents || []).filter(function (d) {
                        return d.id !== res.data.id;
                    }));
                tableauDocuments(compte.documents);
                fichier.value = '';
                P.annoncer(zone, 'Le document « ' + res.data.filename
                           + ' » (' + (DOCUMENTS[res.data.kind] || res.data.kind)
                           + ') est déposé.', 'succes');
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
        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.annoncer(zone, '');
            var actuel = f.elements.namedItem('current');
            var nouveau = f.elements.namedItem('new');
            var confirmation = f.elements.namedItem('new_confirm');
            var erreurs = {};
            if (!actuel.value) {
                erreurs.current = 'Saisissez votre mot de passe actuel.';
            }
            if (nouveau.value.length < 12) {
                erreurs['new'] = 'Le mot de passe doit compter au moins '
                                 + '12 caractères.';
            } else if (confirmation.value !== nouveau.value) {
                erreurs.new_confirm = 'Les deux mots de passe ne sont pas '
                                      + 'identiques.';
            }
            if (Object.keys(erreurs).length) {
                P.afficherErreurs(f, 'Le mot de passe n’a pas été changé.',
                                  erreurs);
                return;
            }
            P.effacerErreurs(f);
            P.occupe(f, true);
            P.appel('POST', 'password', {
                current: actuel.value,
                'new': nouveau.value,
                new_confirm: confirmation.value
            }).then(function (res) {
                P.occupe(f, false);
                if (!res.ok) {
                    P.erreursApi(f, res, 'mot-de-passe');
                    return;
                }
                f.reset();
                P.annoncer(zone, 'Votre mot de passe est changé. Un courriel '
                           + 'vous le confirme.', 'succes');
                return P.chargerSession();
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
        P.annoncer(zoneCompte(), '');
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
                /* The last captcha went with the account just created. */
                creation.captchaDemande = false;
            }
            if (s.authenticated !== true && !creation.captchaDemande
                && creation.formulaire && P.session.csrf_token) {
                creation.captchaDemande = true;
                nouveauCaptcha(false);
            }
            return;
        }
        if (compte.charge !== s.login) {
            viderCompte();
            chargerCompte();
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
        document.addEventListener('portail:session', surSession);
    }

    demarrer();
}());
