/*
 * Mon Compte Citoyen, a procedure's page (demarche.html): its form, built
 * from the definition that GET procedures/{slug} gives, in one of two
 * ways, as the FAQ tells them:
 *   - "Utiliser mon compte pour effectuer cette demande": the citizen logs
 *     in here, without leaving the page; the holder's and the members'
 *     information fill the form; the request is saved as a draft
 *     ("brouillon"), its documents added, then it is sent;
 *   - "Je n'ai pas de compte" (flow B): the applicant's identity, the
 *     form, the question "souhaitez-vous créer un compte pour suivre votre
 *     demande ?" (a password and a security question when yes), the
 *     captcha. Without an account the request is sent at once; with one,
 *     the account is created with it and the citizen is logged in, the
 *     request waiting as a draft for its documents.
 * demarche.html?demande=<id> reopens a request of the account to complete
 * or change it (brouillon, en_attente, incomplet).
 *
 * Every field is checked as the server checks it, with its words, before
 * anything is sent; what the server still refuses (422) is shown beside
 * the field it names. Runs after js/portal.js (window.Portail). No inline
 * code: the page runs under a strict CSP.
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
    var T = P.TEXTES;
    var R = P.REGLES;

    var JOUR_MS = 24 * 60 * 60 * 1000;

    /* What a field holds when its definition sets no length (_form.c). */
    var LONGUEURS = { text: 500, textarea: 5000, email: 254, tel: 30 };

    /*
     * The server's words for a procedure's fields
     * (src/ngx_http_portal_messages.h), typographic apostrophes.
     */
    var M = {
        texte: 'Remplissez ce champ (%n caractères au plus).',
        telephone: 'Saisissez un numéro de téléphone.',
        date: 'Saisissez une date.',
        dateForme: 'Cette date n’existe pas.',
        dateEntre: 'Choisissez une date entre le %a et le %b.',
        dateDepuis: 'Choisissez une date à partir du %a.',
        dateJusque: 'Choisissez une date jusqu’au %b.',
        pasFutur: 'La date ne peut pas être dans le futur.',
        pasPassee: 'La date ne peut pas être passée.',
        nombre: 'Saisissez un nombre.',
        nombreEntre: 'Saisissez un nombre entre %a et %b.',
        nombreMin: 'Saisissez un nombre supérieur ou égal à %a.',
        nombreMax: 'Saisissez un nombre inférieur ou égal à %b.',
        liste: 'Choisissez une réponse dans la liste.',
        caseACocher: 'Cochez cette case pour continuer.',
        membre: 'Choisissez la personne concernée par la démarche.',
        caractere: 'Ce champ contient un caractère invisible non autorisé : '
                   + 'effacez-le, ou saisissez à nouveau le texte.',
        suivi: 'Indiquez si vous souhaitez un compte pour suivre votre demande.'
    };

    var etat = {
        slug: null,          /* ?p= */
        idDemande: null,     /* ?demande= */
        procedure: null,     /* GET procedures/{slug} */
        demande: null,       /* the request once it exists */
        mode: null,          /* "compte", "sans-compte", or null: the choice */
        me: null,            /* GET me, in account mode */
        pret: Promise.resolve(),
        champs: [],          /* {def, el, conteneur} of each field */
        construit: false,
        crypto: null,        /* flow B's captcha */
        cryptoAcces: null,   /* the access box's, past the failure limits */
        cle: null,           /* Idempotency-Key of the attempt in flight */
        corpsCle: null,      /* ... and the body it was for */
        termine: false,      /* sent without an account: nothing more here */
        questions: null
    };

    function $(id) {
        return document.getElementById(id);
    }

    function remplacer(texte, valeurs) {
        return texte.replace(/%([a-z])/g, function (m, k) {
            return valeurs[k] !== undefined ? valeurs[k] : m;
        });
    }

    /* ------------------------------------------------- dates, numbers */

    /* Days since 1970-01-01 of today, as the server counts them (UTC). */
    function aujourdhui() {
        return Math.floor(Date.now() / JOUR_MS);
    }

    function joursDe(iso) {
        var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
        if (!m) {
            return null;
        }
        return Math.round(Date.UTC(+m[1], +m[2] - 1, +m[3]) / JOUR_MS);
    }

    function isoDe(jours) {
        return new Date(jours * JOUR_MS).toISOString().slice(0, 10);
    }

    /* "12/03/2026", as the server writes a bound. */
    function dateCourte(jours) {
        var iso = isoDe(jours);
        return iso.slice(8, 10) + '/' + iso.slice(5, 7) + '/' + iso.slice(0, 4);
    }

    /* A real date "AAAA-MM-JJ" from 1900 (ngx_http_portal_text_date). */
    function dateExiste(v) {
        var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
        if (!m || +m[1] < 1900) {
            return false;
        }
        var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
        return d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
    }

    /* A bound of a date: a date, or days from today. */
    function borneJours(v) {
        if (typeof v === 'number' && isFinite(v)) {
            return aujourdhui() + Math.round(v);
        }
        return typeof v === 'string' ? joursDe(v) : null;
    }

    function bornesDate(def) {
        return { min: def.min !== undefined ? borneJours(def.min) : null,
                 max: def.max !== undefined ? borneJours(def.max) : null };
    }

    /* Why a date is refused by its bounds, or null (the server's order). */
    function refusBornes(jour, b) {
        if ((b.min === null || jour >= b.min)
            && (b.max === null || jour <= b.max)) {
            return null;
        }
        var v = { a: b.min !== null ? dateCourte(b.min) : '',
                  b: b.max !== null ? dateCourte(b.max) : '' };
        if (b.min !== null && b.max !== null) {
            return remplacer(M.dateEntre, v);
        }
        if (b.max !== null) {
            return b.max === aujourdhui() ? M.pasFutur
                                          : remplacer(M.dateJusque, v);
        }
        return b.min === aujourdhui() ? M.pasPassee
                                      : remplacer(M.dateDepuis, v);
    }

    /* A bound in thousandths as a French decimal: 0.5 → "0,5". */
    function decimal(v) {
        var milli = Math.round(Math.abs(v) * 1000);
        var texte = (v < 0 ? '-' : '') + Math.floor(milli / 1000);
        var reste = milli % 1000;
        if (reste) {
            texte += ',' + String(reste + 1000).slice(1).replace(/0+$/, '');
        }
        return texte;
    }

    /*
     * A number as a person types it: " 2,5 ", "12", "-3" (the server's
     * rule: up to 15 digits, a comma or a point). NaN when it is not one.
     */
    function nombreDe(v) {
        var s = v.trim().replace(/,/g, '.');
        var chiffres = s.replace(/[^0-9]/g, '').length;
        if (!/^-?(\d+\.?\d*|\.\d+)$/.test(s) || chiffres === 0
            || chiffres > 15) {
            return NaN;
        }
        return parseFloat(s);
    }

    function messageNombre(def) {
        var v = { a: def.min !== undefined ? decimal(def.min) : '',
                  b: def.max !== undefined ? decimal(def.max) : '' };
        if (def.min !== undefined && def.max !== undefined) {
            return remplacer(M.nombreEntre, v);
        }
        if (def.min !== undefined) {
            return remplacer(M.nombreMin, v);
        }
        if (def.max !== undefined) {
            return remplacer(M.nombreMax, v);
        }
        return M.nombre;
    }

    function longueur(def) {
        return def.max_length > 0 ? def.max_length
                                  : (LONGUEURS[def.type] || 500);
    }

    /* ------------------------------------------------------- the form */

    function idChamp(def) {
        return 'dm-d-' + String(def.name).replace(/[^A-Za-z0-9_-]/g, '');
    }

    function estNombre(v) {
        return typeof v === 'number' && isFinite(v);
    }

    /* The help under a label: the definition's hint, then its bounds. */
    function aides(def) {
        var liste = [];
        if (def.hint) {
            liste.push(def.hint);
        }
        if (def.type === 'date') {
            var b = bornesDate(def);
            if (b.min !== null && b.max !== null) {
                liste.push('Entre le ' + dateCourte(b.min) + ' et le '
                           + dateCourte(b.max) + '.');
            } else if (b.min !== null) {
                liste.push('À partir du ' + dateCourte(b.min) + '.');
            } else if (b.max !== null && b.max !== aujourdhui()) {
                liste.push('Jusqu’au ' + dateCourte(b.max) + '.');
            }
        } else if (def.type === 'number') {
            if (estNombre(def.min) && estNombre(def.max)) {
                liste.push('Un nombre de ' + decimal(def.min) + ' à '
                           + decimal(def.max) + '.');
            } else if (estNombre(def.min)) {
                liste.push('Un nombre d’au moins ' + decimal(def.min) + '.');
            } else if (estNombre(def.max)) {
                liste.push('Un nombre d’au plus ' + decimal(def.max) + '.');
            }
        } else if (def.type === 'textarea') {
            liste.push(longueur(def) + ' caractères au plus.');
        } else if (def.type === 'tel') {
            liste.push('10 chiffres, ou + et l’indicatif.');
        }
        return liste;
    }

    function etiquette(def, id) {
        var label = creer('label', null, def.label || def.name);
        label.htmlFor = id;
        if (def.type === 'checkbox') {
            if (def.required) {
                label.appendChild(document.createTextNode(' '));
                label.appendChild(creer('span', 'facultatif', '(obligatoire)'));
            }
        } else if (!def.required) {
            label.appendChild(document.createTextNode(' '));
            label.appendChild(creer('span', 'facultatif', '(facultatif)'));
        }
        return label;
    }

    /* One field of the definition: its label, its help, its control. */
    function construireChamp(def) {
        var id = idChamp(def);
        var conteneur = creer('div', 'champ');
        var el;
        var textesAide = aides(def);
        var idAide = textesAide.length ? id + '-aide' : null;

        if (def.type === 'checkbox') {
            conteneur.className = 'champ champ--case';
            if (idAide) {
                var pc = creer('p', 'champ__aide', textesAide.join(' '));
                pc.id = idAide;
                conteneur.appendChild(pc);
            }
            var ligne = creer('div', 'case');
            el = creer('input');
            el.type = 'checkbox';
            el.id = id;
            ligne.appendChild(el);
            ligne.appendChild(document.createTextNode(' '));
            ligne.appendChild(etiquette(def, id));
            conteneur.appendChild(ligne);
        } else {
            conteneur.appendChild(etiquette(def, id));
            if (idAide) {
                var p = creer('p', 'champ__aide', textesAide.join(' '));
                p.id = idAide;
                conteneur.appendChild(p);
            }
            if (def.type === 'textarea') {
                el = creer('textarea');
                el.rows = 4;
            } else if (def.type === 'select' || def.type === 'member') {
                el = creer('select');
            } else {
                el = creer('input');
                el.type = { email: 'email', tel: 'tel', date: 'date' }[def.type]
                          || 'text';
                if (def.type === 'number') {
                    el.setAttribute('inputmode', 'decimal');
                    conteneur.className = 'champ champ--court';
                } else if (def.type === 'date') {
                    conteneur.className = 'champ champ--court';
                    var b = bornesDate(def);
                    el.min = b.min !== null ? isoDe(b.min) : '1900-01-01';
                    if (b.max !== null) {
                        el.max = isoDe(b.max);
                    }
                } else if (def.type === 'tel') {
                    conteneur.className = 'champ champ--moyen';
                }
                if (def.type === 'text' || def.type === 'email'
                    || def.type === 'tel') {
                    el.maxLength = longueur(def);
                }
                el.autocomplete = 'off';
            }
            el.id = id;
            conteneur.appendChild(el);
            if (def.type === 'select') {
                var vide = creer('option', null, 'Choisissez une réponse');
                vide.value = '';
                el.appendChild(vide);
                (def.options || []).forEach(function (o) {
                    var opt = creer('option', null, o.label || o.value);
                    opt.value = o.value;
                    el.appendChild(opt);
                });
            }
        }
        if (idAide) {
            el.setAttribute('aria-describedby', idAide);
        }
        el.name = def.name;
        el.setAttribute('data-champ', def.type === 'member'
                                      ? 'member_id' : 'data.' + def.name);
        if (def.type === 'member') {
            conteneur.setAttribute('data-si-compte', '');
            el.addEventListener('change', function () {
                prereplir();
            });
        }
        if (def.prefill) {
            el.setAttribute('data-prefill', def.prefill);
        }
        return { def: def, el: el, conteneur: conteneur };
    }

    /* The household's members that the member field may name. */
    function remplirMembres(c) {
        var select = c.el;
        var garde = select.value;
        select.textContent = '';
        var membres = ((etat.me && etat.me.members) || []).filter(function (m) {
            return !c.def.member_kind || m.kind === c.def.member_kind;
        });
        var vide = creer('option', null, c.def.required
            ? 'Choisissez une personne'
            : 'Aucune : je saisis ses informations ci-dessous');
        vide.value = '';
        select.appendChild(vide);
        membres.forEach(function (m) {
            var opt = creer('option', null,
                            [m.first_name, m.last_name].filter(Boolean).join(' '));
            opt.value = m.id;
            select.appendChild(opt);
        });
        select.value = garde;
        var aide = $(idChamp(c.def) + '-foyer');
        if (!membres.length) {
            if (!aide) {
                aide = creer('p', 'champ__aide');
                aide.id = idChamp(c.def) + '-foyer';
                c.conteneur.insertBefore(aide, select);
                P.ajouterDescription(select, aide.id);
            }
            aide.textContent = (c.def.member_kind === 'child'
                ? 'Aucun enfant n’est déclaré dans votre foyer'
                : c.def.member_kind === 'adult'
                    ? 'Aucun adulte n’est déclaré dans votre foyer'
                    : 'Personne n’est déclaré dans votre foyer')
                + ' : saisissez ses informations ci-dessous, ou ajoutez-le '
                + 'dans l’onglet « Compte ».';
        } else if (aide) {
            P.retirerDescription(select, aide.id);
            aide.parentNode.removeChild(aide);
        }
    }

    function construireFormulaire() {
        if (etat.construit) {
            return;
        }
        var zone = $('champs-demarche');
        zone.textContent = '';
        etat.champs = (etat.procedure.fields || []).map(construireChamp);
        etat.champs.forEach(function (c) {
            zone.appendChild(c.conteneur);
        });
        $('groupe-formulaire-titre').textContent = etat.procedure.title;
        etat.construit = true;
    }

    /* ------------------------------------------------------ prefilling */

    function adresseLigne(a) {
        if (!a) {
            return '';
        }
        var ville = [a.postcode, a.city].filter(Boolean).join(' ');
        return [a.line, ville].filter(Boolean).join(', ');
    }

    /* The applicant typed in flow B, in the holder's shape. */
    function demandeurSaisi() {
        var f = $('form-demarche');
        function v(cle) {
            var el = f.querySelector('[data-champ="applicant.' + cle + '"]');
            return el ? el.value.trim() : '';
        }
        var civilite = f.querySelector('input[name="civility"]:checked');
        return {
            civility: civilite ? civilite.value : '',
            first_name: v('first_name'),
            last_name: v('last_name'),
            birth_date: v('birth_date'),
            email: v('email'),
            phone: v('phone'),
            address: { line: v('address.line'), postcode: v('address.postcode'),
                       city: v('address.city') }
        };
    }

    function membreChoisi() {
        var c = etat.champs.filter(function (x) {
            return x.def.type === 'member';
        })[0];
        if (!c || !c.el.value || !etat.me) {
            return null;
        }
        return (etat.me.members || []).filter(function (m) {
            return m.id === c.el.value;
        })[0] || null;
    }

    /* What a field's "prefill" names: "holder.address", "member.last_name". */
    function valeurSource(source) {
        var parts = String(source).split('.');
        var personne = null;
        if (parts[0] === 'holder') {
            personne = etat.mode === 'compte'
                       ? (etat.me && etat.me.holder) : demandeurSaisi();
        } else if (parts[0] === 'member' && etat.mode === 'compte') {
            personne = membreChoisi();
        }
        if (!personne) {
            return '';
        }
        var v = parts[1] === 'address' ? adresseLigne(personne.address)
                                       : personne[parts[1]];
        return v === null || v === undefined ? '' : String(v);
    }

    /*
     * Fills the fields that have a "prefill" from what they name. A field
     * that the citizen changed keeps what was typed: only a value still
     * equal to the last one filled in follows its source.
     */
    function prereplir() {
        etat.champs.forEach(function (c) {
            var source = c.el.getAttribute('data-prefill');
            if (!source || c.def.type === 'checkbox' || c.def.type === 'select') {
                return;
            }
            var avant = c.el.getAttribute('data-prerempli') || '';
            var v = valeurSource(source);
            if (c.el.value === avant || c.el.value === '') {
                c.el.value = v;
            }
            c.el.setAttribute('data-prerempli', v);
        });
    }

    /* A request's answers back into the form (a draft reopened). */
    function remplirDepuis(d) {
        var data = d.data || {};
        etat.champs.forEach(function (c) {
            var v = data[c.def.name];
            if (c.def.type === 'member') {
                remplirMembres(c);
                c.el.value = d.member && d.member.id ? d.member.id : '';
                return;
            }
            if (c.def.type === 'checkbox') {
                c.el.checked = v === true;
                return;
            }
            if (v === undefined || v === null) {
                c.el.value = '';
            } else if (c.def.type === 'number' && typeof v === 'number') {
                c.el.value = String(v).replace('.', ',');
            } else {
                c.el.value = String(v);
            }
        });
        etat.champs.forEach(function (c) {
            if (c.el.getAttribute('data-prefill')) {
                c.el.setAttribute('data-prerempli',
                                  valeurSource(c.el.getAttribute('data-prefill')));
            }
        });
        choisirContact(d.contact_mode);
    }

    function viderFormulaire() {
        var f = $('form-demarche');
        P.effacerErreurs(f);
        etat.champs.forEach(function (c) {
            if (c.def.type === 'checkbox') {
                c.el.checked = false;
            } else {
                c.el.value = '';
            }
            c.el.removeAttribute('data-prerempli');
        });
        tous('#groupe-demandeur input, #dm-compte input, #dm-compte select',
             f).forEach(function (el) {
            if (el.type === 'radio' || el.type === 'checkbox') {
                el.checked = false;
            } else {
                el.value = '';
            }
        });
        tous('input[name="follow_up"]', f).forEach(function (el) {
            el.checked = false;
        });
    }

    function choisirContact(mode) {
        tous('input[name="contact_mode"]').forEach(function (r) {
            r.checked = r.value === mode;
        });
    }

    /* ------------------------------------------------------- checking */

    /*
     * The definition's fields, checked; their values into data. A draft
     * (brouillon) is saved incomplete: its required fields wait for the
     * sending, what is filled in is checked all the same.
     */
    function verifierChamps(erreurs, data, brouillon) {
        etat.champs.forEach(function (c) {
            var def = c.def;
            var cle = 'data.' + def.name;
            var el = c.el;
            var requis = def.required && !brouillon;
            if (def.type === 'member') {
                if (etat.mode === 'compte' && requis && !el.value) {
                    erreurs.member_id = M.membre;
                }
                return;
            }
            if (def.type === 'checkbox') {
                if (requis && !el.checked) {
                    erreurs[cle] = M.caseACocher;
                }
                data[def.name] = el.checked;
                return;
            }
            if (def.type === 'date' && el.validity && el.validity.badInput) {
                erreurs[cle] = M.dateForme;
                return;
            }
            var v = el.value.trim();
            if (v === '') {
                if (requis) {
                    erreurs[cle] = {
                        text: remplacer(M.texte, { n: longueur(def) }),
                        textarea: remplacer(M.texte, { n: longueur(def) }),
                        email: T.courriel,
                        tel: M.telephone,
                        date: M.date,
                        number: M.nombre,
                        select: M.liste
                    }[def.type] || M.texte;
                }
                return;
            }
            var n = Array.from(v).length;
            switch (def.type) {
            case 'text':
            case 'textarea':
                if (def.type === 'text'
                    ? /[\x00-\x1f\x7f-\x9f]/.test(v)
                    : /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/.test(v)) {
                    erreurs[cle] = M.caractere;
                    return;
                }
                if (n > longueur(def)) {
                    erreurs[cle] = remplacer(M.texte, { n: longueur(def) });
                    return;
                }
                break;
            case 'email':
                if (n > longueur(def)) {
                    erreurs[cle] = T.courriel;
                    return;
                }
                if (!R.courrielValide(v)) {
                    erreurs[cle] = T.courrielForme;
                    return;
                }
                break;
            case 'tel':
                if (n > longueur(def)) {
                    erreurs[cle] = M.telephone;
                    return;
                }
                if (!R.telephoneValide(v)) {
                    erreurs[cle] = T.telephoneForme;
                    return;
                }
                break;
            case 'date':
                if (!dateExiste(v)) {
                    erreurs[cle] = M.dateForme;
                    return;
                }
                var refus = refusBornes(joursDe(v), bornesDate(def));
                if (refus) {
                    erreurs[cle] = refus;
                    return;
                }
                break;
            case 'number':
                var x = nombreDe(v);
                if (isNaN(x) || Math.abs(x) > 1e15
                    || (estNombre(def.min) && x * 1000 < Math.round(def.min * 1000))
                    || (estNombre(def.max) && x * 1000 > Math.round(def.max * 1000))) {
                    erreurs[cle] = messageNombre(def);
                    return;
                }
                break;
            case 'select':
                if (!(def.options || []).some(function (o) {
                    return o.value === v;
                })) {
                    erreurs[cle] = M.liste;
                    return;
                }
                break;
            default:
                break;
            }
            data[def.name] = v;
        });
    }

    /* Flow B: the applicant, as POST accounts checks a holder. */
    function verifierDemandeur(erreurs) {
        var d = demandeurSaisi();
        function erreur(cle, texte) {
            if (!erreurs['applicant.' + cle]) {
                erreurs['applicant.' + cle] = texte;
            }
        }
        if (!d.civility) {
            erreur('civility', T.civilite);
        }
        if (!d.first_name) {
            erreur('first_name', T.prenom);
        } else if (!R.nomValide(d.first_name)) {
            erreur('first_name', T.prenomForme);
        }
        if (!d.last_name) {
            erreur('last_name', T.nom);
        } else if (!R.nomValide(d.last_name)) {
            erreur('last_name', T.nomForme);
        }
        if (!d.birth_date) {
            erreur('birth_date', T.naissance);
        } else if (!R.dateValide(d.birth_date)) {
            erreur('birth_date', T.naissanceForme);
        }
        if (!d.email) {
            erreur('email', T.courriel);
        } else if (!R.courrielValide(d.email)) {
            erreur('email', T.courrielForme);
        }
        if (d.phone && !R.telephoneValide(d.phone)) {
            erreur('phone', T.telephoneForme);
        }
        if (!d.address.line) {
            erreur('address.line', T.adresseLigne);
        }
        if (!/^[0-9]{5}$/.test(d.address.postcode)) {
            erreur('address.postcode', T.codePostal);
        }
        if (!d.address.city) {
            erreur('address.city', T.commune);
        }
        var applicant = {
            civility: d.civility, first_name: d.first_name,
            last_name: d.last_name, birth_date: d.birth_date, email: d.email,
            address: d.address
        };
        if (d.phone) {
            applicant.phone = d.phone;
        }
        return applicant;
    }

    function suiviDemande() {
        if (etat.procedure.requires_account) {
            return true;
        }
        var r = document.querySelector('input[name="follow_up"]:checked');
        return r ? r.value === 'oui' : null;
    }

    /* Flow B with a follow-up: the new account's password and question. */
    function verifierSuivi(erreurs, corps, demandeur) {
        var suivi = suiviDemande();
        if (suivi === null) {
            erreurs.follow_up = M.suivi;
            return;
        }
        corps.follow_up = suivi;
        if (!suivi) {
            return;
        }
        var mdp = $('dm-mdp').value;
        var confirmation = $('dm-mdp-confirmation').value;
        var refus = R.motDePasseRefuse(mdp, [
            (demandeur.first_name || '') + ' ' + (demandeur.last_name || ''),
            demandeur.first_name, demandeur.last_name, demandeur.email
        ], false);
        if (refus) {
            erreurs.password = refus;
        } else if (confirmation !== mdp) {
            erreurs.password_confirm = T.mdpConfirmation;
        }
        var question = $('dm-question').value;
        if (!question) {
            erreurs.security_question_id = T.question;
        }
        var reponse = $('dm-reponse').value;
        if (!R.plier(reponse)) {
            erreurs.security_answer = T.reponse;
        }
        corps.password = mdp;
        corps.password_confirm = confirmation;
        corps.security_question_id = parseInt(question, 10) || null;
        corps.security_answer = reponse;
    }

    function contactChoisi() {
        var r = document.querySelector('input[name="contact_mode"]:checked');
        return r ? r.value : null;
    }

    /* ---------------------------------------------------------- views */

    function montrer(id, oui) {
        var el = $(id);
        if (el) {
            el.hidden = !oui;
        }
    }

    /* The groups' numbers, as the citizen reads them. */
    function numeroter() {
        var n = 0;
        tous('#form-demarche > .groupe').forEach(function (g) {
            var num = g.querySelector('.groupe__numero');
            if (!g.hidden && num) {
                n += 1;
                num.textContent = String(n);
            }
        });
    }

    function appliquerMode() {
        var sansCompte = etat.mode === 'sans-compte';
        tous('[data-si-sans-compte]').forEach(function (el) {
            el.hidden = !sansCompte;
        });
        tous('[data-si-compte]').forEach(function (el) {
            el.hidden = sansCompte;
        });
        if (sansCompte) {
            var oblige = etat.procedure.requires_account === true;
            montrer('dm-suivi', !oblige);
            montrer('dm-suivi-obligatoire', oblige);
            montrer('dm-compte', oblige || suiviDemande() === true);
        }
        numeroter();
        boutons();
    }

    /* The final buttons, for the mode and the request's state. */
    function boutons() {
        var brouillon = document.querySelector('#demande-actions [data-action="brouillon"]');
        var envoyer = document.querySelector('#demande-actions [data-action="envoyer"]');
        var supprimer = document.querySelector('#demande-actions [data-action="supprimer"]');
        var d = etat.demande;
        if (etat.mode === 'sans-compte') {
            brouillon.hidden = true;
            envoyer.hidden = false;
            envoyer.textContent = suiviDemande() ? 'Commencer la demande'
                                                 : 'Envoyer la demande';
            supprimer.hidden = true;
            return;
        }
        var etatDemande = d ? d.state : 'brouillon';
        brouillon.hidden = false;
        brouillon.textContent = etatDemande === 'brouillon'
                                ? 'Enregistrer le brouillon'
                                : 'Enregistrer les modifications';
        envoyer.hidden = etatDemande === 'en_attente';
        envoyer.textContent = etatDemande === 'incomplet'
                              ? 'Envoyer les compléments'
                              : 'Envoyer la demande';
        supprimer.hidden = !(d && d.state === 'brouillon');
    }

    /* What a state means: the FAQ's sentence, else the API's. */
    function sensDe(d) {
        var sens = P.sensEtat(d.state) || P.typo(d.state_meaning || '');
        return sens.charAt(0).toUpperCase() + sens.slice(1);
    }

    /* The request's reference and state, above its form. */
    function afficherEtatDemande() {
        var zone = $('demande-etat');
        var d = etat.demande;
        zone.textContent = '';
        zone.hidden = !d;
        if (!d) {
            return;
        }
        var p = creer('p', 'demande-etat__ligne');
        p.appendChild(document.createTextNode('Référence '));
        p.appendChild(creer('strong', null, d.reference || ''));
        p.appendChild(document.createTextNode(' – état : '));
        p.appendChild(P.badgeEtat(d.state));
        zone.appendChild(p);
        var sens = sensDe(d);
        if (sens) {
            zone.appendChild(creer('p', 'demande-etat__sens', sens));
        }
    }

    function titrePage() {
        document.title = etat.procedure.title
                         + ' – Mon Compte Citoyen – Mairie';
    }

    /* The procedure itself: title, theme, description, documents asked. */
    function afficherProcedure() {
        var p = etat.procedure;
        $('demarche-titre').textContent = p.title;
        titrePage();
        var desc = $('demarche-description');
        desc.textContent = p.description || '';
        desc.hidden = !p.description;

        var fil = $('fil-theme');
        fil.textContent = '';
        if (p.theme && p.theme.title) {
            var a = creer('a', null, p.theme.title);
            a.href = 'services.html#theme-'
                     + String(p.theme.slug || '').replace(/[^a-z0-9-]/g, '');
            fil.appendChild(a);
            fil.hidden = false;
        }
        var courant = $('fil-demarche');
        if (!courant) {
            courant = creer('li');
            courant.id = 'fil-demarche';
            courant.setAttribute('aria-current', 'page');
            fil.parentNode.appendChild(courant);
        }
        courant.textContent = p.title;

        var liste = $('liste-pieces-demandees');
        liste.textContent = '';
        (p.documents || []).forEach(function (d) {
            var li = creer('li', null, d.label || d.kind);
            li.appendChild(document.createTextNode(' '));
            li.appendChild(creer('span', 'facultatif',
                                 d.required ? '(demandée)'
                                            : '(si vous l’avez)'));
            liste.appendChild(li);
        });
        montrer('pieces-demandees', (p.documents || []).length > 0);

        montrer('acces-compte-requis', p.requires_account === true);
        $('sans-compte-texte').textContent = p.requires_account
            ? 'Saisissez vos informations, puis votre demande : votre compte '
              + 'est créé avec elle, pour que vous la suiviez.'
            : 'Saisissez vos informations, puis votre demande. Vous pourrez '
              + 'demander qu’un compte soit créé en même temps pour suivre '
              + 'votre demande.';
    }

    function dire(texte, genre) {
        return P.annoncer($('demarche-message'), texte, genre);
    }

    /* A message, then the focus on it: the result of an action. */
    function resultat(zone, texte, genre) {
        var p = P.annoncer(zone, texte, genre || 'succes');
        if (p) {
            p.tabIndex = -1;
            p.focus();
        }
        return p;
    }

    /* The choice of the way in, for a visitor. */
    function afficherAcces() {
        montrer('acces', true);
        montrer('demande', false);
        montrer('demande-fin', false);
        montrer('documents', false);
        montrer('compte-cree', false);
        /* A request to take up again needs its account. */
        var reprise = etat.idDemande !== null;
        var cadre = $('sans-compte-titre').parentNode;
        cadre.hidden = reprise;
        $('acces').querySelector('.acces').classList.toggle('acces--seul',
                                                            reprise);
    }

    function afficherFormulaire() {
        montrer('acces', etat.mode === 'sans-compte');
        montrer('demande', true);
        montrer('demande-fin', true);
        montrer('envoyee', false);
        afficherEtatDemande();
        appliquerMode();
        afficherDocuments();
    }

    /* Where the focus goes once the form is shown. */
    function focusFormulaire() {
        if (!$('demande').hidden) {
            $('demande-titre').focus();
            return;
        }
        var p = $('demarche-message').querySelector('p');
        if (p) {
            p.tabIndex = -1;
            p.focus();
        }
    }

    /* --------------------------------------------------- account mode */

    function chargerMe() {
        return P.appel('GET', 'me').then(function (res) {
            etat.me = res.ok && res.data && typeof res.data === 'object'
                      ? res.data : null;
        });
    }

    function chargerProcedure(slug) {
        return P.appel('GET', 'procedures/' + encodeURIComponent(slug))
            .then(function (res) {
                if (!res.ok || !res.data || !Array.isArray(res.data.fields)) {
                    $('demarche-titre').textContent = 'Démarche introuvable';
                    var p = dire(res.status === 404
                        ? 'Cette démarche n’existe pas ou n’est plus proposée '
                          + 'en ligne. '
                        : 'La démarche ne peut pas être affichée pour le '
                          + 'moment. ' + (res.ok ? P.MESSAGES.inattendu
                                                 : P.messageErreur(res,
                                                                   'demarche'))
                          + ' ', 'erreur');
                    var a = creer('a', null, 'Voir les démarches en ligne');
                    a.href = 'services.html';
                    p.appendChild(a);
                    return false;
                }
                etat.procedure = res.data;
                etat.slug = res.data.slug;
                afficherProcedure();
                return true;
            });
    }

    /* demarche.html?demande=<id>: the request, then its procedure. */
    function chargerDemande() {
        return P.appel('GET', 'requests/' + encodeURIComponent(etat.idDemande))
            .then(function (res) {
                if (!res.ok || !res.data || !res.data.procedure) {
                    $('demarche-titre').textContent = 'Demande introuvable';
                    var p = dire(res.status === 404
                        ? 'Cette demande est introuvable. '
                        : 'La demande ne peut pas être affichée pour le '
                          + 'moment. ' + P.messageErreur(res, 'demande') + ' ',
                        'erreur');
                    var a = creer('a', null, 'Voir mes demandes');
                    a.href = 'demandes.html';
                    p.appendChild(a);
                    return false;
                }
                etat.demande = res.data;
                var suite = etat.procedure
                    ? Promise.resolve(true)
                    : chargerProcedure(res.data.procedure.slug);
                return suite;
            });
    }

    /* A request the citizen may no longer change: its PDF. */
    function afficherNonModifiable() {
        var d = etat.demande;
        montrer('demande', false);
        montrer('demande-fin', false);
        montrer('documents', false);
        var p = dire('Votre demande ' + d.reference + ' est à l’état « '
                     + P.libelleEtat(d.state) + ' » : elle ne peut plus être '
                     + 'modifiée. ', 'info');
        var a = creer('a', 'lien-pdf', 'Consulter la demande au format PDF');
        a.href = P.urlPdf(d.id);
        a.target = '_blank';
        a.rel = 'noopener';
        a.appendChild(creer('span', 'visuellement-cache',
                            ' (nouvelle fenêtre)'));
        p.appendChild(a);
    }

    /*
     * Logged in: the account's information, then the form (with the
     * request when there is one).
     */
    function passerEnCompte() {
        etat.mode = 'compte';
        if (etat.crypto) {
            etat.crypto.masquer();
        }
        montrer('acces', false);
        var suite = chargerMe();
        if (etat.idDemande && !etat.demande) {
            suite = suite.then(chargerDemande);
        } else if (!etat.procedure) {
            suite = suite.then(function () { return false; });
        }
        return suite.then(function (ok) {
            if (ok === false || etat.mode !== 'compte') {
                return;
            }
            dire('');
            construireFormulaire();
            etat.champs.forEach(function (c) {
                if (c.def.type === 'member') {
                    remplirMembres(c);
                }
            });
            if (etat.demande) {
                if (!P.estModifiable(etat.demande)) {
                    afficherNonModifiable();
                    return;
                }
                remplirDepuis(etat.demande);
            } else {
                prereplir();
                choisirContact(etat.me && etat.me.contact_mode);
            }
            afficherFormulaire();
        });
    }

    /* Logged out (or never logged in): back to the choice. */
    function revenirAuChoix() {
        etat.mode = null;
        etat.me = null;
        etat.demande = null;
        if (etat.construit) {
            viderFormulaire();
        }
        tous('[data-action="commencer"]').forEach(function (b) {
            b.setAttribute('aria-expanded', 'false');
        });
        P.annoncer($('demarche-form-message'), '');
        if (etat.idDemande) {
            dire('Connectez-vous pour reprendre votre demande.', 'info');
        }
        afficherAcces();
    }

    /*
     * What the session allows: called at each change of it (portail:session)
     * and once the procedure is known.
     */
    function surSession() {
        var s = P.session;
        if (!s.connu || etat.termine) {
            return;
        }
        if (!etat.procedure && !etat.idDemande) {
            return;
        }
        if (s.authenticated && s.password_change_required) {
            montrer('acces', false);
            montrer('demande', false);
            montrer('demande-fin', false);
            montrer('documents', false);
            return;
        }
        if (s.authenticated) {
            if (etat.mode !== 'compte') {
                etat.pret = passerEnCompte();
            }
            return;
        }
        if (etat.mode === 'sans-compte' && !etat.idDemande) {
            return;
        }
        revenirAuChoix();
    }

    /* ----------------------------------------------------- flow B */

    function chargerQuestions() {
        if (etat.questions) {
            return etat.questions;
        }
        var select = $('dm-question');
        etat.questions = P.appel('GET', 'security-questions').then(function (res) {
            if (!res.ok || !Array.isArray(res.data)) {
                etat.questions = null;
                return;
            }
            res.data.forEach(function (q) {
                var opt = creer('option', null, q.label);
                opt.value = String(q.id);
                select.appendChild(opt);
            });
        });
        return etat.questions;
    }

    function commencerSansCompte(bouton) {
        etat.mode = 'sans-compte';
        bouton.setAttribute('aria-expanded', 'true');
        construireFormulaire();
        if (!contactChoisi()) {
            choisirContact('email');
        }
        if (!etat.crypto) {
            etat.crypto = new P.Cryptogramme($('dm-captcha'), 'dm-captcha');
        }
        etat.crypto.afficher();
        chargerQuestions();
        prereplir();
        afficherFormulaire();
        $('demande-titre').focus();
    }

    function initSansCompte() {
        var f = $('form-demarche');
        tous('[data-action="commencer"]').forEach(function (b) {
            b.addEventListener('click', function () {
                if (etat.mode === 'sans-compte') {
                    $('demande-titre').focus();
                    return;
                }
                commencerSansCompte(b);
            });
        });
        /* The applicant's identity fills what the form asks of them. */
        $('groupe-demandeur').addEventListener('input', function () {
            if (etat.mode === 'sans-compte') {
                prereplir();
            }
        });
        $('groupe-demandeur').addEventListener('change', function () {
            if (etat.mode === 'sans-compte') {
                prereplir();
            }
        });
        tous('input[name="follow_up"]', f).forEach(function (r) {
            r.addEventListener('change', function () {
                appliquerMode();
            });
        });
        $('dm-mdp-afficher').addEventListener('change', function (ev) {
            ['dm-mdp', 'dm-mdp-confirmation'].forEach(function (id) {
                $(id).type = ev.target.checked ? 'text' : 'password';
            });
        });
    }

    /* ------------------------------------------------------- sending */

    /*
     * The Idempotency-Key of an attempt: the same for a retry of the same
     * body after no answer came, a new one otherwise.
     */
    function cleePour(corps) {
        var texte = JSON.stringify(corps);
        if (!etat.cle || etat.corpsCle !== texte) {
            etat.cle = P.nouvelleCle();
            etat.corpsCle = texte;
        }
        return etat.cle;
    }

    /* An answer came: the next attempt is a new one. */
    function oublierCle(res) {
        if (res.status !== 0 && !(res.status === 409 && res.erreur
                                  && res.erreur.code === 'idempotency_running')) {
            etat.cle = null;
            etat.corpsCle = null;
        }
    }

    function occuper(oui) {
        P.occupe($('form-demarche'), oui);
        P.occupe($('demande-fin'), oui);
    }

    function zoneFin() {
        return $('demarche-form-message');
    }

    /* The API refused the form: its fields beside the fields. */
    function refus(res, titre) {
        var f = $('form-demarche');
        P.annoncer(zoneFin(), '');
        if (etat.crypto && P.cryptogrammeRefuse(res)) {
            res.erreur.fields = { captcha_answer: etat.crypto.refuse(res) };
        }
        if (res.status === 401) {
            /* The session ended: log in again, here. */
            P.chargerSession().then(function () {
                P.afficherEtat();
                resultat($('demarche-message'), P.messageErreur(res, 'demarche'),
                         'erreur');
            });
            return;
        }
        P.erreursApi(f, res, 'demarche');
        if (!(res.erreur && res.erreur.fields)) {
            var recap = f.querySelector('.recap-erreurs');
            if (recap && titre) {
                recap.insertBefore(creer('p', null, titre), recap.children[1]
                                                        || null);
            }
        }
    }

    function envoyerSansCompte() {
        var f = $('form-demarche');
        var erreurs = {};
        var data = {};
        var applicant = verifierDemandeur(erreurs);
        verifierChamps(erreurs, data);
        var contact = contactChoisi();
        if (!contact) {
            erreurs.contact_mode = T.contact;
        } else if (contact === 'phone' && !applicant.phone) {
            erreurs.contact_mode = T.contactTelephone;
        }
        var corps = {
            procedure: etat.procedure.slug,
            applicant: applicant,
            data: data,
            contact_mode: contact
        };
        verifierSuivi(erreurs, corps, applicant);
        var probleme = etat.crypto.verifier();
        if (probleme) {
            erreurs.captcha_answer = probleme;
        }
        if (Object.keys(erreurs).length) {
            P.annoncer(zoneFin(), '');
            P.afficherErreurs(f, 'Votre demande n’est pas encore envoyée : '
                              + 'certaines informations sont à corriger.',
                              erreurs);
            return;
        }
        var v = etat.crypto.valeurs();
        corps.captcha_id = v.captcha_id;
        corps.captcha_answer = v.captcha_answer;
        var cle = cleePour(corps);

        P.effacerErreurs(f);
        occuper(true);
        P.annoncer(zoneFin(), 'Envoi de votre demande…', 'info');
        P.appel('POST', 'requests', corps, { entetes: { 'Idempotency-Key': cle } })
            .then(function (res) {
                occuper(false);
                oublierCle(res);
                if (!res.ok || !res.data || !res.data.id) {
                    refus(res, null);
                    return;
                }
                etat.crypto.masquer();
                if (res.data.login) {
                    compteCree(res.data);
                    return;
                }
                envoyee(res.data, applicant.email);
            });
    }

    /*
     * Flow B with a follow-up: the account exists and this page's session
     * is its own (the answer's anti-CSRF token); the request is its draft.
     */
    function compteCree(d) {
        var login = d.login;
        if (typeof d.csrf_token === 'string') {
            P.session.csrf_token = d.csrf_token;
        }
        var demande = {};
        Object.keys(d).forEach(function (k) {
            if (k !== 'login' && k !== 'csrf_token' && k !== 'account_id') {
                demande[k] = d[k];
            }
        });
        etat.demande = demande;
        etat.idDemande = demande.id;
        history.replaceState(null, '', 'demarche.html?demande='
                                       + encodeURIComponent(demande.id));
        viderSecrets();
        P.annoncer(zoneFin(), '');
        P.chargerSession().then(function () {
            P.afficherEtat();
            return etat.pret;
        }).then(function () {
            $('compte-cree-login').textContent = login;
            $('compte-cree-reference').textContent = demande.reference;
            montrer('compte-cree', true);
            $('compte-cree-titre').focus();
        });
    }

    function viderSecrets() {
        ['dm-mdp', 'dm-mdp-confirmation', 'dm-reponse'].forEach(function (id) {
            $(id).value = '';
        });
    }

    /* Sent: its reference and state; the documents stay while editable. */
    function envoyee(d, courriel) {
        etat.demande = d;
        montrer('acces', false);
        montrer('demande', false);
        montrer('demande-fin', false);
        montrer('compte-cree', false);
        $('envoyee-reference').textContent = d.reference || '';
        var etatEl = $('envoyee-etat');
        etatEl.textContent = '';
        etatEl.appendChild(P.badgeEtat(d.state));
        $('envoyee-sens').textContent = sensDe(d);
        var avecCompte = etat.mode === 'compte';
        montrer('envoyee-suivi', avecCompte);
        montrer('envoyee-courriel', !avecCompte);
        montrer('envoyee-sans-compte', !avecCompte);
        if (!avecCompte) {
            etat.termine = true;
            $('envoyee-adresse').textContent = courriel || '';
        }
        montrer('envoyee', true);
        afficherDocuments();
        $('envoyee-titre').focus();
    }

    function verifierAvecCompte(brouillon) {
        var erreurs = {};
        var data = {};
        verifierChamps(erreurs, data, brouillon);
        var contact = contactChoisi();
        var telephone = etat.me && etat.me.holder && etat.me.holder.phone;
        if (!contact) {
            erreurs.contact_mode = T.contact;
        } else if (contact === 'phone' && !telephone) {
            erreurs.contact_mode = T.contactTelephone;
        }
        var corps = { data: data, contact_mode: contact };
        var membre = etat.champs.filter(function (c) {
            return c.def.type === 'member';
        })[0];
        if (membre && membre.el.value) {
            corps.member_id = membre.el.value;
        }
        return { erreurs: erreurs, corps: corps };
    }

    function enregistrer(action) {
        var f = $('form-demarche');
        var d = etat.demande;
        /* en attente or incomplet, the request is the town's: it stays whole */
        var v = verifierAvecCompte(action !== 'envoyer'
                                   && (!d || d.state === 'brouillon'));
        if (Object.keys(v.erreurs).length) {
            P.annoncer(zoneFin(), '');
            P.afficherErreurs(f, (action === 'envoyer'
                                  ? 'Votre demande n’est pas encore envoyée'
                                  : 'Votre demande n’est pas enregistrée')
                              + ' : certaines informations sont à corriger.',
                              v.erreurs);
            return;
        }
        P.effacerErreurs(f);
        occuper(true);
        P.annoncer(zoneFin(), action === 'envoyer' ? 'Envoi de votre demande…'
                                                   : 'Enregistrement…', 'info');
        var premier;
        if (d) {
            premier = P.appel('PUT', 'requests/' + encodeURIComponent(d.id),
                              v.corps);
        } else {
            var corps = { procedure: etat.procedure.slug };
            Object.keys(v.corps).forEach(function (k) {
                corps[k] = v.corps[k];
            });
            premier = P.appel('POST', 'requests', corps,
                              { entetes: { 'Idempotency-Key': cleePour(corps) } });
        }
        premier.then(function (res) {
            if (!d) {
                oublierCle(res);
            }
            if (!res.ok || !res.data || !res.data.id) {
                occuper(false);
                refus(res, null);
                return;
            }
            var nouvelle = !d;
            etat.demande = res.data;
            if (nouvelle) {
                etat.idDemande = res.data.id;
                history.replaceState(null, '', 'demarche.html?demande='
                                     + encodeURIComponent(res.data.id));
            }
            afficherEtatDemande();
            boutons();
            afficherDocuments();
            if (action !== 'envoyer') {
                occuper(false);
                resultat(zoneFin(), nouvelle
                    ? 'Votre brouillon est enregistré sous la référence '
                      + res.data.reference + '. Ajoutez-y vos pièces '
                      + 'justificatives si vous les avez, puis envoyez la '
                      + 'demande, maintenant ou plus tard depuis l’onglet '
                      + '« Demandes ».'
                    : 'Vos modifications sont enregistrées.');
                return;
            }
            return soumettre(nouvelle);
        });
    }

    /* POST requests/{id}/submit: brouillon → en attente, incomplet → rectifié. */
    function soumettre(nouvelle) {
        var d = etat.demande;
        var chemin = 'requests/' + encodeURIComponent(d.id) + '/submit';
        return P.appel('POST', chemin, undefined,
                       { entetes: { 'Idempotency-Key': cleePour(chemin) } })
            .then(function (res) {
                occuper(false);
                oublierCle(res);
                if (!res.ok || !res.data || !res.data.id) {
                    refus(res, (nouvelle ? 'Votre demande est enregistrée en '
                                + 'brouillon sous la référence ' + d.reference
                                : 'Vos modifications sont enregistrées')
                          + ', mais elle n’a pas pu être envoyée. Réessayez '
                          + '« Envoyer la demande ».');
                    return;
                }
                envoyee(res.data, null);
            });
    }

    function supprimerBrouillon(bouton) {
        var d = etat.demande;
        P.confirmer({
            titre: 'Supprimer le brouillon ' + d.reference + ' ?',
            texte: 'Ce brouillon « ' + etat.procedure.title + ' » et ses pièces '
                   + 'seront supprimés. Vous pourrez recommencer la démarche.',
            bouton: 'Supprimer le brouillon',
            declencheur: bouton
        }).then(function (oui) {
            if (!oui) {
                return;
            }
            occuper(true);
            P.appel('DELETE', 'requests/' + encodeURIComponent(d.id))
                .then(function (res) {
                    occuper(false);
                    if (!res.ok && res.status !== 404) {
                        resultat(zoneFin(), 'Le brouillon n’a pas été supprimé. '
                                 + P.messageErreur(res, 'demande'), 'erreur');
                        return;
                    }
                    etat.demande = null;
                    etat.idDemande = null;
                    history.replaceState(null, '', 'demarche.html?p='
                                         + encodeURIComponent(etat.slug));
                    viderFormulaire();
                    etat.champs.forEach(function (c) {
                        if (c.def.type === 'member') {
                            remplirMembres(c);
                        }
                    });
                    prereplir();
                    choisirContact(etat.me && etat.me.contact_mode);
                    afficherFormulaire();
                    resultat($('demarche-message'), 'Le brouillon '
                             + d.reference + ' est supprimé. Vous pouvez '
                             + 'recommencer la démarche ci-dessous.');
                });
        });
    }

    function initFormulaire() {
        var f = $('form-demarche');
        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            if (!etat.procedure || !etat.mode) {
                return;
            }
            var b = ev.submitter;
            var action = b ? b.getAttribute('data-action') : 'brouillon';
            if (etat.mode === 'sans-compte') {
                envoyerSansCompte();
                return;
            }
            if (action === 'envoyer' && etat.demande
                && etat.demande.state === 'en_attente') {
                action = 'brouillon';
            }
            enregistrer(action === 'envoyer' ? 'envoyer' : 'brouillon');
        });
        var supprimer = document.querySelector(
            '#demande-actions [data-action="supprimer"]');
        supprimer.addEventListener('click', function () {
            if (etat.demande && etat.demande.state === 'brouillon') {
                supprimerBrouillon(supprimer);
            }
        });
    }

    /* ----------------------------------------------- the access box */

    function initAcces() {
        var f = $('form-acces');
        var zone = $('acces-message');
        var login = f.elements.namedItem('login');
        var mdp = f.elements.namedItem('password');
        etat.cryptoAcces = new P.Cryptogramme($('acces-captcha'), 'acces-captcha');
        var crypto = etat.cryptoAcces;

        function erreur(champ, texte) {
            var e = {};
            e[champ.getAttribute('data-champ')] = texte;
            P.afficherErreurs(f, null, e, { recap: false });
            P.annoncer(zone, texte, 'erreur');
        }

        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.effacerErreurs(f);
            var avecCrypto = crypto.visible();
            if (!login.value.trim()) {
                erreur(login, T.identifiant);
                return;
            }
            if (!mdp.value) {
                erreur(mdp, T.motDePasse);
                return;
            }
            if (avecCrypto) {
                var probleme = crypto.verifier();
                if (probleme) {
                    erreur(crypto.input, probleme);
                    return;
                }
            }
            P.occupe(f, true);
            P.annoncer(zone, 'Connexion en cours…', 'info');
            P.ouvrirSession(login.value.trim(), mdp.value,
                            avecCrypto ? crypto.valeurs() : null)
                .then(function (res) {
                    P.occupe(f, false);
                    if (res.ok) {
                        crypto.masquer();
                        mdp.value = '';
                        P.annoncer(zone, '');
                        P.annoncer($('espace-message'), 'Vous êtes connecté.',
                                   'succes');
                        P.focusApresConnexion();
                        return;
                    }
                    if (P.demandeCryptogramme(res)) {
                        crypto.afficher();
                        P.annoncer(zone, P.messageErreur(res, 'connexion'),
                                   'erreur');
                        crypto.input.focus();
                        return;
                    }
                    if (P.cryptogrammeRefuse(res)) {
                        erreur(crypto.input, crypto.refuse(res));
                        return;
                    }
                    if (avecCrypto) {
                        crypto.nouveau('refus');
                    }
                    if (res.status === 401) {
                        mdp.value = '';
                        erreur(mdp, P.messageErreur(res, 'connexion'));
                        return;
                    }
                    P.annoncer(zone, P.messageErreur(res, 'connexion'), 'erreur');
                });
        });

        /* The lost password is the login box's: it asks the question. */
        f.querySelector('[data-action="oubli"]').addEventListener('click',
            function (ev) {
                var boite = $('identifiant');
                var lien = $('lien-oubli');
                if (!boite || !lien) {
                    return;
                }
                ev.preventDefault();
                boite.value = login.value.trim();
                lien.click();
            });
    }

    /* ------------------------------------------------------ documents */

    function libellePiece(kind) {
        var d = (etat.procedure.documents || []).filter(function (x) {
            return x.kind === kind;
        })[0];
        return d ? d.label : (kind === 'autre' ? 'Autre pièce' : kind);
    }

    function idPiece(d) {
        return 'piece-' + String(d.id).replace(/[^A-Za-z0-9_-]/g, '');
    }

    function listePieces() {
        var conteneur = $('liste-documents');
        var docs = (etat.demande && etat.demande.documents) || [];
        conteneur.textContent = '';
        if (!docs.length) {
            conteneur.appendChild(creer('p', 'documents__vide',
                'Aucune pièce déposée pour cette demande.'));
            return;
        }
        var ul = creer('ul', 'documents');
        docs.forEach(function (d) {
            var li = creer('li', 'document');
            var nom = creer('p', 'document__nom', d.filename || 'Document');
            nom.id = idPiece(d);
            nom.tabIndex = -1;
            li.appendChild(nom);
            li.appendChild(creer('p', 'document__details',
                [d.label || libellePiece(d.kind), taille(d.size),
                 d.created_at ? 'déposé le ' + P.dateFr(d.created_at) : '']
                    .filter(Boolean).join(' – ')));
            ul.appendChild(li);
        });
        conteneur.appendChild(ul);
    }

    function afficherDocuments() {
        var d = etat.demande;
        var oui = !!(d && etat.mode === 'compte' && P.session.authenticated
                     && P.estModifiable(d));
        montrer('documents', oui);
        if (!oui) {
            return;
        }
        var select = $('document-type');
        var garde = select.value;
        select.textContent = '';
        (etat.procedure.documents || []).concat([{ kind: 'autre',
                                                   label: 'Autre pièce' }])
            .forEach(function (x) {
                var opt = creer('option', null, x.label || x.kind);
                opt.value = x.kind;
                select.appendChild(opt);
            });
        if (garde) {
            select.value = garde;
        }
        listePieces();
    }

    function messageEnvoi(res) {
        if (res.status === 404 || res.status === 405) {
            return P.MESSAGES.indisponible;
        }
        return P.messageEnvoi(res);
    }

    function initDocuments() {
        var f = $('form-document');
        var fichier = $('document-fichier');
        var type = $('document-type');
        var envoi = $('envoi');
        var barre = $('envoi-progression');
        var pourcentage = $('envoi-pourcentage');
        var zone = $('document-message');

        function avancer(part) {
            var n = Math.max(0, Math.min(100, Math.round(part * 100)));
            barre.value = n;
            barre.textContent = n + ' %';
            pourcentage.textContent = n + '\u00a0%';
        }

        f.addEventListener('submit', function (ev) {
            ev.preventDefault();
            P.annoncer(zone, '');
            // the last upload's outcome is no longer news
            P.annoncer($('documents-message'), '');
            if (!etat.demande) {
                return;
            }
            if (!fichier.files || !fichier.files.length) {
                P.afficherErreurs(f, 'Aucun fichier choisi.', {
                    file: 'Joignez le document (PDF, JPEG ou PNG).'
                });
                return;
            }
            var choisi = fichier.files[0];
            P.effacerErreurs(f);
            var donnees = new FormData();
            donnees.append('kind', type.value);
            donnees.append('file', choisi, choisi.name);
            avancer(0);
            envoi.hidden = false;
            P.occupe(f, true);
            P.annoncer(zone, 'Envoi de « ' + choisi.name + ' » en cours…', 'info');
            barre.focus();
            P.envoyerFichier('requests/' + encodeURIComponent(etat.demande.id)
                             + '/documents', donnees, avancer)
                .then(function (res) {
                    P.occupe(f, false);
                    if (!res.ok || !res.data || !res.data.id) {
                        envoi.hidden = true;
                        P.annoncer(zone, '');
                        var champs = res.erreur && res.erreur.fields;
                        P.afficherErreurs(f, 'La pièce n’a pas été déposée.',
                            champs && Object.keys(champs).length
                                ? champs : { file: messageEnvoi(res) });
                        return;
                    }
                    avancer(1);
                    etat.demande.documents = ((etat.demande.documents || [])
                        .filter(function (x) { return x.id !== res.data.id; }))
                        .concat([res.data]);
                    listePieces();
                    fichier.value = '';
                    P.annoncer(zone, '');
                    P.annoncer($('documents-message'), 'La pièce « '
                               + (res.data.filename || choisi.name) + ' » ('
                               + (res.data.label || libellePiece(res.data.kind))
                               + ') est déposée.', 'succes');
                    var nom = $(idPiece(res.data));
                    if (nom) {
                        nom.focus();
                    }
                });
        });
    }

    /* ----------------------------------------------------------- start */

    function demarrer() {
        var params = new URLSearchParams(window.location.search);
        var slug = params.get('p');
        var id = params.get('demande');
        etat.idDemande = id && /^[A-Za-z0-9-]{1,64}$/.test(id) ? id : null;

        initAcces();
        initSansCompte();
        initFormulaire();
        initDocuments();

        /* Logged in from the login box: the focus goes to the form. */
        P.surConnexion = function () {
            if (!etat.procedure && !etat.idDemande) {
                return false;
            }
            etat.pret.then(focusFormulaire);
            return true;
        };
        P.surSession(surSession);

        var pret;
        if (etat.idDemande) {
            pret = Promise.resolve(true);
        } else if (slug) {
            pret = chargerProcedure(slug);
        } else {
            $('demarche-titre').textContent = 'Démarche en ligne';
            var p = dire('Aucune démarche n’est choisie. ', 'info');
            var a = creer('a', null, 'Choisissez une démarche en ligne');
            a.href = 'services.html';
            p.appendChild(a);
            pret = Promise.resolve(false);
        }
        pret.then(function (ok) {
            if (ok) {
                if (!etat.idDemande) {
                    dire('');
                }
                surSession();
            }
            /* Tells tests that the page has what it needs. */
            document.documentElement.setAttribute('data-demarche', 'pret');
        });
    }

    demarrer();
}());
