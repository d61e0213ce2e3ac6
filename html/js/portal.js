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

    /*
     * A captcha lives 10 minutes on the server: the page asks for a new one
     * a minute before, so that the text typed is never refused as expired.
     */
    var CRYPTO_VIE_MS = 10 * 60 * 1000;
    var CRYPTO_RENOUVELER_MS = 9 * 60 * 1000;

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

    /*
     * What the server checks, in its words (src/ngx_http_portal_messages.h),
     * so that the page refuses the same things with the same sentences
     * before anything is sent (and before a captcha is spent). Typographic
     * apostrophes, as everywhere on the pages.
     */
    var TEXTES = {
        civilite: 'Choisissez « Madame » ou « Monsieur ».',
        prenom: 'Saisissez le prénom.',
        prenomForme: 'Le prénom ne peut contenir que des lettres, espaces, traits d’union et apostrophes.',
        nom: 'Saisissez le nom.',
        nomForme: 'Le nom ne peut contenir que des lettres, espaces, traits d’union et apostrophes.',
        naissance: 'Saisissez la date de naissance.',
        naissanceForme: 'La date de naissance doit être une date passée.',
        courriel: 'Saisissez une adresse électronique.',
        courrielForme: 'L’adresse électronique n’est pas valide.',
        telephoneForme: 'Le numéro de téléphone doit compter 10 chiffres (ou l’indicatif + et 11 à 15 chiffres).',
        adresseLigne: 'Saisissez le numéro et la rue.',
        codePostal: 'Le code postal compte 5 chiffres.',
        commune: 'Saisissez la commune.',
        contact: 'Choisissez un mode de contact : courriel, téléphone ou courrier.',
        contactTelephone: 'Le contact par téléphone demande un numéro de téléphone.',
        question: 'Choisissez une question dans la liste.',
        reponse: 'Saisissez la réponse à la question choisie.',
        mdpAucun: 'Choisissez un mot de passe.',
        mdpNouveau: 'Choisissez un nouveau mot de passe.',
        mdpLong: 'Le mot de passe ne peut dépasser 128 caractères.',
        mdpCaracteres: 'Le mot de passe contient des caractères non admis.',
        mdpCourt: 'Le mot de passe doit compter au moins 12 caractères.',
        mdpCourant: 'Ce mot de passe fait partie des plus courants : choisissez-en un autre.',
        mdpPersonnel: 'Le mot de passe ne doit être ni votre identifiant ni votre nom.',
        mdpConfirmation: 'Les deux mots de passe saisis diffèrent.',
        mdpActuel: 'Saisissez votre mot de passe actuel.',
        mdpPourCourriel: 'Saisissez votre mot de passe actuel pour changer d’adresse électronique.',
        identifiant: 'Saisissez votre identifiant.',
        motDePasse: 'Saisissez votre mot de passe.',
        reponseOubli: 'Saisissez la réponse à votre question.',
        cryptogramme: 'Recopiez le texte de l’image.',
        cryptoExpire: 'L’image a expiré : recopiez le texte de la nouvelle image.',
        membres: 'Votre foyer compte déjà 20 membres : c’est le nombre maximal.',
        documents: 'Votre compte a déjà 20 documents ou 50 Mo de documents : supprimez-en un avant d’en déposer un autre.'
    };

    /*
     * The most common passwords of 12 characters or more, lowercase: the
     * server's list (src/ngx_http_portal_password.c).
     */
    var COURANTS = [
        '000000000000', '0123456789ab', '111111111111', '1111111111111',
        '1122334455667788', '123123123123', '123456789012', '1234567890123',
        '12345678901234', '1234567891011', '123456789123', '123456789abc',
        '1234qwerasdf', '123soleil123', '1q2w3e4r5t6y', '1qaz2wsx3edc',
        '222222222222', '987654321000', '987654321098', 'aaaaaaaaaaaa',
        'abc123abc123', 'abcd1234abcd', 'abcdef123456', 'abcdefghijkl',
        'azerty123456', 'azertyazerty', 'azertyuiop12', 'azertyuiop123',
        'azertyuiopqsd', 'bienvenue123', 'bonjour12345', 'bonjourbonjour',
        'chocolat1234', 'football1234', 'iloveyou1234', 'jetaime123456',
        'jetaimejetaime', 'loveyou12345', 'marseille123', 'monmotdepasse',
        'monmotdepasse1', 'motdepasse12', 'motdepasse123', 'motdepasse1234',
        'motdepasseoublie', 'motdepasseportail', 'myspace12345',
        'nicolas12345', 'parisparis75', 'password1234', 'password12345',
        'passwordpassword', 'portailcitoyen', 'portailcitoyen1',
        'qazwsxedcrfv', 'qwerty123456', 'qwertyqwerty', 'qwertyuiop12',
        'qwertyuiop123', 'qwertyuiopas', 'soleil123456', 'sunshine1234',
        'superman1234', 'trustno1trustno1', 'welcome12345', 'zaq12wsxcde3'
    ];

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

    /* The server's messages come with straight apostrophes; the pages' not. */
    function typo(texte) {
        return String(texte).replace(/'/g, '’');
    }

    /* ------------------------------------------------------------ API */

    function baseApi() {
        var base = (document.body && document.body.getAttribute('data-api'))
                   || 'api/';
        return new URL(base, document.baseURI);
    }

    function urlApi(chemin) {
        return new URL(chemin, baseApi()).toString();
    }

    /* A session object: GET session, and the answers that renew the token. */
    function estSession(d) {
        return d !== null && typeof d === 'object'
               && typeof d.authenticated === 'boolean'
               && typeof d.csrf_token === 'string';
    }

    function appliquerSession(d) {
        session.connu = true;
        session.authenticated = d.authenticated === true;
        session.login = typeof d.login === 'string' ? d.login : null;
        session.validated = typeof d.validated === 'boolean'
                            ? d.validated : null;
        session.role = typeof d.role === 'string' ? d.role : null;
        /* an agent's session: who it is, the themes it is limited to */
        session.name = typeof d.name === 'string' ? d.name : null;
        session.themes = Array.isArray(d.themes) ? d.themes : null;
        session.csrf_token = d.csrf_token;
        session.password_change_required =
            session.authenticated && d.password_change_required === true;
    }

    /*
     * One call to the API. Always resolves, never rejects:
     * {ok, status, data, erreur: {code, message} | null}.
     * An answer that is a session (log in, log out, a new password) carries
     * the new anti-CSRF token: it is taken at once. options.entetes: more
     * headers (an Idempotency-Key).
     */
    function appel(methode, chemin, corps, options) {
        options = options || {};
        var entetes = { 'Accept': 'application/json' };
        Object.keys(options.entetes || {}).forEach(function (nom) {
            entetes[nom] = options.entetes[nom];
        });
        var requete = {
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
            requete.body = JSON.stringify(corps);
        }
        if (methode !== 'GET' && session.csrf_token) {
            entetes['X-CSRF-Token'] = session.csrf_token;
        }
        if (controle) {
            requete.signal = controle.signal;
            minuterie = setTimeout(function () { controle.abort(); }, DELAI_MS);
        }

        return fetch(urlApi(chemin), requete).then(function (reponse) {
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
                         data: data, erreur: erreur,
                         attente: reponse.headers.get('Retry-After') };
            });
        }, function () {
            return { ok: false, status: 0, data: null, erreur: {} };
        }).then(function (res) {
            if (minuterie) {
                clearTimeout(minuterie);
            }
            if (res.ok && estSession(res.data)) {
                appliquerSession(res.data);
            }
            /* A stale anti-CSRF token: fetch a fresh one and try once more. */
            if (!res.ok && res.status === 403 && res.erreur.code === 'csrf'
                && methode !== 'GET' && !options.relance) {
                return chargerSession().then(function () {
                    return appel(methode, chemin, corps, {
                        entetes: options.entetes, relance: true
                    });
                });
            }
            return res;
        });
    }

    /* The French sentence to show for a failed call. */
    function messageErreur(res, contexte) {
        var texte = res.erreur && typeof res.erreur.message === 'string'
                    ? typo(res.erreur.message.trim()) : '';

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

    /* The server asks for a captcha (past the failure limits). */
    function demandeCryptogramme(res) {
        return res.status === 429 && res.erreur
               && res.erreur.code === 'captcha_required';
    }

    /* The captcha sent was refused: wrong, spent or expired. */
    function cryptogrammeRefuse(res) {
        return res.status === 422 && res.erreur && res.erreur.code === 'captcha';
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
            return null;
        }
        zone.textContent = '';
        if (!texte) {
            return null;
        }
        var p = creer('p', 'alerte alerte--' + (genre || 'info'), texte);
        p.id = idPour(zone, 'zone') + '-texte';
        zone.appendChild(p);
        return p;
    }

    /* The login form's messages, beside its fields. */
    function zoneMessage() {
        return document.getElementById('connexion-message');
    }

    /* What happened to the session: logged in, logged out. */
    function zoneEspace() {
        return document.getElementById('espace-message') || zoneMessage();
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

    /* Set once the first GET session is answered and shown. */
    var sessionAffichee = false;

    /*
     * Calls fn at each change of the session (event "portail:session") and,
     * when the first answer has already been shown, at once: the page's own
     * script may run after it, since the browser lets other tasks (that
     * answer) run between two deferred scripts while the second downloads.
     */
    function surSession(fn) {
        document.addEventListener('portail:session', fn);
        if (sessionAffichee) {
            fn({ detail: session });
        }
    }

    function chargerSession() {
        return appel('GET', 'session').then(function (res) {
            if (!(res.ok && estSession(res.data))) {
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
        if (invalide) {
            champ.setAttribute('aria-invalid', 'true');
            ajouterDescription(champ, idMessage);
        } else {
            champ.removeAttribute('aria-invalid');
            retirerDescription(champ, idMessage);
        }
    }

    /*
     * A form at work: its buttons say so (aria-disabled) but keep the focus,
     * which a disabled button would drop to the page's body; a second
     * submission is ignored until the first is answered.
     */
    function occupe(formulaire, oui) {
        tous('button', formulaire).forEach(function (b) {
            if (oui) {
                b.setAttribute('aria-disabled', 'true');
                b.setAttribute('data-occupe', '');
            } else if (b.hasAttribute('data-occupe')) {
                b.removeAttribute('aria-disabled');
                b.removeAttribute('data-occupe');
            }
        });
        formulaire.setAttribute('aria-busy', oui ? 'true' : 'false');
    }

    function estOccupe(el) {
        var f = el && el.closest ? el.closest('[aria-busy="true"]') : null;
        return f !== null && f.tagName === 'FORM';
    }

    document.addEventListener('submit', function (ev) {
        if (ev.target.getAttribute('aria-busy') === 'true') {
            ev.preventDefault();
            ev.stopImmediatePropagation();
        }
    }, true);
    document.addEventListener('click', function (ev) {
        var b = ev.target.closest ? ev.target.closest('button[data-occupe]')
                                  : null;
        if (b) {
            ev.preventDefault();
            ev.stopImmediatePropagation();
        }
    }, true);

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
     * message. Nothing but titre when erreurs is empty. options.recap false:
     * the messages beside the fields only (a small form whose live region
     * says the rest).
     */
    function afficherErreurs(formulaire, titre, erreurs, options) {
        effacerErreurs(formulaire);
        erreurs = erreurs || {};
        options = options || {};
        var lignes = [];

        Object.keys(erreurs).forEach(function (cle) {
            var message = typo(erreurs[cle]);
            var cible = null;
            tous('[data-champ]', formulaire).some(function (el) {
                if (el.getAttribute('data-champ') === cle
                    && !el.closest('[hidden]')) {
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

        var premiere = lignes.filter(function (l) { return l.premier; })[0];
        if (options.recap === false) {
            if (premiere) {
                premiere.premier.focus();
            }
            return null;
        }

        var recap = creer('div', 'recap-erreurs');
        recap.setAttribute('role', 'alert');
        recap.tabIndex = -1;
        recap.appendChild(creer('p', 'recap-erreurs__titre',
                                typo(titre || 'Certaines informations sont à corriger.')));
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

        if (premiere) {
            premiere.premier.focus();
        } else {
            recap.focus();
        }
        return recap;
    }

    /* The API's answer to a form: its fields, or one message. */
    function erreursApi(formulaire, res, contexte, options) {
        var champs = res.erreur && res.erreur.fields
                     && typeof res.erreur.fields === 'object'
                     ? res.erreur.fields : null;
        var titre = messageErreur(res, contexte);
        return afficherErreurs(formulaire, titre, champs, options);
    }

    /* ------------------------------------------------------- the rules */

    /* Letters and digits only, lowercase, accents folded: "Jean-Éric" → "jeaneric". */
    var PLIAGES = {
        'æ': 'ae', 'œ': 'oe', 'ß': 'ss', 'ø': 'o', 'đ': 'd', 'ð': 'd',
        'ħ': 'h', 'ı': 'i', 'ĳ': 'ij', 'ŀ': 'l', 'ł': 'l', 'ŉ': 'n',
        'ŋ': 'n', 'ŧ': 't', 'ſ': 's', 'þ': 'th', 'ĸ': 'k'
    };

    function plier(texte) {
        return Array.from(String(texte || '').toLowerCase()).map(function (c) {
            if (PLIAGES[c]) {
                return PLIAGES[c];
            }
            if (c.charCodeAt(0) > 0x17f) {
                return '';
            }
            return c.normalize('NFD').replace(/[^a-z0-9]/g, '');
        }).join('');
    }

    /* Letters (ASCII and U+00C0–U+017F but × and ÷), spaces, hyphens, apostrophes. */
    function nomValide(v) {
        var signes = Array.from(v);
        var lettres = 0;
        if (signes.length > 100) {
            return false;
        }
        for (var i = 0; i < signes.length; i++) {
            var c = signes[i];
            if (c === ' ' || c === '-' || c === '\'' || c === '’') {
                continue;
            }
            if (!/^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]$/.test(c)) {
                return false;
            }
            lettres += 1;
        }
        return lettres > 0;
    }

    function aujourdhuiUtc() {
        return new Date().toISOString().slice(0, 10);
    }

    /* AAAA-MM-JJ, a real date, 1900 or later, not after today. */
    function dateValide(v) {
        var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
        if (!m) {
            return false;
        }
        var a = parseInt(m[1], 10);
        var mo = parseInt(m[2], 10);
        var j = parseInt(m[3], 10);
        var d = new Date(Date.UTC(a, mo - 1, j));
        return a >= 1900 && d.getUTCFullYear() === a
               && d.getUTCMonth() === mo - 1 && d.getUTCDate() === j
               && v <= aujourdhuiUtc();
    }

    /*
     * A plain address: a dot-atom of ASCII before the @, a domain of two
     * labels or more after it (accents accepted: they go to punycode).
     */
    function courrielValide(v) {
        var at = v.indexOf('@');
        if (at < 1 || v.indexOf('@', at + 1) !== -1 || v.length > 254) {
            return false;
        }
        var local = v.slice(0, at);
        var domaine = v.slice(at + 1);
        if (local.length > 64 || local.charAt(0) === '.'
            || local.charAt(local.length - 1) === '.'
            || local.indexOf('..') !== -1
            || !/^[A-Za-z0-9!#$%&'*+\-\/=?^_`{|}~.]+$/.test(local)) {
            return false;
        }
        if (/[^\x00-\x7f]/.test(domaine)) {
            if (/[\s\/?#:@\\\[\]%]/.test(domaine)) {
                return false;
            }
            try {
                domaine = new URL('http://' + domaine + '/').hostname;
            } catch (e) {
                return false;
            }
        }
        if (!domaine || domaine.length > 253
            || local.length + 1 + domaine.length > 254) {
            return false;
        }
        var etiquettes = domaine.split('.');
        if (etiquettes.length < 2) {
            return false;
        }
        return etiquettes.every(function (e) {
            return e.length >= 1 && e.length <= 63
                   && /^[A-Za-z0-9-]+$/.test(e)
                   && e.charAt(0) !== '-' && e.charAt(e.length - 1) !== '-';
        }) && !/^[0-9]+$/.test(etiquettes[etiquettes.length - 1]);
    }

    /* 10 digits, or + and 11 to 15; spaces, dots and hyphens between. */
    function telephoneValide(v) {
        if (v.length > 30 || !/^\+?[0-9 .\-]+$/.test(v)) {
            return false;
        }
        var chiffres = v.replace(/[^0-9]/g, '').length;
        return v.charAt(0) === '+' ? chiffres >= 11 && chiffres <= 15
                                   : chiffres === 10;
    }

    /*
     * Why a new password would be refused, or null. personnels: the login
     * and the name (and the address at sign-up), which it must not be.
     */
    function motDePasseRefuse(mdp, personnels, nouveau) {
        if (!mdp) {
            return nouveau ? TEXTES.mdpNouveau : TEXTES.mdpAucun;
        }
        var n = Array.from(mdp).length;
        if (/[\x00-\x1f\x7f-\x9f]/.test(mdp)) {
            return TEXTES.mdpCaracteres;
        }
        if (n < 12) {
            return TEXTES.mdpCourt;
        }
        if (n > 128 || new TextEncoder().encode(mdp).length > 512) {
            return TEXTES.mdpLong;
        }
        if (COURANTS.indexOf(mdp.replace(/[A-Z]/g, function (c) {
            return c.toLowerCase();
        })) !== -1) {
            return TEXTES.mdpCourant;
        }
        var plie = plier(mdp);
        if ((personnels || []).some(function (p) {
            var autre = plier(p);
            return autre && autre === plie;
        })) {
            return TEXTES.mdpPersonnel;
        }
        return null;
    }

    /* The login "prénom.nom" and its two parts: what a password must not be. */
    function personnelsDe(login) {
        if (!login) {
            return [];
        }
        var point = login.indexOf('.');
        return point > 0 ? [login, login.slice(0, point), login.slice(point + 1)]
                         : [login];
    }

    var REGLES = {
        nomValide: nomValide,
        dateValide: dateValide,
        courrielValide: courrielValide,
        telephoneValide: telephoneValide,
        motDePasseRefuse: motDePasseRefuse,
        personnelsDe: personnelsDe,
        plier: plier,
        aujourdhuiUtc: aujourdhuiUtc
    };

    /* ------------------------------------------------------ the captcha */

    /*
     * A captcha in a form: its image (with the API's text alternative), its
     * sound, "Nouvelle image", and the field "Saisissez le texte de
     * l'image". Built inside conteneur; ids start with prefixe. A new image
     * comes a minute before the server would let this one expire, and when
     * the image or the sound can no longer be fetched.
     */
    function Cryptogramme(conteneur, prefixe) {
        var moi = this;
        this.conteneur = conteneur;
        this.id = null;
        this.creeLe = 0;
        this.minuterie = null;
        this.chargement = null;
        this.relances = 0;
        this.actif = false;

        conteneur.classList.add('cryptogramme-zone');
        var boite = creer('div', 'cryptogramme');
        boite.setAttribute('aria-busy', 'true');
        var img = creer('img', 'cryptogramme__image');
        img.id = prefixe + '-image';
        img.width = 220;
        img.height = 70;
        img.alt = 'Chargement du cryptogramme…';
        img.src = new URL('../img/chargement.svg', document.querySelector(
            'link[rel="stylesheet"]').href).toString();
        boite.appendChild(img);
        var outils = creer('div', 'cryptogramme__outils');
        var libelleSon = creer('p', 'cryptogramme__audio-libelle',
                               'Écouter les caractères :');
        libelleSon.id = prefixe + '-audio-libelle';
        var audio = creer('audio');
        audio.id = prefixe + '-audio';
        audio.controls = true;
        audio.preload = 'none';
        audio.setAttribute('aria-labelledby', libelleSon.id);
        var bouton = creer('button', 'bouton bouton--secondaire bouton--petit',
                           'Nouvelle image');
        bouton.type = 'button';
        bouton.id = prefixe + '-nouveau';
        outils.appendChild(libelleSon);
        outils.appendChild(audio);
        outils.appendChild(bouton);
        boite.appendChild(outils);
        conteneur.appendChild(boite);

        var message = creer('p', 'cryptogramme__message');
        message.id = prefixe + '-message';
        message.setAttribute('aria-live', 'polite');
        conteneur.appendChild(message);

        var champ = creer('div', 'champ champ--moyen');
        var label = creer('label', null, 'Saisissez le texte de l’image');
        label.htmlFor = prefixe + '-reponse';
        var input = creer('input');
        input.id = prefixe + '-reponse';
        input.name = 'captcha_answer';
        input.type = 'text';
        input.setAttribute('data-champ', 'captcha_answer');
        input.autocomplete = 'off';
        input.setAttribute('autocapitalize', 'characters');
        input.spellcheck = false;
        input.maxLength = 16;
        input.setAttribute('aria-describedby', message.id);
        champ.appendChild(label);
        champ.appendChild(input);
        conteneur.appendChild(champ);

        this.boite = boite;
        this.img = img;
        this.audio = audio;
        this.bouton = bouton;
        this.message = message;
        this.input = input;

        bouton.addEventListener('click', function () {
            moi.nouveau('demande').then(function () {
                input.focus();
            });
        });
        img.addEventListener('load', function () {
            if (moi.id && img.getAttribute('data-captcha-id') === moi.id) {
                moi.relances = 0;
                boite.setAttribute('aria-busy', 'false');
            }
        });
        /* Fetched too often (429), spent or expired (404): another one. */
        var echec = function (quoi) {
            return function () {
                if (!moi.actif || !moi.id || moi.chargement) {
                    return;
                }
                if (moi.relances >= 2) {
                    moi.dire('Le cryptogramme ne peut pas être affiché pour le '
                             + 'moment. Choisissez « Nouvelle image » pour '
                             + 'réessayer.');
                    return;
                }
                moi.relances += 1;
                moi.nouveau(quoi);
            };
        };
        img.addEventListener('error', echec('image'));
        audio.addEventListener('error', echec('son'));
        document.addEventListener('visibilitychange', function () {
            if (document.visibilityState === 'visible' && moi.visible() && moi.id
                && Date.now() - moi.creeLe >= CRYPTO_RENOUVELER_MS) {
                moi.nouveau('expiration');
            }
        });
    }

    Cryptogramme.prototype.dire = function (texte) {
        this.message.textContent = texte || '';
    };

    /*
     * Asks the API for a new captcha. raison: "demande" ("Nouvelle image"),
     * "expiration" (it would expire soon), "image", "son" (no longer
     * fetched), "refus" (the server refused the last one: the caller says
     * why beside the field), nothing at first.
     */
    Cryptogramme.prototype.nouveau = function (raison) {
        var moi = this;
        if (this.chargement) {
            return this.chargement;
        }
        clearTimeout(this.minuterie);
        this.bouton.setAttribute('aria-disabled', 'true');
        this.boite.setAttribute('aria-busy', 'true');
        this.chargement = appel('POST', 'captcha').then(function (res) {
            var d = res.data;
            moi.chargement = null;
            moi.bouton.removeAttribute('aria-disabled');
            if (!res.ok || !d || typeof d.captcha_id !== 'string') {
                moi.id = null;
                moi.boite.setAttribute('aria-busy', 'false');
                moi.img.alt = 'Le cryptogramme n’a pas pu être affiché.';
                moi.img.removeAttribute('data-captcha-id');
                moi.dire('Le cryptogramme n’a pas pu être affiché. '
                         + messageErreur(res, 'captcha')
                         + ' Choisissez « Nouvelle image » pour réessayer.');
                return false;
            }
            var base = urlApi('captcha/' + encodeURIComponent(d.captcha_id));
            moi.id = d.captcha_id;
            moi.creeLe = Date.now();
            moi.img.setAttribute('data-captcha-id', d.captcha_id);
            moi.img.alt = typeof d.alt === 'string' && d.alt
                ? typo(d.alt)
                : 'Image de vérification : des caractères déformés à recopier '
                  + 'dans le champ « Saisissez le texte de l’image ».';
            moi.img.src = d.image ? new URL(d.image, document.baseURI).toString()
                                  : base + '.png';
            moi.audio.src = d.audio ? new URL(d.audio, document.baseURI).toString()
                                    : base + '.wav';
            moi.input.value = '';
            moi.dire({
                demande: 'Une nouvelle image est affichée. Recopiez ses caractères.',
                expiration: 'L’image allait expirer : une nouvelle image la '
                            + 'remplace. Recopiez ses caractères.',
                expiree: TEXTES.cryptoExpire,
                image: 'L’image ne pouvait plus être affichée : une nouvelle '
                       + 'image la remplace. Recopiez ses caractères.',
                son: 'Le son ne pouvait plus être écouté : une nouvelle image '
                     + 'et son écoute le remplacent.'
            }[raison] || '');
            moi.minuterie = setTimeout(function () {
                if (moi.visible()) {
                    moi.nouveau('expiration');
                }
            }, CRYPTO_RENOUVELER_MS);
            return true;
        });
        return this.chargement;
    };

    /* Shows it (a new one if it has none yet). */
    Cryptogramme.prototype.afficher = function () {
        this.conteneur.hidden = false;
        this.actif = true;
        if (!this.id || this.perime()) {
            return this.nouveau(this.id ? 'expiree' : undefined);
        }
        return Promise.resolve(true);
    };

    /* Hides it and forgets it: the next display asks for another one. */
    Cryptogramme.prototype.masquer = function () {
        this.conteneur.hidden = true;
        this.actif = false;
        this.id = null;
        clearTimeout(this.minuterie);
        this.input.value = '';
        this.dire('');
    };

    /* Shown, in a form still in the page (a block's form goes away). */
    Cryptogramme.prototype.visible = function () {
        return this.actif && !this.conteneur.hidden && this.conteneur.isConnected;
    };

    /* Past its 10 minutes by this page's clock (a sleeping computer). */
    Cryptogramme.prototype.perime = function () {
        return this.id !== null && Date.now() - this.creeLe >= CRYPTO_VIE_MS;
    };

    Cryptogramme.prototype.valeurs = function () {
        return { captcha_id: this.id, captcha_answer: this.input.value.trim() };
    };

    /*
     * Before a form is sent: the message to show beside the field, or null.
     * An image too old is replaced (nothing is sent, nothing is spent).
     */
    Cryptogramme.prototype.verifier = function () {
        if (!this.id) {
            this.nouveau();
            return 'Le cryptogramme n’est pas disponible : choisissez « Nouvelle '
                   + 'image » pour en afficher un.';
        }
        if (this.perime()) {
            this.nouveau('expiree');
            return TEXTES.cryptoExpire;
        }
        if (!this.input.value.trim()) {
            return TEXTES.cryptogramme;
        }
        return null;
    };

    /*
     * The server refused it (422 "captcha"): a new image; the message beside
     * the field is the API's (wrong, spent, or expired).
     */
    Cryptogramme.prototype.refuse = function (res) {
        var champs = res.erreur && res.erreur.fields;
        var texte = (champs && (champs.captcha_answer || champs.captcha_id))
                    || res.erreur.message || TEXTES.cryptogramme;
        this.nouveau('refus');
        return typo(texte);
    };

    /* ---------------------------------------------------- logging in */

    var connexion = {
        crypto: null        /* the login box's captcha, past the limits */
    };

    /*
     * Logs in; answers the API's result. The answer is the new session with
     * its new anti-CSRF token. extra: {captcha_id, captcha_answer} past the
     * failure limits.
     */
    function ouvrirSession(login, mdp, extra) {
        var avant = session.csrf_token ? Promise.resolve() : chargerSession();
        return avant.then(function () {
            var corps = { login: login, password: mdp };
            if (extra) {
                corps.captcha_id = extra.captcha_id;
                corps.captcha_answer = extra.captcha_answer;
            }
            return appel('POST', 'session', corps);
        }).then(function (res) {
            if (!res.ok) {
                return res;
            }
            var suite = estSession(res.data) ? Promise.resolve()
                                             : chargerSession();
            return suite.then(function () {
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

    /*
     * Where the focus goes once logged in: "Mon espace", unless the page
     * takes it (Portail.surConnexion answers true: the procedure page
     * puts it on the form it shows).
     */
    function focusApresConnexion() {
        if (!session.password_change_required && window.Portail
            && typeof window.Portail.surConnexion === 'function'
            && window.Portail.surConnexion() === true) {
            return;
        }
        var cible = session.password_change_required
            ? document.getElementById('nouveau-mdp')
            : document.getElementById('mon-espace-titre');
        if (cible) {
            cible.focus();
        }
    }

    /*
     * The login box, ready for a login past the limits: the identifier and
     * the password typed, the captcha shown (after an account is created
     * from an address that failed too often).
     */
    function connexionAvecCryptogramme(login, mdp, texte) {
        var f = document.getElementById('form-connexion');
        if (!f || !connexion.crypto) {
            return Promise.resolve(false);
        }
        f.elements.namedItem('login').value = login;
        f.elements.namedItem('password').value = mdp;
        annoncer(zoneMessage(), texte, 'info');
        return connexion.crypto.afficher();
    }

    function initDeconnexion() {
        tous('[data-action="deconnexion"]').forEach(function (bouton) {
            bouton.addEventListener('click', function () {
                if (bouton.getAttribute('aria-disabled') === 'true') {
                    return;
                }
                bouton.setAttribute('aria-disabled', 'true');
                appel('DELETE', 'session').then(function (res) {
                    bouton.removeAttribute('aria-disabled');
                    var zone = zoneEspace();
                    if (!res.ok && res.status !== 401) {
                        if (zone) {
                            annoncer(zone, messageErreur(res, 'deconnexion'),
                                     'erreur');
                        } else {
                            window.alert(messageErreur(res, 'deconnexion'));
                        }
                        return;
                    }
                    var suite = res.ok && estSession(res.data)
                                ? Promise.resolve() : chargerSession();
                    return suite.then(function () {
                        session.authenticated = false;
                        session.password_change_required = false;
                        afficherEtat();
                        annoncer(zoneMessage(), '');
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
    }

    function initConnexion() {
        var formulaire = document.getElementById('form-connexion');
        var zone = zoneMessage();

        initDeconnexion();
        if (!formulaire) {
            return;
        }
        var champLogin = formulaire.elements.namedItem('login');
        var champMdp = formulaire.elements.namedItem('password');
        var zoneCrypto = document.getElementById('connexion-captcha');
        var crypto = zoneCrypto ? new Cryptogramme(zoneCrypto, 'connexion-captcha')
                                : null;
        connexion.crypto = crypto;

        function erreur(champ, texte) {
            marquerChamp(champ, true, zone.id);
            annoncer(zone, texte, 'erreur');
            champ.focus();
        }

        formulaire.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var login = champLogin.value.trim();
            var mdp = champMdp.value;
            var avecCrypto = crypto !== null && crypto.visible();

            effacerErreurs(formulaire);
            marquerChamp(champLogin, false, zone.id);
            marquerChamp(champMdp, false, zone.id);

            if (!login) {
                erreur(champLogin, TEXTES.identifiant);
                return;
            }
            if (!mdp) {
                erreur(champMdp, TEXTES.motDePasse);
                return;
            }
            if (avecCrypto) {
                var probleme = crypto.verifier();
                if (probleme) {
                    afficherErreurs(formulaire, null,
                                    { captcha_answer: probleme },
                                    { recap: false });
                    annoncer(zone, probleme, 'erreur');
                    crypto.input.focus();
                    return;
                }
            }

            occupe(formulaire, true);
            annoncer(zone, 'Connexion en cours…', 'info');

            ouvrirSession(login, mdp, avecCrypto ? crypto.valeurs() : null)
                .then(function (res) {
                    occupe(formulaire, false);
                    if (res.ok) {
                        if (crypto) {
                            crypto.masquer();
                        }
                        champMdp.value = '';
                        annoncer(zone, '');
                        annoncer(zoneEspace(), session.password_change_required
                                 ? 'Vous êtes connecté avec un mot de passe '
                                   + 'temporaire : choisissez maintenant votre '
                                   + 'nouveau mot de passe.'
                                 : 'Vous êtes connecté.', 'succes');
                        focusApresConnexion();
                        return;
                    }
                    if (crypto && demandeCryptogramme(res)) {
                        /* Past the limits: the same try, with the captcha. */
                        crypto.afficher();
                        annoncer(zone, messageErreur(res, 'connexion'), 'erreur');
                        crypto.input.focus();
                        return;
                    }
                    if (crypto && cryptogrammeRefuse(res)) {
                        afficherErreurs(formulaire, null,
                                        { captcha_answer: crypto.refuse(res) },
                                        { recap: false });
                        annoncer(zone, messageErreur(res, 'connexion'), 'erreur');
                        crypto.input.focus();
                        return;
                    }
                    if (avecCrypto) {
                        /* The captcha served for this try. */
                        crypto.nouveau('refus');
                    }
                    if (res.status === 401) {
                        champMdp.value = '';
                        erreur(champMdp, messageErreur(res, 'connexion'));
                        return;
                    }
                    annoncer(zone, messageErreur(res, 'connexion'), 'erreur');
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
        var nouveau = formulaire.elements.namedItem('new');
        var confirmation = formulaire.elements.namedItem('new_confirm');

        formulaire.addEventListener('submit', function (ev) {
            ev.preventDefault();
            var erreurs = {};
            var refus = motDePasseRefuse(nouveau.value,
                                         personnelsDe(session.login), true);
            if (refus) {
                erreurs['new'] = refus;
            } else if (confirmation.value !== nouveau.value) {
                erreurs.new_confirm = TEXTES.mdpConfirmation;
            }
            if (Object.keys(erreurs).length) {
                afficherErreurs(formulaire, 'Le mot de passe n’a pas été changé.',
                                erreurs);
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
                    var suite = estSession(res.data) ? Promise.resolve()
                                                     : chargerSession();
                    return suite.then(function () {
                        session.password_change_required = false;
                        afficherEtat();
                        annoncer(zoneEspace(), 'Votre nouveau mot de passe est '
                                 + 'enregistré.', 'succes');
                        focusApresConnexion();
                    });
                });
        });
    }

    /*
     * Lost password, as the FAQ tells it: type the identifier, follow
     * "Mot de passe oublié ?", answer the question, get a temporary password
     * by mail. Whether the answer was right is never told.
     */
    var TEXTE_OUBLI = 'Si votre réponse est juste, un courriel vient de vous '
        + 'apporter un mot de passe temporaire, valable 30 minutes : '
        + 'saisissez-le ci-dessus pour vous connecter. Rien reçu d’ici '
        + 'quelques minutes ? Regardez dans vos courriers indésirables '
        + '(spam), puis vérifiez votre réponse et recommencez, ou contactez '
        + 'la Mairie.';

    function initOubli() {
        var lien = document.getElementById('lien-oubli');
        var cadre = document.getElementById('mot-de-passe-oublie');
        var formulaire = document.getElementById('form-oubli');
        var connexionForm = document.getElementById('form-connexion');
        if (!lien || !cadre || !formulaire || !connexionForm) {
            return;
        }
        var zone = zoneMessage();
        var zoneOubli = document.getElementById('oubli-message') || zone;
        var champLogin = connexionForm.elements.namedItem('login');
        var question = document.getElementById('oubli-question');
        var reponse = formulaire.elements.namedItem('answer');
        var zoneCrypto = document.getElementById('oubli-captcha');
        var crypto = zoneCrypto ? new Cryptogramme(zoneCrypto, 'oubli-captcha')
                                : null;
        var loginDemande = '';

        function fermer() {
            cadre.hidden = true;
            reponse.value = '';
            effacerErreurs(formulaire);
            annoncer(zoneOubli, '');
            if (crypto) {
                crypto.masquer();
            }
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
            var avant = session.csrf_token ? Promise.resolve() : chargerSession();
            avant.then(function () {
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
                if (loginDemande !== login) {
                    fermer();
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
            var avecCrypto = crypto !== null && crypto.visible();
            effacerErreurs(formulaire);
            if (!reponse.value.trim()) {
                afficherErreurs(formulaire, null,
                                { answer: TEXTES.reponseOubli }, { recap: false });
                annoncer(zoneOubli, TEXTES.reponseOubli, 'erreur');
                return;
            }
            if (avecCrypto) {
                var probleme = crypto.verifier();
                if (probleme) {
                    afficherErreurs(formulaire, null,
                                    { captcha_answer: probleme },
                                    { recap: false });
                    annoncer(zoneOubli, probleme, 'erreur');
                    crypto.input.focus();
                    return;
                }
            }
            var corps = { login: loginDemande, answer: reponse.value };
            if (avecCrypto) {
                var v = crypto.valeurs();
                corps.captcha_id = v.captcha_id;
                corps.captcha_answer = v.captcha_answer;
            }
            occupe(formulaire, true);
            annoncer(zoneOubli, 'Envoi de votre réponse…', 'info');
            appel('POST', 'password/reset', corps).then(function (res) {
                occupe(formulaire, false);
                if (res.ok) {
                    fermer();
                    annoncer(zone, TEXTE_OUBLI, 'succes');
                    var mdp = connexionForm.elements.namedItem('password');
                    marquerChamp(mdp, false, zone.id);
                    ajouterDescription(mdp, zone.id);
                    mdp.focus();
                    return;
                }
                if (crypto && demandeCryptogramme(res)) {
                    crypto.afficher();
                    annoncer(zoneOubli, messageErreur(res, 'oubli'), 'erreur');
                    crypto.input.focus();
                    return;
                }
                if (crypto && cryptogrammeRefuse(res)) {
                    afficherErreurs(formulaire, null,
                                    { captcha_answer: crypto.refuse(res) },
                                    { recap: false });
                    annoncer(zoneOubli, messageErreur(res, 'oubli'), 'erreur');
                    crypto.input.focus();
                    return;
                }
                annoncer(zoneOubli, messageErreur(res, 'oubli'), 'erreur');
                reponse.focus();
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

    /* What each state means, in the FAQ's words (as demandes.html says it). */
    var SENS = {
        brouillon: 'Vous n’avez pas encore envoyé cette demande.',
        en_attente: 'Votre demande est envoyée ; un agent va la prendre en charge.',
        en_traitement: 'Un agent s’occupe de votre demande.',
        incomplet: 'Il manque des éléments : complétez votre demande.',
        rectifie: 'Vous avez complété ou corrigé votre demande ; l’agent '
                  + 'reprend son examen.',
        complet: 'Tout ce qu’il faut est là ; votre demande suit son cours.',
        rejete: 'Votre demande a été refusée ; le motif vous est communiqué.',
        annule: 'Votre demande a été annulée par la Mairie.',
        valide: 'Votre demande est acceptée ; le résultat va vous parvenir.'
    };

    /* States in which the citizen may still change a request. */
    var ETATS_MODIFIABLES = ['brouillon', 'en_attente', 'incomplet'];

    function libelleEtat(etat) {
        return Object.prototype.hasOwnProperty.call(ETATS, etat)
               ? ETATS[etat] : String(etat || 'inconnu');
    }

    function sensEtat(etat) {
        return Object.prototype.hasOwnProperty.call(SENS, etat) ? SENS[etat] : '';
    }

    /* What may be done with a request: the API says it, else its state. */
    function estModifiable(d) {
        return typeof d.editable === 'boolean'
               ? d.editable : ETATS_MODIFIABLES.indexOf(d.state) !== -1;
    }

    function estEnPdf(d) {
        return typeof d.pdf === 'boolean'
               ? d.pdf : ETATS_PDF.indexOf(d.state) !== -1;
    }

    function urlPdf(id) {
        return urlApi('requests/' + encodeURIComponent(id) + '.pdf');
    }

    /* The procedure page, to complete or change a request. */
    function urlModifier(id) {
        return new URL('demarche.html?demande=' + encodeURIComponent(id),
                       document.baseURI).toString();
    }

    /* A state as a badge: "etat etat--en_attente". */
    function badgeEtat(etat) {
        return creer('span', 'etat etat--'
                     + String(etat || '').replace(/[^a-z_]/g, ''),
                     libelleEtat(etat));
    }

    /*
     * A random UUID (version 4) for an Idempotency-Key: one per attempt to
     * send a form, the same for its retries.
     */
    function nouvelleCle() {
        var o = new Uint8Array(16);
        window.crypto.getRandomValues(o);
        /* eslint-disable no-bitwise */
        o[6] = (o[6] & 0x0f) | 0x40;
        o[8] = (o[8] & 0x3f) | 0x80;
        /* eslint-enable no-bitwise */
        var h = Array.prototype.map.call(o, function (b) {
            return (b < 16 ? '0' : '') + b.toString(16);
        }).join('');
        return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16)
               + '-' + h.slice(16, 20) + '-' + h.slice(20);
    }

    /* "3 décembre 2026"; with avecHeure, "3 décembre 2026 à 14:05" */
    function dateFr(valeur, avecHeure) {
        if (!valeur) {
            return '';
        }
        var d = new Date(valeur);
        if (isNaN(d.getTime())) {
            return String(valeur);
        }
        var texte = d.toLocaleDateString('fr-FR', {
            day: 'numeric', month: 'long', year: 'numeric'
        });
        if (!avecHeure) {
            return texte;
        }
        return texte + ' à ' + d.toLocaleTimeString('fr-FR', {
            hour: '2-digit', minute: '2-digit'
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

    /*
     * The procedure's name is a link, as the FAQ says: to the PDF (a new
     * window) once the town hall has the request in hand, to the procedure
     * page while the citizen may still complete or change it.
     */
    function celluleDemarche(demande) {
        var td = creer('td');
        var titre = (demande.procedure && demande.procedure.title)
                    || 'Démarche';
        var a;
        if (demande.id && estEnPdf(demande)) {
            a = creer('a', 'lien-pdf', titre);
            a.href = urlPdf(demande.id);
            a.target = '_blank';
            a.rel = 'noopener';
            a.appendChild(creer('span', 'visuellement-cache',
                                ' (PDF, nouvelle fenêtre)'));
            td.appendChild(a);
        } else if (demande.id && estModifiable(demande)) {
            a = creer('a', 'lien-modifier', titre);
            a.href = urlModifier(demande.id);
            a.appendChild(creer('span', 'visuellement-cache', ' – '));
            a.appendChild(creer('span', 'lien-modifier__action',
                                'Compléter / modifier'));
            td.appendChild(a);
        } else {
            td.appendChild(document.createTextNode(titre));
        }
        if (demande.reference) {
            td.appendChild(creer('small', 'demande__reference',
                                 'Référence ' + demande.reference));
        }
        return td;
    }

    /*
     * A table on a large screen, one card per request on a phone (CSS); the
     * roles are written out so that the cells keep their headers whatever
     * the display. complet: every request, with its member and what its
     * state means.
     */
    function tableauDemandes(demandes, complet) {
        var enveloppe = creer('div', 'tableau-defilant');
        var table = creer('table', 'tableau-demandes');
        table.setAttribute('role', 'table');
        var legende = creer('caption', 'visuellement-cache',
                            complet ? 'Toutes mes demandes'
                                    : 'Mes dernières demandes');
        var thead = creer('thead');
        thead.setAttribute('role', 'rowgroup');
        var ligne = creer('tr');
        ligne.setAttribute('role', 'row');
        var colonnes = complet ? ['Date', 'Démarche', 'Membre concerné', 'État']
                               : ['Démarche', 'Date', 'État'];
        colonnes.forEach(function (nom) {
            var th = creer('th', null, nom);
            th.scope = 'col';
            th.setAttribute('role', 'columnheader');
            ligne.appendChild(th);
        });
        thead.appendChild(ligne);
        table.appendChild(legende);
        table.appendChild(thead);

        function cellule(td, nom) {
            td.setAttribute('role', 'cell');
            td.setAttribute('data-libelle', nom);
            return td;
        }

        var tbody = creer('tbody');
        tbody.setAttribute('role', 'rowgroup');
        demandes.forEach(function (d) {
            var tr = creer('tr');
            tr.setAttribute('role', 'row');
            if (d.id) {
                tr.id = 'demande-' + String(d.id).replace(/[^A-Za-z0-9_-]/g, '');
            }
            var date = cellule(creer('td', null, dateFr(d.created_at)), 'Date');
            var etat = cellule(creer('td'), 'État');
            etat.appendChild(badgeEtat(d.state));
            var demarche = cellule(celluleDemarche(d), 'Démarche');
            if (complet) {
                var sens = sensEtat(d.state);
                if (sens) {
                    etat.appendChild(creer('span', 'etat__sens', sens));
                }
                tr.appendChild(date);
                tr.appendChild(demarche);
                tr.appendChild(cellule(creer('td', null,
                                             (d.member && d.member.name) || '—'),
                                       'Membre concerné'));
            } else {
                tr.appendChild(demarche);
                tr.appendChild(date);
            }
            tr.appendChild(etat);
            tbody.appendChild(tr);
        });
        table.appendChild(tbody);
        enveloppe.appendChild(table);
        return enveloppe;
    }

    /* Nothing yet: a calm sentence, never an alarm. */
    function aucuneDemande(conteneur) {
        var p = creer('p', 'demandes__vide',
                      'Vous n’avez encore fait aucune demande en ligne. ');
        var a = creer('a', null, 'Faire une démarche');
        a.href = 'services.html';
        p.appendChild(a);
        conteneur.appendChild(p);
    }

    /*
     * The account's requests into conteneur ([data-demandes], data-limite
     * for the home page's latest ones). Answers the list shown, or null.
     */
    function chargerDemandes(conteneur) {
        var limite = parseInt(conteneur.getAttribute('data-limite'), 10);
        var complet = !(limite > 0);
        var chemin = 'me/requests' + (complet ? '' : '?limit=' + limite);

        conteneur.setAttribute('aria-busy', 'true');
        conteneur.textContent = '';
        conteneur.appendChild(creer('p', null, 'Chargement de vos demandes…'));

        return appel('GET', chemin).then(function (res) {
            conteneur.setAttribute('aria-busy', 'false');
            conteneur.textContent = '';
            /*
             * Requests are not served yet (404): for the citizen that is
             * simply no request at all.
             */
            if (res.status === 404 || res.status === 405
                || res.status === 501) {
                aucuneDemande(conteneur);
                return [];
            }
            var liste = res.ok ? listeDepuis(res.data, 'requests') : null;
            if (!liste) {
                var message = res.ok ? MESSAGES.inattendu
                                     : messageErreur(res, 'demandes');
                conteneur.appendChild(creer('p', 'alerte alerte--erreur',
                    'Vos demandes ne peuvent pas être affichées pour le moment. '
                    + message));
                return null;
            }
            if (liste.length === 0) {
                aucuneDemande(conteneur);
                return liste;
            }
            conteneur.appendChild(tableauDemandes(liste, complet));
            return liste;
        });
    }

    /*
     * Sends a file (FormData) with XMLHttpRequest, whose upload progress
     * fetch cannot report: progression(part) with part from 0 to 1. Answers
     * as appel() does; a stale anti-CSRF token is renewed once.
     */
    function envoyerFichier(chemin, donnees, progression, dejaRelance) {
        return new Promise(function (resoudre) {
            var xhr = new XMLHttpRequest();
            xhr.open('POST', urlApi(chemin));
            xhr.setRequestHeader('Accept', 'application/json');
            if (session.csrf_token) {
                xhr.setRequestHeader('X-CSRF-Token', session.csrf_token);
            }
            xhr.upload.addEventListener('progress', function (ev) {
                if (ev.lengthComputable && progression) {
                    progression(ev.loaded / ev.total);
                }
            });
            xhr.addEventListener('load', function () {
                var data = null;
                try {
                    data = xhr.responseText ? JSON.parse(xhr.responseText)
                                            : null;
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
                return chargerSession().then(function () {
                    return envoyerFichier(chemin, donnees, progression, true);
                });
            }
            return res;
        });
    }

    /* A file's size, in the words of the documents' lists. */
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

    /* What a refused upload (an answer of envoyerFichier()) says. */
    function messageEnvoi(res) {
        if (res.erreur && res.erreur.message) {
            return typo(res.erreur.message);
        }
        if (res.status === 413) {
            return 'Ce fichier est trop volumineux.';
        }
        if (res.status === 415) {
            return 'Ce type de fichier n’est pas accepté : déposez un PDF, une '
                   + 'image JPEG ou PNG.';
        }
        if (res.status === 0) {
            return 'L’envoi a échoué. Vérifiez votre connexion et la taille du '
                   + 'fichier, puis réessayez.';
        }
        return messageErreur(res, 'document');
    }

    /* ---------------------------------------------------- confirming */

    /*
     * Asks before an undo, naming what goes: the page's modal <dialog
     * id="confirmation">. o: {titre, texte, bouton, declencheur}. Resolves
     * to true or false; on "Annuler" (or Escape) the focus goes back to the
     * button that asked.
     */
    function confirmer(o) {
        var d = document.getElementById('confirmation');
        var titre = document.getElementById('confirmation-titre');
        var ok = d.querySelector('[data-action="confirmer"]');
        var non = d.querySelector('[data-action="annuler-confirmation"]');
        titre.textContent = o.titre;
        document.getElementById('confirmation-texte').textContent = o.texte;
        ok.textContent = o.bouton;
        return new Promise(function (resoudre) {
            function fin(reponse) {
                ok.removeEventListener('click', oui);
                non.removeEventListener('click', annuler);
                d.removeEventListener('cancel', echap);
                if (d.open) {
                    d.close();
                }
                resoudre(reponse);
            }
            function oui() { fin(true); }
            function annuler() { fin(false); }
            function echap(ev) {
                ev.preventDefault();
                fin(false);
            }
            ok.addEventListener('click', oui);
            non.addEventListener('click', annuler);
            d.addEventListener('cancel', echap);
            d.showModal();
            titre.focus();
        }).then(function (reponse) {
            if (!reponse && o.declencheur) {
                o.declencheur.focus();
            }
            return reponse;
        });
    }

    /* Shared with the page scripts (js/compte.js, demarche.js...). */
    window.Portail = {
        session: session,
        surSession: surSession,
        MESSAGES: MESSAGES,
        TEXTES: TEXTES,
        REGLES: REGLES,
        appel: appel,
        urlApi: urlApi,
        typo: typo,
        chargerSession: chargerSession,
        ouvrirSession: ouvrirSession,
        connexionAvecCryptogramme: connexionAvecCryptogramme,
        afficherEtat: afficherEtat,
        focusApresConnexion: focusApresConnexion,
        surConnexion: null,
        messageErreur: messageErreur,
        demandeCryptogramme: demandeCryptogramme,
        cryptogrammeRefuse: cryptogrammeRefuse,
        Cryptogramme: Cryptogramme,
        annoncer: annoncer,
        creer: creer,
        tous: tous,
        occupe: occupe,
        estOccupe: estOccupe,
        idPour: idPour,
        ajouterDescription: ajouterDescription,
        retirerDescription: retirerDescription,
        afficherErreurs: afficherErreurs,
        effacerErreurs: effacerErreurs,
        erreursApi: erreursApi,
        dateFr: dateFr,
        listeDepuis: listeDepuis,
        libelleEtat: libelleEtat,
        sensEtat: sensEtat,
        badgeEtat: badgeEtat,
        estModifiable: estModifiable,
        estEnPdf: estEnPdf,
        urlPdf: urlPdf,
        urlModifier: urlModifier,
        nouvelleCle: nouvelleCle,
        tableauDemandes: tableauDemandes,
        chargerDemandes: chargerDemandes,
        envoyerFichier: envoyerFichier,
        messageEnvoi: messageEnvoi,
        taille: taille,
        confirmer: confirmer
    };

    /* ----------------------------------------------------------- start */

    function demarrer() {
        initConnexion();
        initNouveauMdp();
        initOubli();
        afficherEtat();
        chargerSession().then(function () {
            sessionAffichee = true;
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
