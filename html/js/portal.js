/*
 * Mon Compte Citoyen: the little script shared by the citizen pages and the
 * agents' space. No framework, nothing loaded from elsewhere, no inline code
 * (the pages run under a strict Content-Security-Policy).
 *
 * The API lives beside the pages: "api/" resolved against the page, i.e.
 * /api/ for the citizen pages and /admin/api/ for the agents' space. A page
 * may set another base with <body data-api="...">.
 *
 * Whatever the API answers (nothing, a 404 while it is not built, an error
 * envelope {"error": {"code", "message"}}), the page keeps working and says
 * what happened in French in an aria-live region.
 */
(function () {
    'use strict';

    var DELAI_MS = 15000;

    /* The nine states of a request, as the citizen reads them. */
    var ETATS = {
        brouillon: 'brouillon',
        en_attente: 'en attente',
        en_traitement: 'en traitement',
        incomplet: 'incomplet',
        rectifie: 'rectifié',
        complet: 'complet',
        rejete: 'rejeté',
        annule: 'annulé',
        valide: 'validé'
    };

    /* States in which the citizen reads the request as a PDF. */
    var ETATS_PDF = ['en_traitement', 'rectifie', 'complet', 'rejete',
                     'annule', 'valide'];

    var MESSAGES = {
        reseau: 'Le serveur ne répond pas. Vérifiez votre connexion à Internet puis réessayez.',
        indisponible: 'Ce service n’est pas encore disponible en ligne. Veuillez réessayer plus tard ou contacter la Mairie.',
        panne: 'Le service est momentanément indisponible. Veuillez réessayer dans quelques instants.',
        identifiants: 'Identifiant ou mot de passe incorrect.',
        trop: 'Trop de tentatives. Patientez quelques minutes avant de réessayer.',
        refuse: 'Cette action n’est pas autorisée.',
        session: 'Votre session a expiré. Rechargez la page puis réessayez.',
        inattendu: 'Une erreur inattendue est survenue. Veuillez réessayer.'
    };

    var session = {
        connu: false,
        authenticated: false,
        login: null,
        validated: null,
        role: null,
        csrf_token: null,
        password_change_required: false
    };

    var compteurId = 0;

    /* ------------------------------------------------------------ API */

    function baseApi() {
        var base = (document.body && document.body.getAttribute('data-api'))
                   || 'api/';
        return new URL(base, document.baseURI);
    }

    function urlApi(chemin) {
        return new URL(chemin, baseApi()).toString();
    }

    /*
     * One call to the API. Always resolves, never rejects:
     * {ok, status, data, erreur: {code, message} | null}.
     */
    function appel(methode, chemin, corps, dejaRelance) {
        var entetes = { 'Accept': 'application/json' };
        var options = {
            method: methode,
            credentials: 'same-origin',
            cache: 'no-store',
            headers: entetes
        };
        var controle = typeof AbortController === 'function'
                       ? new AbortController() : null;
        var minuterie = null;

        if (corps !== undefined) {
            entetes['Content-Type'] = 'application/json';
            options.body = JSON.stringify(corps);
        }
        if (methode !== 'GET' && session.csrf_token) {
            entetes['X-CSRF-Token'] = session.csrf_token;
        }
        if (controle) {
            options.signal = controle.signal;
            minuterie = setTimeout(function () { controle.abort(); }, DELAI_MS);
        }

        return fetch(urlApi(chemin), options).then(function (reponse) {
            return reponse.text().then(function (texte) {
                var data = null;
                try {
                    data = texte ? JSON.parse(texte) : null;
                } catch (e) {
                    data = null;
                }
                var erreur = null;
                if (!reponse.ok) {
                    erreur = (data && typeof data.error === 'object'
                              && data.error) || {};
                }
                return { ok: reponse.ok, status: reponse.status,
                         data: data, erreur: erreur };
            });
        }, function () {
            return { ok: false, status: 0, data: null, erreur: {} };
        }).then(function (res) {
            if (minuterie) {
                clearTimeout(minuterie);
            }
            /* A stale anti-CSRF token: fetch a fresh one and try once more. */
            if (!res.ok && res.status === 403 && res.erreur.code === 'csrf'
                && methode !== 'GET' && !dejaRelance) {
                return chargerSession().then(function () {
                    return appel(methode, chemin, corps, true);
                });
            }
            return res;
        });
    }

    /* The French sentence to show for a failed call. */
    function messageErreur(res, contexte) {
        var texte = res.erreur && typeof res.erreur.message === 'string'
                    ? res.erreur.message.trim() : '';

        if (res.status === 0) {
            return MESSAGES.reseau;
        }
        /* The route is not there (yet): say so rather than "not found". */
        if (res.status === 404 || res.status === 405 || res.status === 501) {
            return MESSAGES.indisponible;
        }
        if (texte) {
            return texte;
        }
        switch (res.status) {
        case 401:
            return contexte === 'connexion' ? MESSAGES.identifiants
                                            : MESSAGES.session;
        case 403:
            return MESSAGES.refuse;
        case 429:
            return MESSAGES.trop;
        case 502:
        case 503:
        case 504:
            return MESSAGES.panne;
        default:
            return MESSAGES.inattendu;
        }
    }

    /* -------------------------------------------------------- display */

    function tous(selecteur, racine) {
        return Array.prototype.slice.call(
            (racine || document).querySelectorAll(selecteur));
    }

    function creer(nom, classe, texte) {
        var el = document.createElement(nom);
        if (classe) {
            el.className = classe;
        }
        if (texte !== undefined && texte !== null) {
            el.textContent = texte;
        }
        return el;
    }

    /*
     * Writes a message into a live region. The region itself stays in the
     * page at all times so that screen readers announce what is put in it.
     */
    function annoncer(zone, texte, genre) {
        if (!zone) {
            return;
        }
        zone.textContent = '';
        if (!texte) {
            return;
        }
        var p = creer('p', 'alerte alerte--' + (genre || 'info'), texte);
        zone.appendChild(p);
    }

    function zoneMessage() {
        return document.getElementById('connexion-message');
    }

    /*
     * Shows what fits the session: [data-si-anonyme] for a visitor,
     * [data-si-session] for anybody logged in (the header's "Se déconnecter"),
     * [data-si-connecte] once logged in for good, [data-si-changement-mdp]
     * while a temporary password asks for a new one. Then tells the page's
     * other scripts (event "portail:session").
     */
    function afficherEtat() {
        var ouverte = session.authenticated === true;
        var provisoire = ouverte && session.password_change_required === true;
        var connecte = ouverte && !provisoire;

        document.documentElement.setAttribute('data-connecte',
                                              connecte ? 'oui' : 'non');
        tous('[data-si-session]').forEach(function (el) {
            el.hidden = !ouverte;
        });
        tous('[data-si-connecte]').forEach(function (el) {
            el.hidden = !connecte;
        });
        tous('[data-si-anonyme]').forEach(function (el) {
            el.hidden = ouverte;
        });
        tous('[data-si-changement-mdp]').forEach(function (el) {
            el.hidden = !provisoire;
        });
        tous('[data-si-non-valide]').forEach(function (el) {
            el.hidden = !(connecte && session.validated === false);
        });
        tous('[data-si-valide]').forEach(function (el) {
            el.hidden = !(connecte && session.validated === true);
        });
        tous('[data-login]').forEach(function (el) {
            el.textContent = ouverte && session.login ? session.login : '';
        });
        tous('[data-role]').forEach(function (el) {
            el.textContent = connecte && session.role ? session.role : '';
        });

        if (connecte) {
            tous('[data-demandes]').forEach(chargerDemandes);
        }

        var ev;
        try {
            ev = new CustomEvent('portail:session', { detail: session });
        } catch (e) {
            ev = document.createEvent('CustomEvent');
            ev.initCustomEvent('portail:session', false, false, session);
        }
        document.dispatchEvent(ev);
    }

    /* -------------------------------------------------------- session */

    function chargerSession() {
        return appel('GET', 'session').then(function (res) {
            var d = res.data;
            if (res.ok && d && typeof d === 'object') {
                session.connu = true;
                session.authenticated = d.authenticated === true;
                session.login = typeof d.login === 'string' ? d.login : null;
                session.validated = typeof d.validated === 'boolean'
                                    ? d.validated : null;
                session.role = typeof d.role === 'string' ? d.role : null;
                session.csrf_token = typeof d.csrf_token === 'string'
                                     ? d.csrf_token : null;
                session.password_change_required =
                    session.authenticated
                    && d.password_change_required === true;
            } else {
                session.connu = false;
                session.authenticated = false;
                session.login = null;
                session.validated = null;
                session.role = null;
                session.password_change_required = false;
            }
            return res;
        });
    }

    function marquerChamp(champ, invalide, idMessage) {
        if (!champ) {
            return;
        }
        var aides = (champ.getAttribute('aria-describedby') || '')
                    .split(/\s+/).filter(function (id) {
                        return id && id !== idMessage;
                    });
        if (invalide) {
            champ.setAttribute('aria-invalid', 'true');
            aides.push(idMessage);
        } else {
            champ.removeAttribute('aria-invalid');
        }
        if (aides.length) {
            champ.setAttribute('aria-describedby', aides.join(' '));
        } else {
            champ.removeAttribute('aria-describedby');
        }
    }

    function occupe(formulaire, oui) {
        tous('button', formulaire).forEach(function (b) {
            b.disabled = oui;
        });
        formulaire.setAttribute('aria-busy', oui ? 'true' : 'false');
    }

    /* ------------------------------------------------- form errors */

    function idPour(el, prefixe) {
        if (!el.id) {
            compteurId += 1;
            el.id = (prefixe || 'champ') + '-' + compteurId;
        }
        return el.id;
    }

    function ajouterDescription(el, id) {
        var ids = (el.getAttribute('aria-describedby') || '').split(/\s+/)
                  .filter(function (x) { return x && x !== id; });
        ids.push(id);
        el.setAttribute('aria-describedby', ids.join(' '));
    }

    function retirerDescription(el, id) {
        var ids = (el.getAttribute('aria-describedby') || '').split(/\s+/)
                  .filter(function (x) { return x && x !== id; });
        if (ids.length) {
            el.setAttribute('aria-describedby', ids.join(' '));
        } else {
            el.removeAttribute('aria-describedby');
        }
    }

    /* The controls behind a [data-champ]: itself, or a group's inputs. */
    function controles(cible) {
        if (cible.tagName === 'FIELDSET') {
            return tous('input, select, textarea', cible);
        }
        return [cible];
    }

    function texteSans(el, selecteurExclu) {
        var copie = el.cloneNode(true);
        tous(selecteurExclu, copie).forEach(function (x) {
            x.parentNode.removeChild(x);
        });
        return copie.textContent.replace(/\s+/g, ' ').trim();
    }

    /* What a field is called in the summary: "Enfant 1 – Prénom". */
    function libelle(cible) {
        var nom = cible.getAttribute('data-libelle');
        if (!nom) {
            if (cible.tagName === 'FIELDSET') {
                var legende = cible.querySelector('legend');
                nom = legende ? texteSans(legende, '.groupe__numero') : '';
            } else {
                var etiquette = cible.id && cible.form
                    ? cible.form.querySelector('label[for="' + cible.id + '"]')
                    : null;
                nom = etiquette ? texteSans(etiquette, '.facultatif') : '';
            }
        }
        var groupe = cible.parentNode
                     && cible.parentNode.closest('[data-groupe-libelle]');
        if (groupe) {
            nom = groupe.getAttribute('data-groupe-libelle') + ' – ' + nom;
        }
        return nom;
    }

    function effacerErreurs(formulaire) {
        tous('.champ__erreur', formulaire).forEach(function (p) {
            tous('[aria-describedby~="' + p.id + '"]', formulaire)
                .forEach(function (c) { retirerDescription(c, p.id); });
            p.parentNode.removeChild(p);
        });
        tous('[aria-invalid]', formulaire).forEach(function (c) {
            c.removeAttribute('aria-invalid');
        });
        tous('.champ--erreur', formulaire).forEach(function (c) {
            c.classList.remove('champ--erreur');
        });
        tous('.recap-erreurs', formulaire).forEach(function (r) {
            r.parentNode.removeChild(r);
        });
    }

    /*
     * Shows a failed form: a summary at its top (role "alert") listing every
     * problem as a link to its field, the message beside each field (tied to
     * it with aria-describedby, aria-invalid set), focus on the first field
     * in error. erreurs: {"holder.first_name": "Saisissez le prénom.", ...},
     * matched with the form's [data-champ] elements; titre: the general
     * message. Nothing but titre when erreurs is empty.
     */
    function afficherErreurs(formulaire, titre, erreurs) {
        effacerErreurs(formulaire);
        erreurs = erreurs || {};
        var lignes = [];

        Object.keys(erreurs).forEach(function (cle) {
            var message = String(erreurs[cle]);
            var cible = null;
            tous('[data-champ]', formulaire).some(function (el) {
                if (el.getAttribute('data-champ') === cle) {
                    cible = el;
                    return true;
                }
                return false;
            });
            if (!cible) {
                lignes.push({ message: message });
                return;
            }
            var ctrls = controles(cible);
            var p = creer('p', 'champ__erreur');
            p.id = idPour(cible, 'champ') + '-erreur';
            p.appendChild(creer('span', 'visuellement-cache', 'Erreur : '));
            p.appendChild(document.createTextNode(message));
            if (cible.tagName === 'FIELDSET') {
                var legende = cible.querySelector('legend');
                var apres = legende;
                while (apres.nextElementSibling
                       && apres.nextElementSibling.classList
                              .contains('champ__aide')) {
                    apres = apres.nextElementSibling;
                }
                apres.parentNode.insertBefore(p, apres.nextSibling);
                cible.classList.add('champ--erreur');
            } else {
                cible.parentNode.insertBefore(p, cible);
                var champ = cible.closest('.champ');
                if (champ) {
                    champ.classList.add('champ--erreur');
                }
            }
            ctrls.forEach(function (c) {
                c.setAttribute('aria-invalid', 'true');
                ajouterDescription(c, p.id);
            });
            var premier = ctrls.filter(function (c) { return c.checked; })[0]
                          || ctrls[0];
            lignes.push({ cible: cible, premier: premier, message: message,
                          libelle: libelle(cible) });
        });

        lignes.sort(function (a, b) {
            if (!a.cible || !b.cible) {
                return (a.cible ? 0 : 1) - (b.cible ? 0 : 1);
            }
            /* eslint-disable-next-line no-bitwise */
            return a.cible.compareDocumentPosition(b.cible)
                   & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
        });

        var recap = creer('div', 'recap-erreurs');
        recap.setAttribute('role', 'alert');
        recap.tabIndex = -1;
        recap.appendChild(creer('p', 'recap-erreurs__titre',
                                titre || 'Certaines informations sont à corriger.'));
        if (lignes.length) {
            var ul = creer('ul');
            lignes.forEach(function (l) {
                var li = creer('li');
                if (l.premier) {
                    var a = creer('a', null, (l.libelle ? l.libelle + ' : ' : '')
                                             + l.message);
                    a.href = '#' + idPour(l.premier, 'champ');
                    a.addEventListener('click', function (ev) {
                        ev.preventDefault();
                        l.premier.focus();
                        l.cible.scrollIntoView({ block: 'center' });
                    });
                    li.appendChild(a);
                } else {
                    li.textContent = l.message;
                }
                ul.appendChild(li);
            });
            recap.appendChild(ul);
        }
        formulaire.insertBefore(recap, formulaire.firstChild);

        var premiere = lignes.filter(function (l) { return l.premier; })[0];
        if (premiere) {
            premiere.premier.focus();
        } else {
            recap.focus();
        }
        return recap;
    }

    /* The API's answer to a form: its fields, or one message. */
    function erreursApi(formulaire, res, contexte) {
        var champs = res.erreur && res.erreur.fields
                     && typeof res.erreur.fields === 'object'
                     ? res.erreur.fields : null;
        var titre = messageErreur(res, contexte);
        return afficherErreurs(formulaire, titre, champs);
    }

    /* Logs in; answers the API's result, the session loaded again. */
    function ouvrirSession(login, mdp) {
        return chargerSession().then(function () {
            return appel('POST', 'session', { login: login, password: mdp });
        }).then(function (res) {
            if (!res.ok) {
                return res;
            }
            return chargerSession().then(function () {
                if (!session.authenticated && res.data
                    && typeof res.data === 'object') {
                    session.authenticated = true;
                    session.login = res.data.login || login;
                    if (typeof res.data.validated === 'boolean') {
                        session.validated = res.data.validated;
                    }
                    if (typeof res.data.role === 'string') {
                        session.role = res.data.role;
                    }
                    session.password_change_required =
                        res.data.password_change_required === true;
                }
                afficherEtat();
                return res;
            });
        });
    }

    /* Where the focus goes once logged in. */
    function focusApresConnexion() {
        var cible = session.password_change_required
            ? document.getElementById('nouveau-mdp')
            : document.getElementById('mon-espace-titre');
        if (cible) {
            cible.focus();
        }
    }

    function initConnexion() {
        var formulaire = document.getElementById('form-connexion');
        var zone = zoneMessage();

        tous('[data-action="deconnexion"]').forEach(function (bouton) {
            bouton.addEventListener('click', function () {
                bouton.disabled = true;
                appel('DELETE', 'session').then(function (res) {
                    bouton.disabled = false;
                    if (!res.ok && res.status !== 401) {
                        if (zone) {
                            annoncer(zone, messageErreur(res, 'deconnexion'),
                                     'erreur');
                        } else {
                            window.alert(messageErreur(res, 'deconnexion'));
                        }
                        return;
                    }
                    return chargerSession().then(function () {
                        session.authenticated = false;
                        session.password_change_required = false;
                        afficherEtat();
                        annoncer(zone, 'Vous êtes déconnecté.', 'succes');
                        var champ = document.getElementById('identifiant')
                                    || document.getElementById('contenu');
                        if (champ) {
                            champ.focus();
                        }
                    });
                });
            });
        });

        if (!formulaire) {
            return;
        }
        var champLogin = formulaire.elements.namedItem('login');
        var champMdp = formulaire.elements.namedItem('password');

        formulaire.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var login = champLogin.value.trim();
            var mdp = champMdp.value;

            marquerChamp(champLogin, false, zone.id);
            marquerChamp(champMdp, false, zone.id);

            if (!login) {
                marquerChamp(champLogin, true, zone.id);
                annoncer(zone, 'Saisissez votre identifiant.', 'erreur');
                champLogin.focus();
                return;
            }
            if (!mdp) {
                marquerChamp(champMdp, true, zone.id);
                annoncer(zone, 'Saisissez votre mot de passe.', 'erreur');
                champMdp.focus();
                return;
            }

            occupe(formulaire, true);
            annoncer(zone, 'Connexion en cours…', 'info');

            ouvrirSession(login, mdp).then(function (res) {
                occupe(formulaire, false);
                if (!res.ok) {
                    annoncer(zone, messageErreur(res, 'connexion'), 'erreur');
                    if (res.status === 401) {
                        champMdp.value = '';
                    }
                    return;
                }
                champMdp.value = '';
                annoncer(zone, session.password_change_required
                         ? 'Vous êtes connecté avec un mot de passe '
                           + 'temporaire : choisissez maintenant votre '
                           + 'nouveau mot de passe.'
                         : 'Vous êtes connecté.', 'succes');
                focusApresConnexion();
            });
        });
    }

    /*
     * After logging in with the temporary password: the only thing allowed
     * is choosing a new one.
     */
    function initNouveauMdp() {
        var formulaire = document.getElementById('form-nouveau-mdp');
        if (!formulaire) {
            return;
        }
        var zone = zoneMessage();
        var nouveau = formulaire.elements.namedItem('new');
        var confirmation = formulaire.elements.namedItem('new_confirm');

        formulaire.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var erreurs = {};
            if (nouveau.value.length < 12) {
                erreurs['new'] = 'Le mot de passe doit compter au moins '
                                 + '12 caractères.';
            }
            if (confirmation.value !== nouveau.value) {
                erreurs.new_confirm = 'Les deux mots de passe ne sont pas '
                                      + 'identiques.';
            }
            if (Object.keys(erreurs).length) {
                afficherErreurs(formulaire, null, erreurs);
                return;
            }
            effacerErreurs(formulaire);
            occupe(formulaire, true);
            appel('POST', 'password', { 'new': nouveau.value,
                                        new_confirm: confirmation.value })
                .then(function (res) {
                    occupe(formulaire, false);
                    if (!res.ok) {
                        erreursApi(formulaire, res, 'mot-de-passe');
                        return;
                    }
                    nouveau.value = '';
                    confirmation.value = '';
                    return chargerSession().then(function () {
                        afficherEtat();
                        annoncer(zone, 'Votre nouveau mot de passe est '
                                 + 'enregistré.', 'succes');
                        focusApresConnexion();
                    });
                });
        });
    }

    /*
     * Lost password, as the FAQ tells it: type the identifier, follow
     * "Mot de passe oublié ?", answer the question, get a temporary password
     * by mail.
     */
    function initOubli() {
        var lien = document.getElementById('lien-oubli');
        var cadre = document.getElementById('mot-de-passe-oublie');
        var formulaire = document.getElementById('form-oubli');
        var connexion = document.getElementById('form-connexion');
        if (!lien || !cadre || !formulaire || !connexion) {
            return;
        }
        var zone = zoneMessage();
        var champLogin = connexion.elements.namedItem('login');
        var question = document.getElementById('oubli-question');
        var reponse = formulaire.elements.namedItem('answer');
        var loginDemande = '';

        function fermer() {
            cadre.hidden = true;
            reponse.value = '';
            marquerChamp(reponse, false, zone.id);
        }

        lien.addEventListener('click', function (ev) {
            ev.preventDefault();
            var login = champLogin.value.trim();
            marquerChamp(champLogin, false, zone.id);
            if (!login) {
                marquerChamp(champLogin, true, zone.id);
                annoncer(zone, 'Saisissez d’abord votre identifiant, puis '
                         + 'choisissez « Mot de passe oublié ? ».', 'erreur');
                champLogin.focus();
                return;
            }
            annoncer(zone, 'Recherche de votre question de sécurité…', 'info');
            chargerSession().then(function () {
                return appel('POST', 'password/question', { login: login });
            }).then(function (res) {
                if (!res.ok || !res.data
                    || typeof res.data.question !== 'string') {
                    fermer();
                    annoncer(zone, res.ok ? MESSAGES.inattendu
                                          : messageErreur(res, 'oubli'),
                             'erreur');
                    return;
                }
                loginDemande = login;
                question.textContent = res.data.question;
                cadre.hidden = false;
                annoncer(zone, '');
                reponse.focus();
            });
        });

        formulaire.addEventListener('submit', function (ev) {
            ev.preventDefault();
            marquerChamp(reponse, false, zone.id);
            if (!reponse.value.trim()) {
                marquerChamp(reponse, true, zone.id);
                annoncer(zone, 'Saisissez la réponse à votre question.',
                         'erreur');
                reponse.focus();
                return;
            }
            occupe(formulaire, true);
            appel('POST', 'password/reset',
                  { login: loginDemande, answer: reponse.value })
                .then(function (res) {
                    occupe(formulaire, false);
                    if (!res.ok) {
                        annoncer(zone, messageErreur(res, 'oubli'), 'erreur');
                        return;
                    }
                    fermer();
                    annoncer(zone, 'Si votre réponse est exacte, un courriel '
                             + 'contenant un mot de passe temporaire vient de '
                             + 'vous être envoyé. Il est valable 30 minutes '
                             + 'et vous demandera d’en choisir un nouveau.',
                             'succes');
                    champLogin.focus();
                });
        });

        tous('[data-action="annuler-oubli"]').forEach(function (b) {
            b.addEventListener('click', function () {
                fermer();
                annoncer(zone, '');
                lien.focus();
            });
        });
    }

    /* ------------------------------------------------------- requests */

    function libelleEtat(etat) {
        return Object.prototype.hasOwnProperty.call(ETATS, etat)
               ? ETATS[etat] : String(etat || 'inconnu');
    }

    function dateFr(valeur) {
        if (!valeur) {
            return '';
        }
        var d = new Date(valeur);
        if (isNaN(d.getTime())) {
            return String(valeur);
        }
        return d.toLocaleDateString('fr-FR', {
            day: 'numeric', month: 'long', year: 'numeric'
        });
    }

    function listeDepuis(data, cle) {
        if (Array.isArray(data)) {
            return data;
        }
        if (data && Array.isArray(data[cle])) {
            return data[cle];
        }
        if (data && Array.isArray(data.items)) {
            return data.items;
        }
        return null;
    }

    function celluleDemarche(demande) {
        var td = creer('td');
        var titre = (demande.procedure && demande.procedure.title)
                    || 'Démarche';
        if (demande.id && ETATS_PDF.indexOf(demande.state) !== -1) {
            var a = creer('a', null, titre);
            a.href = urlApi('requests/' + encodeURIComponent(demande.id)
                            + '.pdf');
            a.target = '_blank';
            a.rel = 'noopener';
            a.appendChild(creer('span', 'visuellement-cache',
                                ' (PDF, nouvelle fenêtre)'));
            td.appendChild(a);
        } else {
            td.appendChild(document.createTextNode(titre));
        }
        if (demande.reference) {
            td.appendChild(creer('br'));
            td.appendChild(creer('small', null,
                                 'Référence ' + demande.reference));
        }
        return td;
    }

    function tableauDemandes(demandes, complet) {
        var enveloppe = creer('div', 'tableau-defilant');
        var table = creer('table');
        var legende = creer('caption', 'visuellement-cache',
                            complet ? 'Toutes mes demandes'
                                    : 'Mes dernières demandes');
        var thead = creer('thead');
        var ligne = creer('tr');
        var colonnes = complet ? ['Date', 'Démarche', 'Membre concerné', 'État']
                               : ['Démarche', 'Date', 'État'];
        colonnes.forEach(function (nom) {
            var th = creer('th', null, nom);
            th.scope = 'col';
            ligne.appendChild(th);
        });
        thead.appendChild(ligne);
        table.appendChild(legende);
        table.appendChild(thead);

        var tbody = creer('tbody');
        demandes.forEach(function (d) {
            var tr = creer('tr');
            if (d.id) {
                tr.id = 'demande-' + String(d.id).replace(/[^A-Za-z0-9_-]/g, '');
            }
            var date = creer('td', null, dateFr(d.created_at));
            var etat = creer('td');
            etat.appendChild(creer('span', 'etat etat--'
                                   + String(d.state || '').replace(/[^a-z_]/g, ''),
                                   libelleEtat(d.state)));
            if (complet) {
                tr.appendChild(date);
                tr.appendChild(celluleDemarche(d));
                tr.appendChild(creer('td', null,
                                     (d.member && d.member.name) || '—'));
            } else {
                tr.appendChild(celluleDemarche(d));
                tr.appendChild(date);
            }
            tr.appendChild(etat);
            tbody.appendChild(tr);
        });
        table.appendChild(tbody);
        enveloppe.appendChild(table);
        return enveloppe;
    }

    function chargerDemandes(conteneur) {
        var limite = parseInt(conteneur.getAttribute('data-limite'), 10);
        var complet = !(limite > 0);
        var chemin = 'me/requests' + (complet ? '' : '?limit=' + limite);

        conteneur.setAttribute('aria-busy', 'true');
        conteneur.textContent = '';
        conteneur.appendChild(creer('p', null, 'Chargement de vos demandes…'));

        appel('GET', chemin).then(function (res) {
            conteneur.setAttribute('aria-busy', 'false');
            conteneur.textContent = '';
            var liste = res.ok ? listeDepuis(res.data, 'requests') : null;
            if (!liste) {
                var message = res.ok ? MESSAGES.inattendu
                                     : messageErreur(res, 'demandes');
                conteneur.appendChild(creer('p', 'alerte alerte--erreur',
                    'Vos demandes ne peuvent pas être affichées pour le moment. '
                    + message));
                return;
            }
            if (liste.length === 0) {
                conteneur.appendChild(creer('p', null,
                    'Vous n’avez encore fait aucune demande.'));
                return;
            }
            conteneur.appendChild(tableauDemandes(liste, complet));
        });
    }

    /* ------------------------------------------------------ catalogue */

    function initCatalogue() {
        var conteneur = document.querySelector('[data-catalogue]');
        if (!conteneur) {
            return;
        }
        appel('GET', 'catalog').then(function (res) {
            var themes = res.ok ? listeDepuis(res.data, 'themes') : null;
            if (!themes || themes.length === 0) {
                return;     /* keep the page's own text */
            }
            conteneur.textContent = '';
            themes.forEach(function (theme) {
                var section = creer('section', 'bloc');
                var h = creer('h3', null, theme.title || theme.slug || 'Thème');
                section.appendChild(h);
                if (theme.description) {
                    section.appendChild(creer('p', null, theme.description));
                }
                var procedures = listeDepuis(theme, 'procedures') || [];
                var ul = creer('ul', 'tuiles');
                procedures.forEach(function (p) {
                    var li = creer('li', 'tuile');
                    li.appendChild(creer('h4', 'tuile__titre',
                                         p.title || p.slug));
                    if (p.description) {
                        li.appendChild(creer('p', null, p.description));
                    }
                    li.appendChild(creer('p', null, p.requires_account
                        ? 'Nécessite un compte.'
                        : 'Possible sans compte.'));
                    ul.appendChild(li);
                });
                section.appendChild(ul);
                conteneur.appendChild(section);
            });
        });
    }

    /* Shared with the page scripts (js/compte.js). */
    window.Portail = {
        session: session,
        MESSAGES: MESSAGES,
        appel: appel,
        urlApi: urlApi,
        chargerSession: chargerSession,
        ouvrirSession: ouvrirSession,
        afficherEtat: afficherEtat,
        focusApresConnexion: focusApresConnexion,
        messageErreur: messageErreur,
        annoncer: annoncer,
        creer: creer,
        tous: tous,
        occupe: occupe,
        idPour: idPour,
        afficherErreurs: afficherErreurs,
        effacerErreurs: effacerErreurs,
        erreursApi: erreursApi,
        dateFr: dateFr
    };

    /* ----------------------------------------------------------- start */

    function demarrer() {
        initConnexion();
        initNouveauMdp();
        initOubli();
        initCatalogue();
        afficherEtat();
        chargerSession().then(function () {
            afficherEtat();
            /* Tells tests (and styles) that the session state is known. */
            document.documentElement.setAttribute('data-portail', 'pret');
        });
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', demarrer);
    } else {
        demarrer();
    }
}());
