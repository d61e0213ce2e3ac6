/*
 * Mon Compte Citoyen, the "Services en ligne" tab: the catalogue of online
 * procedures (GET catalog), theme by theme, each procedure a link to its
 * page (demarche.html?p=<slug>), marked when it needs an account.
 *
 * Runs after js/portal.js, whose window.Portail it uses. No inline code:
 * the page runs under a strict CSP.
 */
(function () {
    'use strict';

    var P = window.Portail;
    if (!P) {
        return;
    }
    var creer = P.creer;

    function idTheme(theme, i) {
        return 'theme-' + (String(theme.slug || '').replace(/[^a-z0-9-]/g, '')
                           || String(i + 1));
    }

    /* One procedure: its link, whether it needs an account, what it is. */
    function elementDemarche(p) {
        var li = creer('li', 'demarche');
        var titre = creer('p', 'demarche__titre');
        var a = creer('a', null, p.title || p.slug);
        a.href = 'demarche.html?p=' + encodeURIComponent(p.slug);
        titre.appendChild(a);
        titre.appendChild(document.createTextNode(' '));
        titre.appendChild(p.requires_account
            ? creer('span', 'pastille pastille--compte', 'Compte nécessaire')
            : creer('span', 'pastille pastille--libre', 'Possible sans compte'));
        li.appendChild(titre);
        if (p.description) {
            li.appendChild(creer('p', 'demarche__description', p.description));
        }
        return li;
    }

    function afficherCatalogue(conteneur, themes) {
        conteneur.textContent = '';
        var sommaire = creer('nav', 'catalogue__sommaire');
        sommaire.setAttribute('aria-label', 'Thèmes des démarches');
        var liens = creer('ul', 'catalogue__themes');
        sommaire.appendChild(liens);
        conteneur.appendChild(sommaire);

        themes.forEach(function (theme, i) {
            var procedures = P.listeDepuis(theme, 'procedures') || [];
            if (!procedures.length) {
                return;
            }
            var id = idTheme(theme, i);
            var section = creer('section', 'theme');
            section.setAttribute('aria-labelledby', id);
            var h = creer('h3', 'theme__titre', theme.title || theme.slug);
            h.id = id;
            h.tabIndex = -1;
            section.appendChild(h);
            var ul = creer('ul', 'demarches');
            procedures.forEach(function (p) {
                ul.appendChild(elementDemarche(p));
            });
            section.appendChild(ul);
            conteneur.appendChild(section);

            var li = creer('li');
            var lien = creer('a', null, theme.title || theme.slug);
            lien.href = '#' + id;
            li.appendChild(lien);
            liens.appendChild(li);
        });
    }

    function initCatalogue() {
        var conteneur = document.querySelector('[data-catalogue]');
        if (!conteneur) {
            return;
        }
        conteneur.setAttribute('aria-busy', 'true');
        P.appel('GET', 'catalog').then(function (res) {
            conteneur.setAttribute('aria-busy', 'false');
            var themes = res.ok ? P.listeDepuis(res.data, 'themes') : null;
            if (!themes || !themes.some(function (t) {
                return (P.listeDepuis(t, 'procedures') || []).length > 0;
            })) {
                conteneur.textContent = '';
                conteneur.appendChild(creer('p', 'alerte alerte--erreur',
                    'Le catalogue des démarches ne peut pas être affiché pour le '
                    + 'moment. ' + (res.ok ? P.MESSAGES.inattendu
                                           : P.messageErreur(res, 'catalogue'))));
                return;
            }
            afficherCatalogue(conteneur, themes);
            document.documentElement.setAttribute('data-catalogue', 'pret');
        });
    }

    initCatalogue();
}());
