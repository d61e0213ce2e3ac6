/*
 * Mon Compte Citoyen, the agents' space: the pages of /admin/ on top of
 * portal.js (its calls, anti-CSRF token, login box, live regions and form
 * errors are reused through window.Portail; nothing is copied here).
 *
 * Each page says what it is with <body data-page="...">; its content is
 * loaded once the session is known to be an agent's, and emptied when the
 * agent logs out.  Lists are read a page at a time ("Voir plus": the
 * cursor of the last item seen); after each action the focus goes to what
 * changed and a live region says it in French.
 *
 * The role decides what is shown, never what is allowed: the API refuses
 * an instructeur the admin's routes whatever the page does.
 */
(function () {
    'use strict';

    var P = window.Portail;
    if (!P) {
        return;
    }
    var creer = P.creer;
    var appel = P.appel;
    var annoncer = P.annoncer;
    var tous = P.tous;

    /* items asked for at a time ("Voir plus" for the next ones) */
    var LIMITE = 20;

    var ROLES = {
        admin: 'administrateur',
        instructeur: 'instructeur'
    };

    var CONTACTS = {
        email: 'par courriel',
        phone: 'par téléphone',
        post: 'par courrier'
    };

    var CANAUX = {
        email: 'courriel',
        phone: 'appel téléphonique',
        post: 'lettre'
    };

    var GENRES = {
        acknowledgement: 'accusé de réception',
        information: 'information',
        decision: 'décision'
    };

    var ACTEURS = {
        citizen: 'l’usager',
        agent: 'un agent',
        system: 'le portail'
    };

    /* The audit log's actions, as agents read them. */
    var ACTIONS = {
        account_read: 'Consultation d’un compte',
        account_validate: 'Validation d’un compte',
        account_document_read: 'Lecture d’une pièce d’un compte',
        request_read: 'Consultation d’une demande',
        request_document_read: 'Lecture d’une pièce d’une demande',
        request_transition: 'Changement d’état d’une demande',
        message_send: 'Message écrit à l’usager',
        message_cancel: 'Message programmé annulé',
        letter_read: 'Lecture d’une lettre',
        letter_printed: 'Lettre marquée imprimée',
        call_done: 'Appel effectué',
        outbox_retry: 'Courriel renvoyé'
    };

    var charge = false;

    /* ------------------------------------------------------- helpers */

    function estConnecte() {
        return document.documentElement.getAttribute('data-connecte') === 'oui';
    }

    function estAdmin() {
        return estConnecte() && P.session.role === 'admin';
    }

    function dans(table, cle) {
        return Object.prototype.hasOwnProperty.call(table, cle)
               ? table[cle] : String(cle || '');
    }

    function libelleRole(role) {
        return dans(ROLES, role);
    }

    /* "3 décembre 2026 à 14:05" */
    function dateHeure(valeur) {
        return P.dateFr(valeur, true);
    }

    /* A birth date "1979-05-03" as "03/05/1979", whatever the time zone. */
    function dateCourte(valeur) {
        var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(valeur || ''));
        return m ? m[3] + '/' + m[2] + '/' + m[1] : String(valeur || '');
    }

    function parametre(nom) {
        return new URLSearchParams(window.location.search).get(nom);
    }

    function nomPersonne(p) {
        if (!p) {
            return '';
        }
        if (p.name) {
            return p.name;
        }
        return [p.civility, p.first_name, p.last_name]
            .filter(function (x) { return x; }).join(' ');
    }

    function adresse(a) {
        if (!a || typeof a !== 'object') {
            return String(a || '');
        }
        return [a.line, [a.postcode, a.city].filter(Boolean).join(' ')]
            .filter(Boolean).join(', ');
    }

    function lien(texte, href) {
        var a = creer('a', null, texte);
        a.href = href;
        return a;
    }

    function lienDemande(r) {
        if (!r || !r.id) {
            return document.createTextNode('—');
        }
        return lien(r.reference || 'Demande',
                    'demande.html?id=' + encodeURIComponent(r.id));
    }

    /* A list of terms and their values; empty values are left out. */
    function donnees(paires) {
        var dl = creer('dl', 'fiche__donnees');
        paires.forEach(function (p) {
            if (p[1] === null || p[1] === undefined || p[1] === '') {
                return;
            }
            dl.appendChild(creer('dt', null, p[0]));
            var dd = creer('dd');
            if (typeof p[1] === 'object') {
                dd.appendChild(p[1]);
            } else {
                dd.textContent = String(p[1]);
            }
            dl.appendChild(dd);
        });
        return dl;
    }

    function section(id, titre) {
        var s = creer('section', 'bloc');
        s.id = id;
        var h = creer('h2', null, titre);
        h.id = id + '-titre';
        h.tabIndex = -1;
        s.setAttribute('aria-labelledby', h.id);
        s.appendChild(h);
        return s;
    }

    function champ(id, libelleTexte, controle, aide) {
        var div = creer('div', 'champ');
        var label = creer('label', null, libelleTexte);
        label.htmlFor = id;
        div.appendChild(label);
        if (aide) {
            var p = creer('p', 'champ__aide', aide);
            p.id = id + '-aide';
            div.appendChild(p);
            controle.setAttribute('aria-describedby', p.id);
        }
        controle.id = id;
        div.appendChild(controle);
        return div;
    }

    function bouton(texte, classe) {
        var b = creer('button', 'bouton ' + (classe || ''), texte);
        b.type = 'button';
        return b;
    }

    /* The list or object of an answer; null when it is neither. */
    function liste(data) {
        return P.listeDepuis(data, 'items');
    }

    /* A failed load, said in the page's live region. */
    function echec(zone, res, quoi) {
        annoncer(zone, quoi + ' ' + P.messageErreur(res, 'admin'), 'erreur');
    }

    /* ---------------------------------------- a table, read page by page */

    /*
     * o: {conteneur, zone, chemin(cle) -> path, legende, colonnes: [names],
     *     cellules(item) -> [node | text], nom: [singulier, pluriel, feminin],
     *     vide: sentence when there is nothing}
     * Rows are added to one table; "Voir plus" asks for the items after
     * the cursor of the last one and puts the focus on the first new row.
     */
    function Liste(o) {
        this.o = o;
        this.curseur = null;
        this.total = 0;
        this.tbody = null;
        this.plus = null;
    }

    Liste.prototype.vider = function () {
        this.o.conteneur.textContent = '';
        this.curseur = null;
        this.total = 0;
        this.tbody = null;
        this.plus = null;
    };

    Liste.prototype.construire = function () {
        var moi = this;
        var enveloppe = creer('div', 'tableau-defilant');
        var table = creer('table', 'tableau-demandes tableau-agents');
        table.setAttribute('role', 'table');
        table.appendChild(creer('caption', 'visuellement-cache',
                                this.o.legende));
        var thead = creer('thead');
        thead.setAttribute('role', 'rowgroup');
        var tr = creer('tr');
        tr.setAttribute('role', 'row');
        this.o.colonnes.forEach(function (nom) {
            var th = creer('th', null, nom);
            th.scope = 'col';
            th.setAttribute('role', 'columnheader');
            tr.appendChild(th);
        });
        thead.appendChild(tr);
        table.appendChild(thead);
        this.tbody = creer('tbody');
        this.tbody.setAttribute('role', 'rowgroup');
        table.appendChild(this.tbody);
        enveloppe.appendChild(table);
        this.o.conteneur.appendChild(enveloppe);

        var actions = creer('p', 'liste__plus');
        this.plus = bouton('Voir plus', 'bouton--secondaire');
        this.plus.hidden = true;
        this.plus.addEventListener('click', function () {
            if (moi.plus.getAttribute('aria-disabled') !== 'true') {
                moi.charger(true);
            }
        });
        actions.appendChild(this.plus);
        this.o.conteneur.appendChild(actions);
    };

    Liste.prototype.ligne = function (item) {
        var o = this.o;
        var tr = creer('tr');
        tr.setAttribute('role', 'row');
        if (item.id !== undefined && item.id !== null) {
            tr.id = (o.prefixe || 'ligne') + '-'
                    + String(item.id).replace(/[^A-Za-z0-9_-]/g, '');
        }
        o.cellules(item).forEach(function (contenu, i) {
            var td = creer('td');
            td.setAttribute('role', 'cell');
            td.setAttribute('data-libelle', o.colonnes[i]);
            if (contenu !== null && typeof contenu === 'object') {
                td.appendChild(contenu);
            } else {
                td.textContent = contenu === null || contenu === undefined
                                 ? '—' : String(contenu);
            }
            tr.appendChild(td);
        });
        return tr;
    };

    /* plus: the next page ("Voir plus"), else the first one. */
    Liste.prototype.charger = function (plus) {
        var moi = this;
        var o = this.o;
        if (!plus) {
            this.vider();
        }
        o.conteneur.setAttribute('aria-busy', 'true');
        if (this.plus) {
            this.plus.setAttribute('aria-disabled', 'true');
        }
        annoncer(o.zone, plus ? 'Chargement de la suite…' : 'Chargement…', 'info');
        return appel('GET', o.chemin(plus ? this.curseur : null, LIMITE))
            .then(function (res) {
                o.conteneur.setAttribute('aria-busy', 'false');
                if (moi.plus) {
                    moi.plus.removeAttribute('aria-disabled');
                }
                var items = res.ok ? liste(res.data) : null;
                if (!items) {
                    if (!res.ok && o.refus && o.refus(res)) {
                        return null;
                    }
                    echec(o.zone, res, 'La liste ne peut pas être affichée.');
                    return null;
                }
                if (!moi.tbody) {
                    if (items.length === 0) {
                        o.conteneur.appendChild(creer('p', 'liste__vide', o.vide));
                        annoncer(o.zone, o.vide, 'info');
                        return items;
                    }
                    moi.construire();
                }
                var premiere = null;
                items.forEach(function (item) {
                    var tr = moi.ligne(item);
                    moi.tbody.appendChild(tr);
                    premiere = premiere || tr;
                });
                moi.total += items.length;
                if (items.length) {
                    moi.curseur = items[items.length - 1].cursor || null;
                }
                moi.plus.hidden = !(items.length >= LIMITE && moi.curseur);
                var accord = (o.nom[2] ? 'e' : '') + (moi.total > 1 ? 's' : '');
                annoncer(o.zone, moi.total + ' '
                         + (moi.total > 1 ? o.nom[1] : o.nom[0])
                         + ' affiché' + accord + (plus ? ' en tout.' : '.')
                         + (moi.plus.hidden ? '' : ' « Voir plus » montre la suite.'),
                         'info');
                if (plus) {
                    var cible = premiere && (premiere.querySelector('a, button')
                                             || premiere.firstChild);
                    if (premiere) {
                        if (cible && !/^(A|BUTTON)$/.test(cible.tagName)) {
                            cible.tabIndex = -1;
                        }
                        cible.focus();
                    } else {
                        moi.plus.focus();
                    }
                }
                return items;
            });
    };

    /* ------------------------------------------------------ the session */

    function afficherAgent() {
        var connecte = estConnecte();
        var s = P.session;
        tous('[data-agent-nom]').forEach(function (el) {
            el.textContent = connecte ? (s.name || s.login || '') : '';
        });
        tous('[data-role], [data-role-libelle]').forEach(function (el) {
            el.textContent = connecte ? libelleRole(s.role) : '';
        });
        tous('[data-agent-themes]').forEach(function (el) {
            var themes = connecte && Array.isArray(s.themes) ? s.themes : [];
            el.hidden = themes.length === 0;
            el.textContent = themes.length
                ? 'Thèmes suivis : ' + themes.map(function (t) {
                    return t.title || t.slug || String(t);
                }).join(', ') + '.'
                : '';
        });
        tous('[data-si-admin]').forEach(function (el) {
            el.hidden = !estAdmin();
        });
        tous('[data-si-non-admin]').forEach(function (el) {
            el.hidden = !(connecte && !estAdmin());
        });
    }

    /* ------------------------------------------------------ the pages */

    var pages = {};

    /* Accounts waiting for validation. */
    pages.comptes = function () {
        var l = new Liste({
            conteneur: document.getElementById('comptes-liste'),
            zone: document.getElementById('comptes-message'),
            legende: 'Comptes en attente de validation',
            prefixe: 'compte',
            colonnes: ['Titulaire', 'Identifiant', 'Créé le', 'Foyer',
                       'Pièces'],
            nom: ['compte', 'comptes'],
            vide: 'Aucun compte n’attend de validation.',
            chemin: function (cle, n) {
                return 'accounts?validated=false&limit=' + n
                       + (cle ? '&page=' + encodeURIComponent(cle) : '');
            },
            cellules: function (c) {
                return [
                    lien(nomPersonne(c.holder) || c.login,
                         'compte.html?id=' + encodeURIComponent(c.id)),
                    c.login,
                    dateHeure(c.created_at),
                    (c.members || 0) + ' membre' + (c.members > 1 ? 's' : ''),
                    (c.documents || 0) + ' pièce' + (c.documents > 1 ? 's' : '')
                ];
            }
        });
        return {
            charger: function () { return l.charger(false); },
            vider: function () { l.vider(); annoncer(l.o.zone, ''); }
        };
    };

    /* One account's file, and its validation. */
    pages.compte = function () {
        var id = parametre('id');
        var dossier = document.getElementById('compte-dossier');
        var zone = document.getElementById('compte-message');
        var titre = document.getElementById('titre-page');

        function urlPiece(doc) {
            return P.urlApi('accounts/' + encodeURIComponent(id)
                            + '/documents/' + encodeURIComponent(doc.id));
        }

        function afficher(c) {
            dossier.textContent = '';
            var h = c.holder || {};
            titre.textContent = 'Compte de ' + (nomPersonne(h) || c.login);

            var etat = creer('p', 'demande-etat', '');
            etat.id = 'compte-etat';
            etat.tabIndex = -1;
            etat.appendChild(document.createTextNode('État du compte : '));
            etat.appendChild(creer('span', 'etat etat--'
                                   + (c.validated ? 'valide' : 'en_attente'),
                                   c.validated ? 'validé' : 'en attente de validation'));
            dossier.appendChild(etat);
            dossier.appendChild(lienJournal('account', c.id,
                                            'Journal des accès à ce compte'));

            if (!c.validated) {
                var actions = creer('div', 'formulaire__actions');
                var b = bouton('Valider le compte', 'bouton--principal');
                b.setAttribute('data-action', 'valider-compte');
                b.setAttribute('aria-describedby', 'compte-valider-aide');
                var aide = creer('p', 'champ__aide',
                                 'Vérifiez l’identité du titulaire et ses pièces. '
                                 + 'Le citoyen est informé par courriel et peut '
                                 + 'ensuite modifier son compte.');
                aide.id = 'compte-valider-aide';
                actions.appendChild(b);
                dossier.appendChild(aide);
                dossier.appendChild(actions);
                b.addEventListener('click', function () {
                    if (b.getAttribute('aria-disabled') === 'true') {
                        return;
                    }
                    b.setAttribute('aria-disabled', 'true');
                    annoncer(zone, 'Validation en cours…', 'info');
                    appel('POST', 'accounts/' + encodeURIComponent(id)
                          + '/validate').then(function (res) {
                        b.removeAttribute('aria-disabled');
                        if (!res.ok) {
                            annoncer(zone, P.messageErreur(res, 'validation'),
                                     'erreur');
                            if (res.status === 409) {
                                charger();
                            }
                            b.focus();
                            return;
                        }
                        afficher(res.data);
                        annoncer(zone, 'Le compte est validé : le citoyen en '
                                 + 'est informé par courriel.', 'succes');
                        document.getElementById('compte-etat').focus();
                    });
                });
            }

            var s = section('titulaire', 'Titulaire');
            s.appendChild(donnees([
                ['Nom', nomPersonne(h)],
                ['Identifiant', c.login],
                ['Date de naissance', dateCourte(h.birth_date)],
                ['Courriel', h.email],
                ['Téléphone', h.phone],
                ['Adresse', adresse(h.address)],
                ['Être contacté', dans(CONTACTS, c.contact_mode)],
                ['Compte créé le', dateHeure(c.created_at)]
            ]));
            dossier.appendChild(s);

            s = section('membres', 'Membres du foyer');
            var membres = Array.isArray(c.members) ? c.members : [];
            if (membres.length === 0) {
                s.appendChild(creer('p', null, 'Aucun autre membre.'));
            } else {
                var ul = creer('ul', 'liste-membres');
                membres.forEach(function (m) {
                    var li = creer('li', null, nomPersonne(m)
                                   + (m.kind === 'child' ? ' (enfant)' : ' (adulte)')
                                   + (m.birth_date ? ', né(e) le '
                                      + dateCourte(m.birth_date) : ''));
                    ul.appendChild(li);
                });
                s.appendChild(ul);
            }
            dossier.appendChild(s);

            s = section('pieces', 'Pièces justificatives');
            var docs = Array.isArray(c.documents) ? c.documents : [];
            if (docs.length === 0) {
                s.appendChild(creer('p', null, 'Aucune pièce déposée.'));
            } else {
                s.appendChild(listePieces(docs, urlPiece));
            }
            dossier.appendChild(s);

            var demandes = Array.isArray(c.requests) ? c.requests : [];
            if (demandes.length) {
                s = section('demandes-compte', 'Dernières demandes');
                var ul2 = creer('ul');
                demandes.forEach(function (d) {
                    var li = creer('li');
                    li.appendChild(lienDemande(d));
                    li.appendChild(document.createTextNode(
                        ' – ' + ((d.procedure && d.procedure.title) || '')
                        + ' – '));
                    li.appendChild(P.badgeEtat(d.state));
                    ul2.appendChild(li);
                });
                s.appendChild(ul2);
                dossier.appendChild(s);
            }
        }

        function charger() {
            if (!id) {
                annoncer(zone, 'Aucun compte n’est indiqué : choisissez-en un '
                         + 'dans la liste des comptes à valider.', 'erreur');
                return Promise.resolve(null);
            }
            annoncer(zone, 'Chargement du compte…', 'info');
            return appel('GET', 'accounts/' + encodeURIComponent(id))
                .then(function (res) {
                    if (!res.ok || !res.data) {
                        annoncer(zone, res.status === 404
                                 ? 'Ce compte n’existe pas.'
                                 : P.messageErreur(res, 'compte'), 'erreur');
                        return null;
                    }
                    annoncer(zone, '');
                    afficher(res.data);
                    return res.data;
                });
        }

        return {
            charger: charger,
            vider: function () {
                dossier.textContent = '';
                annoncer(zone, '');
                titre.textContent = 'Dossier du compte';
            }
        };
    };

    /*
     * For an admin, the audit log of a file (journal.html?request=...); an
     * instructeur has no such link.
     */
    function lienJournal(filtre, id, texte) {
        var p = creer('p', 'lien-journal');
        p.setAttribute('data-si-admin', '');
        p.hidden = !estAdmin();
        if (id) {
            p.appendChild(lien(texte, 'journal.html?' + filtre + '='
                               + encodeURIComponent(id)));
        }
        return p;
    }

    /* A list of documents, each a download link. */
    function listePieces(docs, url) {
        var ul = creer('ul', 'documents');
        docs.forEach(function (d) {
            var li = creer('li', 'document');
            var a = creer('a', 'lien-telechargement', d.filename || 'document');
            a.href = url(d);
            a.setAttribute('download', d.filename || '');
            a.appendChild(creer('span', 'visuellement-cache', ' (télécharger)'));
            li.appendChild(a);
            li.appendChild(creer('span', 'document__details',
                                 ' – ' + [d.label || d.kind, P.taille(d.size),
                                          P.dateFr(d.created_at)]
                                     .filter(Boolean).join(', ')));
            ul.appendChild(li);
        });
        return ul;
    }

    /* The work queue. */
    pages.file = function () {
        var form = document.getElementById('form-filtres');
        var zone = document.getElementById('file-message');
        var selTheme = document.getElementById('filtre-theme');
        var selDemarche = document.getElementById('filtre-demarche');
        var catalogue = null;
        var filtres = {};

        ['state', 'theme', 'procedure', 'q'].forEach(function (n) {
            var v = parametre(n);
            if (v) {
                filtres[n] = v;
            }
        });

        var l = new Liste({
            conteneur: document.getElementById('file-liste'),
            zone: zone,
            legende: 'Demandes, la plus récente d’abord',
            prefixe: 'demande',
            colonnes: ['Référence', 'Démarche', 'Demandeur', 'Envoyée le',
                       'État'],
            nom: ['demande', 'demandes', true],
            vide: 'Aucune demande ne correspond à ces critères.',
            chemin: function (cle, n) {
                var q = new URLSearchParams();
                Object.keys(filtres).forEach(function (k) {
                    q.set(k, filtres[k]);
                });
                q.set('limit', String(n));
                if (cle) {
                    q.set('page', cle);
                }
                return 'requests?' + q.toString();
            },
            refus: function (res) {
                if (res.status === 422) {
                    P.erreursApi(form, res, 'filtres', { recap: false });
                    annoncer(zone, P.messageErreur(res, 'filtres'), 'erreur');
                    return true;
                }
                return false;
            },
            cellules: function (d) {
                var etat = creer('span');
                etat.appendChild(P.badgeEtat(d.state));
                var demandeur = creer('span', null,
                                      (d.applicant && d.applicant.name) || '—');
                if (d.member && d.member.name) {
                    demandeur.appendChild(creer('small', 'demande__reference',
                                                'pour ' + d.member.name));
                }
                return [
                    lienDemande(d),
                    (d.procedure && d.procedure.title) || '',
                    demandeur,
                    dateHeure(d.submitted_at),
                    etat
                ];
            }
        });

        function remplirDemarches() {
            var theme = selTheme.value;
            var garde = selDemarche.value;
            while (selDemarche.options.length > 1) {
                selDemarche.remove(1);
            }
            (catalogue || []).forEach(function (t) {
                if (theme && t.slug !== theme) {
                    return;
                }
                (t.procedures || []).forEach(function (p) {
                    selDemarche.add(new Option(p.title, p.slug));
                });
            });
            selDemarche.value = garde;
            if (selDemarche.value !== garde) {
                selDemarche.value = '';
            }
        }

        function formulaireDepuisFiltres() {
            form.elements.namedItem('state').value = filtres.state || '';
            selTheme.value = filtres.theme || '';
            remplirDemarches();
            selDemarche.value = filtres.procedure || '';
            form.elements.namedItem('q').value = filtres.q || '';
        }

        /* The catalogue's themes and procedures, from the citizens' API. */
        function chargerCatalogue() {
            if (catalogue) {
                return Promise.resolve(catalogue);
            }
            return appel('GET', '../../api/catalog').then(function (res) {
                catalogue = res.ok && Array.isArray(res.data) ? res.data : [];
                while (selTheme.options.length > 1) {
                    selTheme.remove(1);
                }
                catalogue.forEach(function (t) {
                    selTheme.add(new Option(t.title, t.slug));
                });
                return catalogue;
            });
        }

        selTheme.addEventListener('change', remplirDemarches);

        form.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.effacerErreurs(form);
            var q = form.elements.namedItem('q').value.trim();
            if (q && q.length < 2) {
                P.afficherErreurs(form, null, {
                    q: 'Saisissez au moins 2 caractères, ou rien.'
                }, { recap: false });
                return;
            }
            filtres = {};
            [['state', form.elements.namedItem('state').value],
             ['theme', selTheme.value], ['procedure', selDemarche.value],
             ['q', q]].forEach(function (p) {
                if (p[1]) {
                    filtres[p[0]] = p[1];
                }
            });
            var adresseFiltres = new URLSearchParams(filtres).toString();
            window.history.replaceState(null, '', window.location.pathname
                                        + (adresseFiltres ? '?' + adresseFiltres : ''));
            l.charger(false).then(function (items) {
                if (items) {
                    document.getElementById('resultats-titre').focus();
                }
            });
        });

        form.querySelector('[data-action="effacer-filtres"]')
            .addEventListener('click', function () {
                P.effacerErreurs(form);
                form.reset();
                remplirDemarches();
                form.requestSubmit ? form.requestSubmit()
                                   : form.dispatchEvent(new Event('submit', { cancelable: true }));
            });

        return {
            charger: function () {
                return chargerCatalogue().then(function () {
                    formulaireDepuisFiltres();
                    return l.charger(false);
                });
            },
            vider: function () { l.vider(); annoncer(zone, ''); }
        };
    };

    /* One request's file: who, what, documents, history, moves, messages. */
    pages.demande = function () {
        var id = parametre('id');
        var dossier = document.getElementById('demande-dossier');
        var zone = document.getElementById('demande-message');
        var titre = document.getElementById('titre-page');
        var demande = null;

        function chemin(suite) {
            return 'requests/' + encodeURIComponent(id) + (suite || '');
        }

        function urlPiece(doc) {
            return P.urlApi(chemin('/documents/' + encodeURIComponent(doc.id)));
        }

        /* The moves the state machine allows from here, and nothing else. */
        function formTransition(d) {
            var s = section('etat-action', 'Changer l’état');
            var trans = Array.isArray(d.transitions) ? d.transitions : [];
            if (trans.length === 0) {
                s.appendChild(creer('p', null, 'Aucun changement d’état n’est '
                                    + 'possible depuis l’état « '
                                    + (d.state_label || P.libelleEtat(d.state))
                                    + ' ».'));
                return s;
            }
            var f = creer('form', 'formulaire');
            f.id = 'form-transition';
            f.noValidate = true;
            var avecMotif = trans.filter(function (t) {
                return t.motive_required;
            });
            var motif = creer('textarea');
            motif.name = 'motive';
            motif.rows = 3;
            motif.maxLength = 2000;
            motif.setAttribute('data-champ', 'motive');
            f.appendChild(champ('transition-motif', 'Motif', motif,
                avecMotif.length
                    ? 'Obligatoire pour passer à l’état « '
                      + avecMotif.map(function (t) { return t.label; })
                          .join(' », « ')
                      + ' »\u00a0; il est communiqué à l’usager.'
                    : 'Facultatif\u00a0; il est communiqué à l’usager.'));
            var message = creer('textarea');
            message.name = 'message';
            message.rows = 4;
            message.maxLength = 5000;
            message.setAttribute('data-champ', 'message');
            f.appendChild(champ('transition-message',
                                'Message à l’usager (facultatif)', message,
                                'Joint à l’avis de changement d’état, envoyé '
                                + dans(CONTACTS, d.contact && d.contact.mode
                                       || d.contact_mode) + '.'));
            var actions = creer('div', 'formulaire__actions');
            trans.forEach(function (t) {
                var b = creer('button', 'bouton' + (t.to === 'rejete'
                              || t.to === 'annule' ? ' bouton--danger' : ''),
                              'Passer à l’état « ' + (t.label || t.to) + ' »');
                b.type = 'submit';
                b.name = 'to';
                b.value = t.to;
                actions.appendChild(b);
            });
            f.appendChild(actions);
            f.addEventListener('submit', function (ev) {
                ev.preventDefault();
                var b = ev.submitter;
                if (!b || !b.value) {
                    return;
                }
                var t = trans.filter(function (x) { return x.to === b.value; })[0];
                P.effacerErreurs(f);
                var corps = { to: t.to, from: d.state };
                var m = motif.value.trim();
                var msg = message.value.trim();
                if (t.motive_required && !m) {
                    P.afficherErreurs(f, null, {
                        motive: 'Saisissez le motif : il est obligatoire pour '
                                + 'passer à l’état « ' + t.label + ' ».'
                    }, { recap: false });
                    return;
                }
                if (m) {
                    corps.motive = m;
                }
                if (msg) {
                    corps.message = msg;
                }
                P.occupe(f, true);
                annoncer(zone, 'Enregistrement…', 'info');
                appel('POST', chemin('/transition'), corps).then(function (res) {
                    P.occupe(f, false);
                    if (!res.ok) {
                        if (res.status === 422) {
                            P.erreursApi(f, res, 'transition', { recap: false });
                            annoncer(zone, P.messageErreur(res, 'transition'),
                                     'erreur');
                            return;
                        }
                        annoncer(zone, P.messageErreur(res, 'transition')
                                 + (res.status === 409
                                    ? ' Le dossier est rechargé.' : ''),
                                 'erreur');
                        if (res.status === 409) {
                            charger(true);
                        }
                        return;
                    }
                    afficher(res.data);
                    annoncer(zone, 'La demande est maintenant « '
                             + (res.data.state_label
                                || P.libelleEtat(res.data.state))
                             + ' ». L’usager en est informé ('
                             + dans(CANAUX, res.data.contact
                                    && res.data.contact.channel) + ').',
                             'succes');
                    document.getElementById('demande-etat').focus();
                });
            });
            s.appendChild(f);
            return s;
        }

        function formMessage(d) {
            var s = section('ecrire', 'Écrire à l’usager');
            var f = creer('form', 'formulaire');
            f.id = 'form-message';
            f.noValidate = true;
            s.appendChild(creer('p', 'champ__aide', 'Le message est envoyé '
                                + dans(CONTACTS, d.contact && d.contact.mode
                                       || d.contact_mode)
                                + (d.contact && d.contact.recipient
                                   ? ' (' + d.contact.recipient + ')' : '')
                                + ' et affiché dans son espace.'));

            var fs = creer('fieldset', 'champ champ--choix');
            fs.setAttribute('data-champ', 'kind');
            fs.appendChild(creer('legend', null, 'Type de message'));
            var ligne = creer('div', 'choix-ligne');
            ['information', 'decision'].forEach(function (k, i) {
                var div = creer('div', 'choix');
                var r = creer('input');
                r.type = 'radio';
                r.name = 'kind';
                r.value = k;
                r.id = 'message-genre-' + k;
                r.checked = i === 0;
                var lab = creer('label', null, k === 'information'
                                ? 'Information' : 'Décision');
                lab.htmlFor = r.id;
                div.appendChild(r);
                div.appendChild(lab);
                ligne.appendChild(div);
            });
            fs.appendChild(ligne);
            f.appendChild(fs);

            var corpsTexte = creer('textarea');
            corpsTexte.name = 'body';
            corpsTexte.rows = 5;
            corpsTexte.maxLength = 5000;
            corpsTexte.required = true;
            corpsTexte.setAttribute('data-champ', 'body');
            f.appendChild(champ('message-texte', 'Message', corpsTexte));

            var motif = creer('input');
            motif.type = 'text';
            motif.name = 'motive';
            motif.maxLength = 2000;
            motif.setAttribute('data-champ', 'motive');
            var champMotif = champ('message-motif', 'Motif de la décision (facultatif)',
                                   motif);
            champMotif.hidden = true;
            f.appendChild(champMotif);

            var prog = creer('div', 'champ champ--case');
            var caseProg = creer('input');
            caseProg.type = 'checkbox';
            caseProg.id = 'message-programmer';
            var labProg = creer('label', null, 'Programmer l’envoi à une date et une heure');
            labProg.htmlFor = caseProg.id;
            var divCase = creer('div', 'choix');
            divCase.appendChild(caseProg);
            divCase.appendChild(labProg);
            prog.appendChild(divCase);
            f.appendChild(prog);

            var quand = creer('div', 'programmation');
            quand.setAttribute('data-champ', 'send_at');
            quand.hidden = true;
            var jour = creer('input');
            jour.type = 'date';
            jour.name = 'send_date';
            var heure = creer('input');
            heure.type = 'time';
            heure.name = 'send_time';
            heure.value = '09:00';
            quand.appendChild(champ('message-date', 'Date d’envoi', jour));
            quand.appendChild(champ('message-heure', 'Heure d’envoi', heure));
            f.appendChild(quand);

            function ajuster() {
                var decision = f.elements.namedItem('kind').value === 'decision';
                champMotif.hidden = !decision;
                prog.hidden = decision;
                quand.hidden = decision || !caseProg.checked;
            }
            f.addEventListener('change', ajuster);

            var actions = creer('div', 'formulaire__actions');
            var envoyer = creer('button', 'bouton', 'Envoyer le message');
            envoyer.type = 'submit';
            actions.appendChild(envoyer);
            f.appendChild(actions);

            f.addEventListener('submit', function (ev) {
                ev.preventDefault();
                P.effacerErreurs(f);
                var kind = f.elements.namedItem('kind').value;
                var corps = { kind: kind, body: corpsTexte.value.trim() };
                var erreurs = {};
                if (!corps.body) {
                    erreurs.body = 'Saisissez le message.';
                }
                if (kind === 'decision' && motif.value.trim()) {
                    corps.motive = motif.value.trim();
                }
                if (kind === 'information' && caseProg.checked) {
                    var quandDate = jour.value && heure.value
                        ? new Date(jour.value + 'T' + heure.value) : null;
                    if (!quandDate || isNaN(quandDate.getTime())) {
                        erreurs.send_at = 'Choisissez la date et l’heure de l’envoi.';
                    } else if (quandDate.getTime() <= Date.now()) {
                        erreurs.send_at = 'Choisissez une date et une heure à venir.';
                    } else {
                        corps.send_at = quandDate.toISOString();
                    }
                }
                if (Object.keys(erreurs).length) {
                    P.afficherErreurs(f, null, erreurs, { recap: false });
                    if (erreurs.send_at && !erreurs.body) {
                        jour.focus();
                    }
                    return;
                }
                P.occupe(f, true);
                annoncer(zone, 'Envoi du message…', 'info');
                appel('POST', chemin('/messages'), corps).then(function (res) {
                    P.occupe(f, false);
                    if (!res.ok) {
                        if (res.status === 422) {
                            P.erreursApi(f, res, 'message', { recap: false });
                        }
                        annoncer(zone, P.messageErreur(res, 'message'), 'erreur');
                        return;
                    }
                    var m = res.data || {};
                    f.reset();
                    ajuster();
                    /* the file read again (its list of messages), then said */
                    charger(true).then(function () {
                        annoncer(zone, m.send_at && m.cancellable
                                 ? 'Le message est programmé pour le '
                                   + dateHeure(m.send_at) + '.'
                                 : 'Le message est envoyé à l’usager ('
                                   + dans(CANAUX, m.channel) + ').', 'succes');
                        var el = document.getElementById('message-'
                            + String(m.id || '').replace(/[^A-Za-z0-9_-]/g, ''));
                        (el || document.getElementById('messages-titre')).focus();
                    });
                });
            });
            s.appendChild(f);
            return s;
        }

        function listeMessages(d) {
            var s = section('messages', 'Messages envoyés à l’usager');
            var msgs = Array.isArray(d.messages) ? d.messages : [];
            if (msgs.length === 0) {
                s.appendChild(creer('p', null, 'Aucun message pour cette demande.'));
                return s;
            }
            var ul = creer('ul', 'messages-agent');
            msgs.forEach(function (m) {
                var li = creer('li', 'message-agent');
                li.id = 'message-' + String(m.id).replace(/[^A-Za-z0-9_-]/g, '');
                li.tabIndex = -1;
                var tete = creer('p', 'message-agent__entete');
                tete.appendChild(creer('strong', null, m.subject || dans(GENRES, m.kind)));
                var quoi = dans(GENRES, m.kind) + ', ' + dans(CANAUX, m.channel);
                if (m.cancelled_at) {
                    quoi += ' – annulé le ' + dateHeure(m.cancelled_at);
                } else if (m.cancellable) {
                    quoi += ' – programmé pour le ' + dateHeure(m.send_at || m.sent_at);
                } else {
                    quoi += ' – envoyé le ' + dateHeure(m.sent_at || m.created_at);
                }
                if (m.agent && (m.agent.name || m.agent.login)) {
                    quoi += ' par ' + (m.agent.name || m.agent.login);
                }
                tete.appendChild(creer('span', 'message-agent__quoi', ' (' + quoi + ')'));
                li.appendChild(tete);
                li.appendChild(creer('p', 'message-agent__texte', m.body || ''));
                if (m.cancellable && !m.cancelled_at) {
                    var b = bouton('Annuler l’envoi programmé', 'bouton--secondaire bouton--petit');
                    b.addEventListener('click', function () {
                        annulerMessage(m, b);
                    });
                    li.appendChild(b);
                }
                ul.appendChild(li);
            });
            s.appendChild(ul);
            return s;
        }

        function annulerMessage(m, b) {
            P.confirmer({
                titre: 'Annuler ce message programmé ?',
                texte: '« ' + (m.subject || 'Message') + ' », prévu le '
                       + dateHeure(m.send_at || m.sent_at)
                       + ', ne sera pas envoyé.',
                bouton: 'Annuler l’envoi',
                declencheur: b
            }).then(function (oui) {
                if (!oui) {
                    return;
                }
                annoncer(zone, 'Annulation…', 'info');
                appel('DELETE', 'messages/' + encodeURIComponent(m.id))
                    .then(function (res) {
                        if (!res.ok) {
                            annoncer(zone, P.messageErreur(res, 'annulation')
                                     + (res.status === 409
                                        ? ' Le message est peut-être déjà parti.' : ''),
                                     'erreur');
                            charger(true).then(function () {
                                document.getElementById('messages-titre').focus();
                            });
                            return;
                        }
                        charger(true).then(function () {
                            annoncer(zone, 'L’envoi du message est annulé.',
                                     'succes');
                            var el = document.getElementById('message-'
                                + String(m.id).replace(/[^A-Za-z0-9_-]/g, ''));
                            (el || document.getElementById('messages-titre')).focus();
                        });
                    });
            });
        }

        function historique(d) {
            var s = section('historique', 'Historique');
            var h = Array.isArray(d.history) ? d.history : [];
            var table = creer('table', 'tableau-demandes tableau-agents');
            table.setAttribute('role', 'table');
            table.appendChild(creer('caption', 'visuellement-cache',
                                    'Historique des états de la demande'));
            var cols = ['Date', 'État', 'Par', 'Motif'];
            var thead = creer('thead');
            thead.setAttribute('role', 'rowgroup');
            var tr = creer('tr');
            tr.setAttribute('role', 'row');
            cols.forEach(function (c) {
                var th = creer('th', null, c);
                th.scope = 'col';
                th.setAttribute('role', 'columnheader');
                tr.appendChild(th);
            });
            thead.appendChild(tr);
            table.appendChild(thead);
            var tbody = creer('tbody');
            tbody.setAttribute('role', 'rowgroup');
            h.forEach(function (e) {
                var ligne = creer('tr');
                ligne.setAttribute('role', 'row');
                var etat = creer('span');
                if (e.from) {
                    etat.appendChild(P.badgeEtat(e.from));
                    etat.appendChild(document.createTextNode(' → '));
                }
                etat.appendChild(P.badgeEtat(e.to));
                var par = e.agent ? (e.agent.name || e.agent.login)
                                  : dans(ACTEURS, e.actor);
                [dateHeure(e.at), etat, par, e.motive || '—'].forEach(function (c, i) {
                    var td = creer('td');
                    td.setAttribute('role', 'cell');
                    td.setAttribute('data-libelle', cols[i]);
                    if (typeof c === 'object') {
                        td.appendChild(c);
                    } else {
                        td.textContent = c;
                    }
                    ligne.appendChild(td);
                });
                tbody.appendChild(ligne);
            });
            table.appendChild(tbody);
            var env = creer('div', 'tableau-defilant');
            env.appendChild(table);
            s.appendChild(env);
            return s;
        }

        function afficher(d) {
            demande = d;
            dossier.textContent = '';
            titre.textContent = 'Demande ' + (d.reference || '');
            var proc = d.procedure || {};
            var entete = creer('p', 'chapo', proc.title || '');
            dossier.appendChild(entete);

            var etat = creer('p', 'demande-etat');
            etat.id = 'demande-etat';
            etat.tabIndex = -1;
            etat.appendChild(document.createTextNode('État : '));
            etat.appendChild(P.badgeEtat(d.state));
            if (d.state_meaning) {
                etat.appendChild(creer('span', 'demande-etat__sens',
                                       ' ' + d.state_meaning));
            }
            dossier.appendChild(etat);

            dossier.appendChild(lienJournal('request', d.id,
                                            'Journal des accès à cette demande'));
            dossier.appendChild(formTransition(d));

            var s = section('demandeur', 'Demandeur');
            var a = d.account;
            var p = a || d.applicant || {};
            var compte = null;
            if (a && a.id) {
                compte = creer('span');
                compte.appendChild(lien(a.login || 'compte',
                                        'compte.html?id=' + encodeURIComponent(a.id)));
                compte.appendChild(document.createTextNode(
                    a.validated ? ' (compte validé)' : ' (compte en attente de validation)'));
            }
            s.appendChild(donnees([
                ['Nom', nomPersonne(p)],
                ['Compte', compte || 'demande faite sans compte'],
                ['Date de naissance', dateCourte(p.birth_date)],
                ['Courriel', p.email],
                ['Téléphone', p.phone],
                ['Adresse', adresse(p.address)],
                ['Membre concerné', d.member && d.member.name],
                ['Être contacté', d.contact
                    ? (d.contact.label || dans(CONTACTS, d.contact.mode))
                      + (d.contact.recipient ? ' – ' + d.contact.recipient : '')
                    : dans(CONTACTS, d.contact_mode)],
                ['Thème', proc.theme && proc.theme.title],
                ['Envoyée le', dateHeure(d.submitted_at)],
                ['Modifiée le', dateHeure(d.updated_at)]
            ]));
            dossier.appendChild(s);

            s = section('reponses', 'Réponses au formulaire');
            var rep = Array.isArray(d.answers) ? d.answers : [];
            s.appendChild(rep.length
                ? donnees(rep.map(function (r) {
                    return [r.label || r.name, r.value === '' ? '—' : r.value];
                }))
                : creer('p', null, 'Aucune réponse.'));
            dossier.appendChild(s);

            s = section('pieces', 'Pièces jointes');
            var docs = Array.isArray(d.documents) ? d.documents : [];
            s.appendChild(docs.length ? listePieces(docs, urlPiece)
                                      : creer('p', null, 'Aucune pièce jointe.'));
            dossier.appendChild(s);

            dossier.appendChild(historique(d));
            dossier.appendChild(listeMessages(d));
            dossier.appendChild(formMessage(d));
        }

        /* silencieux: a reload after an action, whose message stays. */
        function charger(silencieux) {
            if (!id) {
                annoncer(zone, 'Aucune demande n’est indiquée : choisissez-en une '
                         + 'dans la file des demandes.', 'erreur');
                return Promise.resolve(null);
            }
            if (!silencieux) {
                annoncer(zone, 'Chargement de la demande…', 'info');
            }
            return appel('GET', chemin()).then(function (res) {
                if (!res.ok || !res.data) {
                    annoncer(zone, res.status === 404
                             ? 'Cette demande n’existe pas, ou elle ne relève pas '
                               + 'de vos thèmes.'
                             : P.messageErreur(res, 'demande'), 'erreur');
                    return null;
                }
                if (!silencieux) {
                    annoncer(zone, '');
                }
                afficher(res.data);
                return res.data;
            });
        }

        return {
            charger: function () { return charger(false); },
            vider: function () {
                demande = null;
                dossier.textContent = '';
                annoncer(zone, '');
                titre.textContent = 'Dossier de la demande';
            }
        };
    };

    /* Letters to print and calls to make. */
    pages.courriers = function () {
        var zoneL = document.getElementById('lettres-message');
        var zoneA = document.getElementById('appels-message');

        function fait(td, texte) {
            td.textContent = '';
            var p = creer('p', 'fait', texte);
            p.tabIndex = -1;
            td.appendChild(p);
            p.focus();
        }

        var lettres = new Liste({
            conteneur: document.getElementById('lettres-liste'),
            zone: zoneL,
            legende: 'Lettres à imprimer, la plus ancienne d’abord',
            prefixe: 'lettre',
            colonnes: ['À envoyer le', 'Demande', 'Destinataire', 'Objet',
                       'Actions'],
            nom: ['lettre', 'lettres', true],
            vide: 'Aucune lettre à imprimer.',
            chemin: function (cle, n) {
                return 'letters?printed=false&limit=' + n
                       + (cle ? '&page=' + encodeURIComponent(cle) : '');
            },
            cellules: function (l) {
                var dest = creer('span', 'destinataire');
                var lignes = Array.isArray(l.recipient_lines) ? l.recipient_lines
                    : String(l.recipient || '').split('\n');
                lignes.forEach(function (x, i) {
                    if (i) {
                        dest.appendChild(creer('br'));
                    }
                    dest.appendChild(document.createTextNode(x));
                });
                var actions = creer('div', 'actions-ligne');
                var pdf = creer('a', 'lien-pdf', 'Lettre à imprimer');
                pdf.href = P.urlApi('letters/' + encodeURIComponent(l.id) + '.pdf');
                pdf.target = '_blank';
                pdf.rel = 'noopener';
                pdf.appendChild(creer('span', 'visuellement-cache',
                                      ' ' + ((l.request && l.request.reference) || '')
                                      + ' (PDF, nouvelle fenêtre)'));
                var b = bouton('Marquer imprimé', 'bouton--secondaire bouton--petit');
                b.setAttribute('aria-label', 'Marquer imprimée la lettre '
                               + ((l.request && l.request.reference) || ''));
                b.addEventListener('click', function () {
                    if (b.getAttribute('aria-disabled') === 'true') {
                        return;
                    }
                    b.setAttribute('aria-disabled', 'true');
                    appel('POST', 'letters/' + encodeURIComponent(l.id) + '/printed')
                        .then(function (res) {
                            b.removeAttribute('aria-disabled');
                            if (!res.ok) {
                                annoncer(zoneL, P.messageErreur(res, 'lettre'), 'erreur');
                                b.focus();
                                return;
                            }
                            annoncer(zoneL, 'La lettre est marquée imprimée.', 'succes');
                            fait(actions.parentNode, 'Imprimée le '
                                 + dateHeure((res.data && res.data.printed_at)
                                             || new Date().toISOString()));
                        });
                });
                actions.appendChild(pdf);
                actions.appendChild(b);
                return [dateHeure(l.due_at), lienDemande(l.request), dest,
                        l.subject || '', actions];
            }
        });

        var appels = new Liste({
            conteneur: document.getElementById('appels-liste'),
            zone: zoneA,
            legende: 'Appels à passer, le plus ancien d’abord',
            prefixe: 'appel',
            colonnes: ['À passer le', 'Demande', 'Personne', 'Ce qu’il faut dire',
                       'Actions'],
            nom: ['appel', 'appels'],
            vide: 'Aucun appel à passer.',
            chemin: function (cle, n) {
                return 'calls?done=false&limit=' + n
                       + (cle ? '&page=' + encodeURIComponent(cle) : '');
            },
            cellules: function (c) {
                var qui = creer('span', null, (c.name || '') + ' ');
                if (c.phone) {
                    var tel = lien(c.phone, 'tel:' + String(c.phone).replace(/[^+0-9]/g, ''));
                    qui.appendChild(creer('br'));
                    qui.appendChild(tel);
                }
                var texte = creer('details', 'depliant');
                texte.appendChild(creer('summary', null, c.subject || 'Message'));
                texte.appendChild(creer('p', 'texte-appel', c.body || ''));
                var actions = creer('div', 'actions-ligne');
                var suffixe = String(c.id).replace(/[^A-Za-z0-9_-]/g, '');
                var note = creer('input');
                note.type = 'text';
                note.maxLength = 500;
                note.name = 'note';
                actions.appendChild(champ('appel-note-' + suffixe,
                                          'Note de l’appel (facultatif)', note));
                var b = bouton('Appel effectué', 'bouton--secondaire bouton--petit');
                b.setAttribute('aria-label', 'Appel effectué : '
                               + (c.name || '') + ', '
                               + ((c.request && c.request.reference) || ''));
                b.addEventListener('click', function () {
                    if (b.getAttribute('aria-disabled') === 'true') {
                        return;
                    }
                    b.setAttribute('aria-disabled', 'true');
                    var corps = note.value.trim() ? { note: note.value.trim() } : {};
                    appel('POST', 'calls/' + encodeURIComponent(c.id) + '/done', corps)
                        .then(function (res) {
                            b.removeAttribute('aria-disabled');
                            if (!res.ok) {
                                annoncer(zoneA, P.messageErreur(res, 'appel'), 'erreur');
                                (res.status === 422 ? note : b).focus();
                                return;
                            }
                            annoncer(zoneA, 'L’appel est noté comme effectué.', 'succes');
                            fait(actions.parentNode, 'Appel effectué le '
                                 + dateHeure((res.data && res.data.done_at)
                                             || new Date().toISOString())
                                 + (corps.note ? ' – ' + corps.note : ''));
                        });
                });
                actions.appendChild(b);
                return [dateHeure(c.due_at), lienDemande(c.request), qui, texte,
                        actions];
            }
        });

        return {
            charger: function () {
                return Promise.all([lettres.charger(false), appels.charger(false)]);
            },
            vider: function () {
                lettres.vider();
                appels.vider();
                annoncer(zoneL, '');
                annoncer(zoneA, '');
            }
        };
    };

    /* Mail the outbox could not deliver (admin). */
    pages.courriels = function () {
        var zone = document.getElementById('courriels-message');
        var l = new Liste({
            conteneur: document.getElementById('courriels-liste'),
            zone: zone,
            legende: 'Courriels en échec, le plus récent d’abord',
            prefixe: 'courriel',
            colonnes: ['Créé le', 'Destinataire', 'Objet', 'Erreur', 'Actions'],
            nom: ['courriel', 'courriels'],
            vide: 'Aucun courriel en échec.',
            chemin: function (cle, n) {
                return 'outbox?state=failed&limit=' + n
                       + (cle ? '&page=' + encodeURIComponent(cle) : '');
            },
            cellules: function (o) {
                var erreur = creer('span', null, (o.last_error || '—')
                                   + ' (' + (o.attempts || 0) + ' essai'
                                   + (o.attempts > 1 ? 's' : '') + ')');
                var actions = creer('div', 'actions-ligne');
                if (o.request && o.request.id) {
                    actions.appendChild(lienDemande(o.request));
                }
                var b = bouton('Réessayer', 'bouton--secondaire bouton--petit');
                b.setAttribute('aria-label', 'Réessayer le courriel à '
                               + (o.recipient || '') + ' : ' + (o.subject || ''));
                b.addEventListener('click', function () {
                    if (b.getAttribute('aria-disabled') === 'true') {
                        return;
                    }
                    b.setAttribute('aria-disabled', 'true');
                    appel('POST', 'outbox/' + encodeURIComponent(o.id) + '/retry')
                        .then(function (res) {
                            b.removeAttribute('aria-disabled');
                            if (!res.ok) {
                                annoncer(zone, P.messageErreur(res, 'courriel'), 'erreur');
                                b.focus();
                                return;
                            }
                            annoncer(zone, 'Le courriel est remis en file d’envoi.',
                                     'succes');
                            var td = actions.parentNode;
                            td.textContent = '';
                            var p = creer('p', 'fait', 'Nouvel essai en cours');
                            p.tabIndex = -1;
                            td.appendChild(p);
                            p.focus();
                        });
                });
                actions.appendChild(b);
                return [dateHeure(o.created_at), o.recipient || '', o.subject || '',
                        erreur, actions];
            }
        });
        return {
            admin: true,
            charger: function () { return l.charger(false); },
            vider: function () { l.vider(); annoncer(zone, ''); }
        };
    };

    /* The audit log (admin). */
    pages.journal = function () {
        var zone = document.getElementById('journal-message');
        var filtres = new URLSearchParams();
        var quoi = { request: 'd’une demande', account: 'd’un compte',
                     agent: 'd’un agent' };
        Object.keys(quoi).forEach(function (n) {
            var v = parametre(n);
            if (v) {
                filtres.set(n, v);
            }
        });
        var titre = document.getElementById('journal-titre');
        if (filtres.toString()) {
            titre.textContent = 'Entrées ' + Object.keys(quoi).filter(function (n) {
                return filtres.has(n);
            }).map(function (n) { return quoi[n]; }).join(' et ');
            var tout = creer('p', null, '');
            tout.appendChild(lien('Voir tout le journal', 'journal.html'));
            titre.parentNode.insertBefore(tout, titre.nextSibling);
        }
        var l = new Liste({
            conteneur: document.getElementById('journal-liste'),
            zone: zone,
            legende: 'Journal des accès, le plus récent d’abord',
            prefixe: 'journal',
            colonnes: ['Date', 'Agent', 'Action', 'Dossier', 'Adresse'],
            nom: ['entrée', 'entrées', true],
            vide: 'Le journal est vide.',
            chemin: function (cle, n) {
                var q = new URLSearchParams(filtres);
                q.set('limit', String(n));
                if (cle) {
                    q.set('page', cle);
                }
                return 'audit?' + q.toString();
            },
            cellules: function (e) {
                var ag = e.agent || {};
                var dos = creer('span');
                if (e.request_id) {
                    dos.appendChild(lien('Demande', 'demande.html?id='
                                         + encodeURIComponent(e.request_id)));
                }
                if (e.account_id) {
                    if (e.request_id) {
                        dos.appendChild(document.createTextNode(' – '));
                    }
                    dos.appendChild(lien('Compte', 'compte.html?id='
                                         + encodeURIComponent(e.account_id)));
                }
                if (!e.request_id && !e.account_id) {
                    dos.textContent = '—';
                }
                return [dateHeure(e.at), ag.name || ag.login || '—',
                        dans(ACTIONS, e.action), dos,
                        creer('span', 'adresse-ip', e.client_addr || '—')];
            }
        });
        return {
            admin: true,
            charger: function () { return l.charger(false); },
            vider: function () { l.vider(); annoncer(zone, ''); }
        };
    };

    /* ---------------------------------------------------------- start */

    var nomPage = document.body.getAttribute('data-page');
    var page = Object.prototype.hasOwnProperty.call(pages, nomPage)
               ? pages[nomPage]() : null;

    /* Once logged in on a work page, the focus goes to its title. */
    if (page) {
        P.surConnexion = function () {
            var h = document.getElementById('titre-page');
            if (h) {
                h.focus();
                return true;
            }
            return false;
        };
    }

    P.surSession(function () {
        afficherAgent();
        if (!P.session.connu) {
            return;
        }
        if (!page) {
            if (estConnecte()) {
                document.documentElement.setAttribute('data-admin', 'pret');
            } else {
                document.documentElement.removeAttribute('data-admin');
            }
            return;
        }
        var peut = estConnecte() && (!page.admin || estAdmin());
        if (peut && !charge) {
            charge = true;
            document.documentElement.setAttribute('data-admin', 'chargement');
            Promise.resolve(page.charger()).then(function () {
                document.documentElement.setAttribute('data-admin', 'pret');
            });
        } else if (!peut && charge) {
            charge = false;
            page.vider();
            document.documentElement.removeAttribute('data-admin');
        }
    });
}());
