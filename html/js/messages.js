/*
 * Mon Compte Citoyen: what the town hall wrote about the citizen's requests
 * (GET me/messages), on the "Demandes" page, under its list.  Loaded once
 * the session is known to be logged in; portal.js does the call.
 */
(function () {
    'use strict';

    var P = window.Portail;
    if (!P) {
        return;
    }

    var CANAUX = {
        email: 'par courriel',
        phone: 'par téléphone',
        post: 'par courrier'
    };

    var charge = false;

    function afficher(conteneur, messages) {
        conteneur.textContent = '';
        if (messages.length === 0) {
            conteneur.appendChild(P.creer('p', 'demandes__vide',
                'Aucun message de la Mairie pour le moment.'));
            return;
        }
        var ul = P.creer('ul', 'messages-agent');
        messages.forEach(function (m) {
            var li = P.creer('li', 'message-agent');
            var tete = P.creer('p', 'message-agent__entete');
            tete.appendChild(P.creer('strong', null, m.subject || 'Message'));
            var quoi = [P.dateFr(m.created_at),
                        Object.prototype.hasOwnProperty.call(CANAUX, m.channel)
                            ? CANAUX[m.channel] : '',
                        m.request && m.request.reference
                            ? 'demande ' + m.request.reference : '']
                .filter(Boolean).join(', ');
            if (quoi) {
                tete.appendChild(P.creer('span', 'message-agent__quoi',
                                         ' (' + quoi + ')'));
            }
            li.appendChild(tete);
            li.appendChild(P.creer('p', 'message-agent__texte', m.body || ''));
            ul.appendChild(li);
        });
        conteneur.appendChild(ul);
    }

    function charger(conteneur) {
        conteneur.setAttribute('aria-busy', 'true');
        return P.appel('GET', 'me/messages').then(function (res) {
            conteneur.setAttribute('aria-busy', 'false');
            var liste = res.ok ? P.listeDepuis(res.data, 'messages') : null;
            if (res.status === 404) {
                liste = [];
            }
            if (!liste) {
                conteneur.textContent = '';
                conteneur.appendChild(P.creer('p', 'alerte alerte--erreur',
                    'Les messages ne peuvent pas être affichés pour le moment. '
                    + P.messageErreur(res, 'messages')));
                return;
            }
            afficher(conteneur, liste);
        });
    }

    P.surSession(function () {
        var connecte = document.documentElement
            .getAttribute('data-connecte') === 'oui';
        P.tous('[data-messages]').forEach(function (conteneur) {
            if (connecte && !charge) {
                charger(conteneur);
            } else if (!connecte) {
                conteneur.textContent = '';
            }
        });
        charge = connecte;
    });
}());
