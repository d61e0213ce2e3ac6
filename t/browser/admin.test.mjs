// The agents' pages (/admin/) in headless Chromium: every page and state
// with zero axe violation at 1280 px and 375 px and nothing wider than a
// phone, under the strict Content-Security-Policy; against a stand-in API
// (routes intercepted in the browser) what the server cannot easily be made
// to show (a second page of a list, every kind of item, an instructeur);
// then, against the real API, an admin printing a letter, making a call
// and retrying a failed mail, and an agent and a citizen in two browser
// contexts taking a request from "en attente" to "validé".
//
//   PORTAL_BASE_URL=http://127.0.0.1:8080 node --test t/browser/admin.test.mjs

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE_URL, url, launch, waitReady, runAxe, formatViolations,
    screenshotPath, fakeApi, BUREAU, TELEPHONE, sansDebordement, focus,
    psql, uniqueLetters, ClientApi, creerCompteApi, waitForMail, captchaAnswer,
    adresseDesTests, contexteCsp, surveillerPage, texteFocus,
} from './lib.mjs';

const PAGES = [
    { chemin: '/admin/', nom: 'agents-accueil', titre: 'Espace agents' },
    { chemin: '/admin/comptes.html', nom: 'agents-comptes', titre: 'Comptes à valider' },
    { chemin: '/admin/compte.html?id=a1', nom: 'agents-compte',
      titre: 'Compte de Mme Camille Martin' },
    { chemin: '/admin/demandes.html', nom: 'agents-file', titre: 'File des demandes' },
    { chemin: '/admin/demande.html?id=r1', nom: 'agents-demande',
      titre: 'Demande 2026-000042' },
    { chemin: '/admin/courriers.html', nom: 'agents-courriers', titre: 'Courriers et appels' },
    { chemin: '/admin/courriels.html', nom: 'agents-courriels', titre: 'Courriels en échec',
      admin: true },
    { chemin: '/admin/journal.html', nom: 'agents-journal', titre: 'Journal des accès',
      admin: true },
];

// ------------------------------------------------ the stand-in's answers

const ANONYME = { authenticated: false, login: null, role: null, csrf_token: 'jeton-anonyme' };

function sessionDe(role) {
    return {
        authenticated: true, login: role === 'admin' ? 'alice.admin' : 'ines.instructrice',
        role, name: role === 'admin' ? 'Alice Durand' : 'Inès Moreau',
        themes: role === 'admin' ? [] : [{ slug: 'etat-civil', title: 'État civil' }],
        csrf_token: `jeton-${role}`,
    };
}

const TITULAIRE = {
    civility: 'Mme', first_name: 'Camille', last_name: 'Martin', birth_date: '1984-02-11',
    email: 'camille.martin@example.org', phone: '02 40 11 22 33',
    address: { line: '3 place du Marché', postcode: '44000', city: 'Nantes' },
};

function compteItem(i) {
    return {
        id: `a${i}`, login: `camille.martin${i}`, validated: false, contact_mode: 'email',
        created_at: `2026-11-${String(28 - (i % 20)).padStart(2, '0')}T10:00:00+01:00`,
        holder: { ...TITULAIRE, first_name: i === 1 ? 'Camille' : `Camille${'e'.repeat(i % 3)}` },
        members: i % 3, documents: i % 2, cursor: `c${i}`,
    };
}

const COMPTE = {
    id: 'a1', login: 'camille.martin', validated: false, validated_at: null,
    contact_mode: 'email', holder: TITULAIRE,
    members: [{ id: 'm1', kind: 'child', civility: 'M', first_name: 'Léo', last_name: 'Martin',
                name: 'Léo Martin', birth_date: '2015-06-01' }],
    documents: [{ id: 'd1', kind: 'justificatif_domicile', filename: 'facture-edf.pdf',
                  content_type: 'application/pdf', size: 48213, sha256: 'ab',
                  created_at: '2026-11-27T09:00:00+01:00' }],
    requests: [], created_at: '2026-11-27T08:55:00+01:00',
};

function demandeItem(i, etat = 'en_attente') {
    return {
        id: `r${i}`, reference: `2026-${String(42 + i).padStart(6, '0')}`,
        procedure: { slug: 'signalement-voirie', title: 'Signalement sur la voirie' },
        theme: { slug: 'cadre-de-vie', title: 'Cadre de vie' },
        state: etat, state_label: etat.replace('_', ' '),
        applicant: { name: 'Camille Martin', login: 'camille.martin' },
        contact_mode: 'email', member: null,
        submitted_at: '2026-11-28T10:00:00+01:00', updated_at: '2026-11-28T10:00:00+01:00',
        cursor: `k${i}`,
    };
}

const LIBELLES = {
    en_attente: 'en attente', en_traitement: 'en traitement', incomplet: 'incomplet',
    rectifie: 'rectifié', complet: 'complet', rejete: 'rejeté', annule: 'annulé',
    valide: 'validé',
};

// The stand-in's state machine: what GET requests/{id} offers from a state.
const SUITES = {
    en_attente: ['en_traitement', 'annule'],
    en_traitement: ['incomplet', 'complet', 'rejete', 'valide', 'annule'],
};

function demande(etat, messages = []) {
    return {
        id: 'r1', reference: '2026-000042',
        procedure: { slug: 'signalement-voirie', title: 'Signalement sur la voirie',
                     theme: { slug: 'cadre-de-vie', title: 'Cadre de vie' } },
        state: etat, state_label: LIBELLES[etat], state_meaning: 'Un agent s’occupe de votre demande.',
        contact_mode: 'email', member: null, applicant: null, data: {},
        created_at: '2026-11-28T09:50:00+01:00', updated_at: '2026-11-28T10:00:00+01:00',
        submitted_at: '2026-11-28T10:00:00+01:00',
        history: [{ at: '2026-11-28T10:00:00+01:00', from: 'brouillon', to: 'en_attente',
                    actor: 'citizen', agent: null, motive: null }],
        documents: [{ id: 'd9', kind: 'photo', label: 'Photo', filename: 'trou.jpg',
                      content_type: 'image/jpeg', size: 120000, sha256: 'cd',
                      created_at: '2026-11-28T09:55:00+01:00' }],
        editable: false, pdf: true,
        account: { id: 'a1', login: 'camille.martin', validated: true, ...TITULAIRE },
        contact: { mode: 'email', label: 'Par courriel', channel: 'email',
                   recipient: 'camille.martin@example.org' },
        answers: [{ name: 'lieu', label: 'Lieu', value: '12 rue des Lilas' },
                  { name: 'description', label: 'Description',
                    value: 'Un trou profond au milieu de la chaussée.' }],
        messages,
        transitions: (SUITES[etat] || []).map((to) => ({
            to, label: LIBELLES[to], motive_required: to === 'rejete',
        })),
    };
}

const LETTRE = {
    id: 'l1', due_at: '2026-11-28T10:00:00+01:00', printed_at: null, printed_by: null,
    recipient: 'Mme Camille Martin\n3 place du Marché\n44000 Nantes',
    subject: 'Votre demande 2026-000042', body: 'Madame, …',
    request: { id: 'r1', reference: '2026-000042' }, message_id: 'm7', cursor: 'l1',
};

const APPEL = {
    id: 'p1', due_at: '2026-11-28T10:00:00+01:00', done_at: null, done_by: null, note: null,
    name: 'Mme Camille Martin', phone: '02 40 11 22 33', subject: 'Votre demande 2026-000042',
    body: 'Bonjour Madame, votre demande est en traitement.',
    request: { id: 'r1', reference: '2026-000042' }, message_id: 'm8', cursor: 'p1',
};

const COURRIEL = {
    id: 77, recipient: 'camille.martin@example.org', subject: 'Votre compte citoyen est validé',
    state: 'failed', attempts: 8, last_error: '550 5.1.1 mailbox unavailable',
    created_at: '2026-11-27T10:00:00+01:00', next_attempt_at: null, sent_at: null,
    request: null, cursor: 'o77',
};

const JOURNAL = {
    id: 5, at: '2026-11-28T10:05:00+01:00', action: 'request_read',
    agent: { id: 'g1', login: 'ines.instructrice', name: 'Inès Moreau' },
    account_id: 'a1', request_id: 'r1', detail: null, client_addr: '192.0.2.10', cursor: 'j5',
};

// Every route of the stand-in, for a session of the given role.
function reponses(role) {
    const s = role ? sessionDe(role) : ANONYME;
    return {
        'GET session': { json: s },
        'GET accounts': { json: [compteItem(1), compteItem(2)] },
        'GET accounts/a1': { json: COMPTE },
        'GET requests': { json: [demandeItem(0), demandeItem(1, 'en_traitement')] },
        'GET requests/r1': { json: demande('en_attente') },
        'GET letters': { json: [LETTRE] },
        'GET calls': { json: [APPEL] },
        'GET outbox': { json: [COURRIEL] },
        'GET audit': { json: [JOURNAL] },
    };
}

// ----------------------------------------------------------- the browser

let browser;

before(async () => {
    try {
        const r = await fetch(url('/admin/'));
        await r.arrayBuffer();
        if (!r.ok) {
            throw new Error(`HTTP ${r.status}`);
        }
    } catch (e) {
        throw new Error(`the portal does not answer at ${BASE_URL}/admin/ (${e.message}); `
            + 'start it (make run) or set PORTAL_BASE_URL');
    }
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
});

async function ouvrir(options = {}) {
    const context = await browser.newContext({
        bypassCSP: true, locale: 'fr-FR', viewport: BUREAU, ...options,
    });
    const page = await context.newPage();
    const erreurs = [];
    page.on('pageerror', (e) => erreurs.push(e.message));
    return { context, page, erreurs };
}

async function sansViolation(page, label) {
    const violations = await runAxe(page);
    assert.equal(violations.length, 0, '\n' + formatViolations(label, violations));
}

async function sansDepasser(page, label) {
    const d = await sansDebordement(page);
    assert.ok(d.scrollWidth <= d.clientWidth,
              `${label}: ${d.scrollWidth} px wide in ${d.clientWidth} (${d.larges.join(', ')})`);
}

// Both widths: axe, nothing wider than a phone, a screenshot of each.
async function deuxLargeurs(page, nom) {
    await page.setViewportSize(BUREAU);
    await sansViolation(page, `${nom} at 1280 px`);
    await page.screenshot({ path: screenshotPath(`${nom}.png`), fullPage: true });
    await page.setViewportSize(TELEPHONE);
    await sansDepasser(page, `${nom} at 375 px`);
    await sansViolation(page, `${nom} at 375 px`);
    await page.screenshot({ path: screenshotPath(`${nom}-mobile.png`), fullPage: true });
    await page.setViewportSize(BUREAU);
}

// The page's content loaded (admin.js says so once its first load is done).
async function contenuPret(page) {
    await page.waitForSelector('html[data-admin="pret"]', { state: 'attached', timeout: 60000 });
}

// A live region once it says something final (not "…en cours…") that
// matches motif: what it said before the action is not taken for its answer.
async function messageFinal(page, selecteur, motif) {
    try {
        await page.waitForFunction(([s, source]) => {
            const t = document.querySelector(s).textContent.trim();
            return t && !t.endsWith('…') && new RegExp(source).test(t);
        }, [selecteur, motif.source], { timeout: 60000 });
    } catch (e) {
        throw new Error(`${selecteur} never said ${motif}: `
                        + `"${(await page.locator(selecteur).textContent()).trim()}"`);
    }
    return (await page.locator(selecteur).textContent()).trim();
}

// Tab (Shift+Tab when arriere) until the element matching selecteur has the
// focus.
async function tabJusqua(page, selecteur, max = 60, arriere = false) {
    for (let i = 0; i < max; i++) {
        await page.keyboard.press(arriere ? 'Shift+Tab' : 'Tab');
        if (await page.evaluate((s) => document.activeElement
                                && document.activeElement.matches(s), selecteur)) {
            return;
        }
    }
    throw new Error(`${selecteur} never got the keyboard focus in ${max} Tab presses`);
}

// ------------------------------------------------------- the stand-in API

describe('agents\' pages against a stand-in API', () => {
    for (const role of [null, 'admin']) {
        test(`every page ${role ? 'logged in as admin' : 'anonymous'}: one h1, the tabs, `
             + 'zero axe violation at 1280 and 375 px, nothing wider than a phone',
             { timeout: 180000 }, async () => {
            const { context, page, erreurs } = await ouvrir();
            try {
                await fakeApi(page, '/admin/api/', reponses(role));
                for (const p of PAGES) {
                    await page.goto(url(p.chemin));
                    await waitReady(page);
                    if (role) {
                        await contenuPret(page);
                        assert.equal((await page.locator('h1').textContent()).trim(), p.titre);
                        assert.equal(await page.locator('[data-agent-nom]').first().textContent(),
                                     'Alice Durand');
                        assert.equal(await page.locator('[data-role]').textContent(),
                                     'administrateur');
                    } else {
                        await page.getByRole('button', { name: 'Connexion', exact: true }).waitFor();
                    }
                    assert.equal(await page.locator('h1').count(), 1, `${p.chemin}: one h1`);
                    const nav = page.getByRole('navigation', { name: 'Navigation de l’espace agents' });
                    const courant = nav.locator('a[aria-current="page"]');
                    assert.equal(await courant.count(), 1, `${p.chemin}: its tab is current`);
                    await deuxLargeurs(page, `${p.nom}${role ? '-connecte' : ''}`);
                }
                assert.deepEqual(erreurs, [], 'no script error');
            } finally {
                await context.close();
            }
        });
    }

    // The browser runs other tasks between two deferred scripts while the
    // second downloads: GET session may be answered and shown before the
    // page's script listens. Holding admin.js until then makes that certain.
    test('a page script that arrives after the session\'s answer still loads its page',
         { timeout: 180000 }, async () => {
        const { context, page, erreurs } = await ouvrir();
        try {
            await fakeApi(page, '/admin/api/', reponses('admin'));
            let retenu = 0;
            await page.route('**/js/admin.js', async (route) => {
                await page.waitForSelector('html[data-portail="pret"]',
                                           { state: 'attached', timeout: 60000 });
                retenu++;
                await route.continue();
            });
            for (const p of [PAGES[0], PAGES[1], PAGES[4]]) {
                await page.goto(url(p.chemin));
                await waitReady(page);
                await contenuPret(page);
                assert.equal((await page.locator('h1').textContent()).trim(), p.titre);
            }
            assert.ok(retenu >= 1, 'admin.js was held');
            assert.deepEqual(erreurs, [], 'no script error');
        } finally {
            await context.close();
        }
    });

    test('an instructeur: no admin tab, the admin pages say so and ask nothing of the API',
         { timeout: 180000 }, async () => {
        const { context, page, erreurs } = await ouvrir();
        try {
            const calls = await fakeApi(page, '/admin/api/', reponses('instructeur'));
            await page.goto(url('/admin/'));
            await waitReady(page);
            const nav = page.getByRole('navigation', { name: 'Navigation de l’espace agents' });
            await nav.getByRole('link', { name: 'File des demandes' }).waitFor();
            assert.equal(await nav.getByRole('link', { name: 'Courriels en échec' }).count(), 0);
            assert.equal(await nav.getByRole('link', { name: 'Journal' }).count(), 0);
            assert.equal(await page.getByRole('link', { name: 'Journal des accès' }).count(), 0);
            assert.equal(await page.locator('[data-role]').textContent(), 'instructeur');
            assert.match(await page.locator('[data-agent-themes]').textContent(), /État civil/);
            for (const p of PAGES.filter((x) => x.admin)) {
                await page.goto(url(p.chemin));
                await waitReady(page);
                await page.getByText('Cette page est réservée aux administrateurs').waitFor();
                await sansViolation(page, `${p.chemin} as an instructeur`);
            }
            await page.goto(url('/admin/demande.html?id=r1'));
            await waitReady(page);
            await contenuPret(page);
            assert.equal(await page.getByRole('link', { name: /Journal des accès/ }).count(), 0,
                         'no link to the audit log');
            assert.deepEqual(calls.filter((c) => /^GET (outbox|audit)/.test(c.key)), [],
                             'no call to the admin routes');
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('accounts to validate: "Voir plus" asks for the page after the last cursor and '
         + 'puts the focus on the first new row; the account\'s file and its validation',
         { timeout: 180000 }, async () => {
        const { context, page } = await ouvrir({ viewport: TELEPHONE });
        try {
            let valide = false;
            const premiers = Array.from({ length: 20 }, (_, i) => compteItem(i + 1));
            const calls = await fakeApi(page, '/admin/api/', {
                ...reponses('admin'),
                'GET accounts': ({ calls: c }) => {
                    const dernier = c[c.length - 1].key;
                    return { json: /page=c20/.test(dernier) ? [compteItem(21)] : premiers };
                },
                'GET accounts/a1': () => ({ json: { ...COMPTE, validated: valide } }),
                'POST accounts/a1/validate': () => {
                    valide = true;
                    return { json: { ...COMPTE, validated: true } };
                },
            });
            await page.goto(url('/admin/comptes.html'));
            await waitReady(page);
            await contenuPret(page);
            assert.equal(await page.locator('#comptes-liste tbody tr').count(), 20);
            await messageFinal(page, '#comptes-message', /20 comptes affichés/);
            const premier = calls.find((c) => c.key.startsWith('GET accounts?'));
            assert.match(premier.key, /validated=false/);
            assert.doesNotMatch(premier.key, /page=/);

            await page.getByRole('button', { name: 'Voir plus' }).focus();
            await page.keyboard.press('Enter');
            await page.waitForFunction(() => document.querySelectorAll(
                '#comptes-liste tbody tr').length === 21);
            assert.ok(calls.some((c) => /^GET accounts\?.*page=c20/.test(c.key)));
            assert.equal(await focus(page), 'Mme Camille Martin');
            assert.equal(await page.evaluate(() => document.activeElement.closest('tr').id),
                         'compte-a21');
            assert.equal(await page.getByRole('button', { name: 'Voir plus' }).isVisible(), false,
                         'no "Voir plus" after a short page');
            await messageFinal(page, '#comptes-message', /21 comptes affichés en tout/);
            await sansDepasser(page, 'accounts at 375 px');

            await page.goto(url('/admin/compte.html?id=a1'));
            await waitReady(page);
            await contenuPret(page);
            const piece = page.getByRole('link', { name: /facture-edf\.pdf/ });
            assert.equal(await piece.getAttribute('href'), url('/admin/api/accounts/a1/documents/d1'));
            assert.match(await page.locator('#membres-titre + *').textContent(), /Léo Martin \(enfant\)/);
            await page.getByRole('button', { name: 'Valider le compte' }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#compte-message', /Le compte est validé/);
            assert.equal(await focus(page), 'compte-etat');
            assert.match(await page.locator('#compte-etat').textContent(), /validé/);
            assert.equal(await page.getByRole('button', { name: 'Valider le compte' }).count(), 0);
            const post = calls.find((c) => c.key === 'POST accounts/a1/validate');
            assert.equal(post.headers['x-csrf-token'], 'jeton-admin');
            await deuxLargeurs(page, 'agents-compte-valide');
        } finally {
            await context.close();
        }
    });

    test('the work queue: filters sent as the API names them, an unknown name refused '
         + 'beside its field, the focus on the results', { timeout: 180000 }, async () => {
        const { context, page } = await ouvrir();
        try {
            const calls = await fakeApi(page, '/admin/api/', {
                ...reponses('admin'),
                'GET requests': ({ calls: c }) => (/q=zz/.test(c[c.length - 1].key)
                    ? { status: 422, json: { error: { code: 'validation',
                        message: 'Certaines informations sont à corriger.',
                        fields: { q: 'Saisissez de 2 à 100 caractères.' } } } }
                    : { json: [demandeItem(0)] }),
            });
            await page.goto(url('/admin/demandes.html?state=en_attente'));
            await waitReady(page);
            await contenuPret(page);
            assert.equal(await page.locator('#filtre-etat').inputValue(), 'en_attente');
            assert.ok(calls.some((c) => /^GET requests\?state=en_attente&limit=20$/.test(c.key)),
                      calls.map((c) => c.key).join(', '));
            // the catalogue of the citizens' API fills the themes
            assert.ok(await page.locator('#filtre-theme option').count() > 1);
            const theme = await page.locator('#filtre-theme option').nth(1).getAttribute('value');
            await page.locator('#filtre-theme').selectOption(theme);
            await page.locator('#filtre-texte').fill('Martin');
            await page.locator('#filtre-texte').press('Enter');
            await page.waitForFunction(() => document.activeElement
                                       && document.activeElement.id === 'resultats-titre');
            const dernier = calls.filter((c) => c.key.startsWith('GET requests?')).pop();
            const q = new URL(`http://x/${dernier.key.slice(4)}`).searchParams;
            assert.equal(q.get('state'), 'en_attente');
            assert.equal(q.get('theme'), theme);
            assert.equal(q.get('q'), 'Martin');
            assert.match(page.url(), /q=Martin/);
            assert.equal(await page.getByRole('link', { name: '2026-000042' }).getAttribute('href'),
                         'demande.html?id=r0');

            await page.locator('#filtre-texte').fill('z');
            await page.locator('#filtre-texte').press('Enter');
            await page.getByText('Saisissez au moins 2 caractères, ou rien.').waitFor();
            assert.equal(await focus(page), 'filtre-texte');
            await page.locator('#filtre-texte').fill('zz');
            await page.locator('#filtre-texte').press('Enter');
            await page.getByText('Saisissez de 2 à 100 caractères.').waitFor();
            assert.equal(await page.locator('#filtre-texte').getAttribute('aria-invalid'), 'true');
            await deuxLargeurs(page, 'agents-file-erreur');
        } finally {
            await context.close();
        }
    });

    test('a request\'s file: only the moves offered, a rejection without motive refused, '
         + 'a move with its message, a message scheduled then cancelled',
         { timeout: 180000 }, async () => {
        const { context, page } = await ouvrir();
        try {
            let etat = 'en_traitement';
            let messages = [];
            const calls = await fakeApi(page, '/admin/api/', {
                ...reponses('admin'),
                'GET requests/r1': () => ({ json: demande(etat, messages) }),
                'POST requests/r1/transition': ({ body }) => {
                    etat = body.to;
                    return { json: demande(etat, messages) };
                },
                'POST requests/r1/messages': ({ body }) => {
                    messages = [{ id: 'm1', kind: body.kind, channel: 'email',
                                  recipient: 'camille.martin@example.org',
                                  subject: 'Information sur votre demande 2026-000042',
                                  body: body.body, created_at: '2026-11-28T11:00:00+01:00',
                                  send_at: body.send_at, sent_at: body.send_at,
                                  cancelled_at: null, cancellable: true,
                                  request: { id: 'r1', reference: '2026-000042' },
                                  agent: { id: 'g1', login: 'alice.admin', name: 'Alice Durand' },
                                  letter: null, call: null }];
                    return { status: 201, json: messages[0] };
                },
                'DELETE messages/m1': () => {
                    messages = [{ ...messages[0], cancelled_at: '2026-11-28T11:01:00+01:00',
                                  cancellable: false }];
                    return { json: messages[0] };
                },
            });
            await page.goto(url('/admin/demande.html?id=r1'));
            await waitReady(page);
            await contenuPret(page);
            const boutons = await page.locator('#form-transition button').allTextContents();
            assert.deepEqual(boutons, ['Passer à l’état « incomplet »', 'Passer à l’état « complet »',
                                       'Passer à l’état « rejeté »', 'Passer à l’état « validé »',
                                       'Passer à l’état « annulé »']);
            assert.equal(await page.getByRole('link', { name: /trou\.jpg/ }).getAttribute('href'),
                         url('/admin/api/requests/r1/documents/d9'));
            await page.getByText('12 rue des Lilas').waitFor();

            // a rejection needs its motive: refused by the page
            await page.getByRole('button', { name: 'Passer à l’état « rejeté »' }).focus();
            await page.keyboard.press('Enter');
            await page.getByText(/Saisissez le motif/).waitFor();
            assert.equal(await focus(page), 'transition-motif');
            assert.equal(calls.filter((c) => c.key.startsWith('POST')).length, 0);

            // incomplet, with a message
            await page.locator('#transition-message').fill('Il manque la photo du trou.');
            await page.getByRole('button', { name: 'Passer à l’état « incomplet »' }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#demande-message', /maintenant « incomplet »/);
            assert.equal(await focus(page), 'demande-etat');
            const post = calls.find((c) => c.key === 'POST requests/r1/transition');
            assert.deepEqual(post.body, { to: 'incomplet', from: 'en_traitement',
                                          message: 'Il manque la photo du trou.' });
            assert.equal(await page.locator('#form-transition').count(), 0,
                         'no move of the agents from incomplet');
            await page.getByText('Aucun changement d’état n’est possible depuis '
                                 + 'l’état « incomplet ».').waitFor();

            // a scheduled information, then cancelled through the dialogue
            await page.locator('#message-texte').fill('Nous passerons constater demain.');
            await page.getByLabel('Programmer l’envoi à une date et une heure').check();
            const demain = new Date(Date.now() + 2 * 86400000);
            const jour = `${demain.getFullYear()}-${String(demain.getMonth() + 1).padStart(2, '0')}-`
                         + `${String(demain.getDate()).padStart(2, '0')}`;
            await page.locator('#message-date').fill(jour);
            await page.locator('#message-heure').fill('08:30');
            await page.getByRole('button', { name: 'Envoyer le message' }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#demande-message', /programmé pour le/);
            const envoi = calls.find((c) => c.key === 'POST requests/r1/messages');
            assert.equal(envoi.body.kind, 'information');
            assert.equal(envoi.body.body, 'Nous passerons constater demain.');
            assert.equal(new Date(envoi.body.send_at).getTime(),
                         new Date(`${jour}T08:30`).getTime());
            assert.equal(await focus(page), 'message-m1');
            await deuxLargeurs(page, 'agents-demande-message-programme');

            await page.getByRole('button', { name: 'Annuler l’envoi programmé' }).focus();
            await page.keyboard.press('Enter');
            await page.getByRole('dialog').waitFor();
            await sansViolation(page, 'cancel dialogue');
            await page.keyboard.press('Escape');
            assert.equal(await texteFocus(page), 'Annuler l’envoi programmé');
            assert.equal(calls.filter((c) => c.key.startsWith('DELETE')).length, 0);
            await page.keyboard.press('Enter');
            await page.getByRole('dialog').getByRole('button', { name: 'Annuler l’envoi' }).click();
            await messageFinal(page, '#demande-message', /est annulé/);
            assert.match(await page.locator('#message-m1').textContent(), /annulé le/);
            assert.equal(await focus(page), 'message-m1');

            // An admin's link to the request's audit log.
            await page.getByRole('link', { name: 'Journal des accès à cette demande' })
                .press('Enter');
            await page.waitForURL(/journal\.html\?request=r1$/);
            await waitReady(page);
            await contenuPret(page);
            assert.equal(await page.locator('#journal-titre').textContent(),
                         'Entrées d’une demande');
            assert.ok(calls.some((c) => c.key === 'GET audit?request=r1&limit=20'),
                      calls.map((c) => c.key).join(', '));
            await page.getByRole('cell', { name: '192.0.2.10' }).waitFor();
            await sansViolation(page, 'the audit log of a request');
        } finally {
            await context.close();
        }
    });

    test('letters marked printed, calls made with a note, failed mail retried',
         { timeout: 180000 }, async () => {
        const { context, page } = await ouvrir({ viewport: TELEPHONE });
        try {
            const calls = await fakeApi(page, '/admin/api/', {
                ...reponses('admin'),
                'POST letters/l1/printed': { json: { ...LETTRE,
                                                     printed_at: '2026-11-28T11:00:00+01:00' } },
                'POST calls/p1/done': ({ body }) => ({ json: { ...APPEL,
                    done_at: '2026-11-28T11:00:00+01:00', note: body.note } }),
                'POST outbox/77/retry': { json: { ...COURRIEL, state: 'pending', attempts: 0 } },
            });
            await page.goto(url('/admin/courriers.html'));
            await waitReady(page);
            await contenuPret(page);
            assert.equal(await page.getByRole('link', { name: /Lettre à imprimer/ })
                .getAttribute('href'), url('/admin/api/letters/l1.pdf'));
            await page.getByRole('button', { name: /Marquer imprimée la lettre 2026-000042/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#lettres-message', /marquée imprimée/);
            assert.match(await texteFocus(page), /^Imprimée le/);

            await page.getByLabel('Note de l’appel (facultatif)').fill('Messagerie, rappel demain.');
            await page.getByRole('button', { name: /Appel effectué : Mme Camille Martin/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#appels-message', /noté comme effectué/);
            assert.match(await texteFocus(page), /^Appel effectué le .* Messagerie, rappel demain\./);
            assert.deepEqual(calls.find((c) => c.key === 'POST calls/p1/done').body,
                             { note: 'Messagerie, rappel demain.' });
            await sansDepasser(page, 'letters and calls done at 375 px');
            await sansViolation(page, 'letters and calls done');

            await page.goto(url('/admin/courriels.html'));
            await waitReady(page);
            await contenuPret(page);
            await page.getByText('550 5.1.1 mailbox unavailable (8 essais)').waitFor();
            await page.getByRole('button', { name: /Réessayer le courriel/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#courriels-message', /remis en file/);
            assert.equal(await texteFocus(page), 'Nouvel essai en cours');
            assert.ok(calls.some((c) => c.key === 'POST outbox/77/retry'));
        } finally {
            await context.close();
        }
    });
});

describe('agents\' pages under the strict Content-Security-Policy', () => {
    test('no violation, no script error, no request to another origin', { timeout: 180000 },
         async () => {
        const { context } = await contexteCsp(browser);
        try {
            for (const p of PAGES) {
                const page = await context.newPage();
                const problemes = [];
                surveillerPage(page, problemes);
                await page.goto(url(p.chemin));
                await waitReady(page);
                problemes.push(...await page.evaluate(() => window.__violations));
                assert.deepEqual(problemes, [], p.chemin);
                await page.close();
            }
        } finally {
            await context.close();
        }
    });
});

// ------------------------------------------------------------ the real API

// The password whose Argon2id hash is AGENT_HASH (that of the Perl tests'
// agents, t/lib/Test/Portal/Agents.pm): agents are made as `make agent`
// makes them, by portal.agent_upsert() as the owner.
const AGENT_PASSWORD = 'Un mot de passe assez long';
const AGENT_HASH = '$argon2id$v=19$m=65536,t=2,p=1$S9mAcdUCP0okLCdodKjMjw'
                   + '$Cf4uNSokvFc8WjZ5VUmBykDry1w5NtwA8RP/bSVW//8';

function majuscule(s) {
    return s.charAt(0).toUpperCase() + s.slice(1);
}

describe('an agent and a citizen, against the real API', () => {
    let debut = null;

    before(() => {
        debut = psql('SELECT now()');
    });

    // The failures this run made from the tests' address, taken back so that
    // reruns within 15 minutes do not meet the address's limit.
    after(() => {
        if (debut) {
            psql('DELETE FROM portal.auth_failures WHERE scope = \'addr\' '
                 + `AND key = '${adresseDesTests()}' AND at >= '${debut}'`);
        }
    });

    test('past 5 failed logins the agents\' login box asks for the captcha, as the '
         + 'citizens\' does, and logs in with it', { timeout: 120000 }, async () => {
        const login = `agent.${uniqueLetters(8)}`;
        psql(`SELECT portal.agent_upsert('${login}', 'admin', '${AGENT_HASH}', `
             + '\'Alice Durand\', NULL)');
        const api = new ClientApi('/admin/api/');
        for (let i = 0; i < 5; i++) {
            const r = await api.appel('POST', 'session', { login, password: `pas le bon ${i}` });
            assert.equal(r.status, 401, JSON.stringify(r.data));
        }
        const { context, page, erreurs } = await ouvrir({ viewport: TELEPHONE });
        try {
            await page.goto(url('/admin/'));
            await waitReady(page);
            await page.locator('#identifiant').fill(login);
            await page.locator('#mot-de-passe').fill(AGENT_PASSWORD);
            await page.locator('#mot-de-passe').press('Enter');
            await page.waitForFunction(() => {
                const img = document.querySelector('#connexion-captcha-image');
                return img && img.getAttribute('data-captcha-id') && img.complete
                       && img.naturalWidth > 0 && !img.closest('[hidden]');
            }, null, { timeout: 30000 });
            assert.equal(await focus(page), 'connexion-captcha-reponse');
            await messageFinal(page, '#connexion-message', /recopiez le texte de l’image/);
            const id = await page.locator('#connexion-captcha-image')
                .getAttribute('data-captcha-id');
            assert.match(await page.locator('#connexion-captcha-image').getAttribute('src'),
                         /\/admin\/api\/captcha\/[0-9a-f-]{36}\.png$/);
            await sansViolation(page, '/admin/ asking for the captcha');
            await sansDepasser(page, '/admin/ asking for the captcha');
            await page.screenshot({ path: screenshotPath('agents-cryptogramme-mobile.png'),
                                    fullPage: true });
            await page.keyboard.type(captchaAnswer(id));
            await page.keyboard.press('Enter');
            await page.waitForFunction(() => document.activeElement
                                       && document.activeElement.id === 'mon-espace-titre');
            assert.equal(await page.locator('[data-role]').textContent(), 'administrateur');
            const nav = page.getByRole('navigation', { name: 'Navigation de l’espace agents' });
            await nav.getByRole('link', { name: 'Courriels en échec' }).waitFor();
            await nav.getByRole('link', { name: 'Journal' }).waitFor();

            // The admin's pages read the real API: a list or its empty
            // sentence, never an error.
            for (const [chemin, zone, nom] of [
                ['/admin/courriels.html', '#courriels-message', 'agents-reel-courriels'],
                ['/admin/journal.html', '#journal-message', 'agents-reel-journal']]) {
                await page.goto(url(chemin));
                await waitReady(page);
                await contenuPret(page);
                await messageFinal(page, zone, /affiché|Aucun|vide/);
                assert.equal(await page.locator(`${zone} .alerte--erreur`).count(), 0);
                await deuxLargeurs(page, nom);
            }
            assert.ok(await page.locator('#journal-liste tbody tr').count() > 0
                      || psql('SELECT count(*) FROM portal.audit_log') === '0',
                      'the audit log\'s rows listed');
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    // The rows of a list, page after page ("Voir plus"), until the one wanted
    // is there: earlier runs on the same database may have left rows before.
    async function jusquaLigne(page, liste, ligne) {
        for (let i = 0; i < 50; i++) {
            if (await page.locator(`${liste} ${ligne}`).count() > 0) {
                return page.locator(`${liste} ${ligne}`);
            }
            const plus = page.locator(`${liste} .liste__plus button`);
            if (!await plus.isVisible()) {
                break;
            }
            const avant = await page.locator(`${liste} tbody tr`).count();
            await plus.click();
            await page.waitForFunction(([l, n]) => document.querySelectorAll(
                `${l} tbody tr`).length > n, [liste, avant]);
        }
        throw new Error(`${ligne} is not in ${liste}`);
    }

    test('a letter printed, a call made, a failed mail retried: the admin at work on what '
         + 'the real API lists', { timeout: 300000 }, async (t) => {
        const lettres = uniqueLetters(8);
        const agent = { login: `admin.${lettres}`, nom: `Admin ${majuscule(lettres)}` };
        psql(`SELECT portal.agent_upsert('${agent.login}', 'admin', '${AGENT_HASH}', `
             + `'${agent.nom}', NULL)`);
        const citoyen = {
            prenom: 'Camille', nom: majuscule(uniqueLetters(9)),
            email: `lettre.${lettres}@example.org`,
            password: `Une phrase de passe ${lettres}`, answer: 'Nantes',
        };
        const compte = await creerCompteApi(citoyen);
        const api = new ClientApi();
        const s = await api.appel('POST', 'session', { login: compte.login,
                                                       password: citoyen.password });
        assert.equal(s.status, 200, JSON.stringify(s.data));

        // Two requests answered by post and by phone, and a message on each.
        const adm = new ClientApi('/admin/api/');
        const a = await adm.appel('POST', 'session', { login: agent.login,
                                                       password: AGENT_PASSWORD });
        assert.equal(a.status, 200, JSON.stringify(a.data));
        const demandes = {};
        for (const mode of ['post', 'phone']) {
            const cree = await api.appel('POST', 'requests', {
                procedure: 'signalement-voirie', contact_mode: mode,
                data: { nature: 'chaussee', lieu: `${mode} rue des Lilas`,
                        description: 'Un trou profond au milieu de la chaussée.' },
            });
            assert.equal(cree.status, 201, JSON.stringify(cree.data));
            const envoi = await api.appel('POST', `requests/${cree.data.id}/submit`);
            assert.equal(envoi.status, 200, JSON.stringify(envoi.data));
            const m = await adm.appel('POST', `requests/${cree.data.id}/messages`, {
                kind: 'information', body: `Le trou sera comblé lundi (${mode} ${lettres}).`,
            });
            assert.equal(m.status, 201, JSON.stringify(m.data));
            demandes[mode] = cree.data;
        }
        const idLettre = psql('SELECT l.id FROM portal.letters l JOIN portal.messages m '
                              + 'ON m.id = l.message_id '
                              + `WHERE m.request_id = '${demandes.post.id}'`);
        const idAppel = psql('SELECT c.id FROM portal.calls c JOIN portal.messages m '
                             + 'ON m.id = c.message_id '
                             + `WHERE m.request_id = '${demandes.phone.id}'`);
        assert.match(idLettre, /^[0-9a-f-]{36}$/, 'a letter to print');
        assert.match(idAppel, /^[0-9a-f-]{36}$/, 'a call to make');

        // A mail of the citizen's that the relay refused for good.
        await waitForMail({ to: citoyen.email, match: /signalement/i });
        const idCourriel = psql('UPDATE portal.outbox SET state = \'failed\', attempts = 8, '
            + 'last_error = \'550 5.1.1 boîte inconnue\', sent_at = NULL '
            + 'WHERE id = (SELECT max(id) FROM portal.outbox '
            + `WHERE recipient = '${citoyen.email}' AND state = 'sent') RETURNING id`);
        assert.match(idCourriel, /^[0-9]+$/, 'a mail made to fail');
        t.diagnostic(`admin ${agent.login}, letter ${idLettre}, call ${idAppel}, `
                     + `mail ${idCourriel}`);

        const { context, page, erreurs } = await ouvrir();
        try {
            await page.goto(url('/admin/courriers.html'));
            await waitReady(page);
            await page.locator('#identifiant').fill(agent.login);
            await page.locator('#mot-de-passe').fill(AGENT_PASSWORD);
            await page.locator('#mot-de-passe').press('Enter');
            await contenuPret(page);

            // The letter: its PDF, then marked printed with the keyboard.
            const lettre = await jusquaLigne(page, '#lettres-liste', `#lettre-${idLettre}`);
            assert.match(await lettre.innerText(),
                         new RegExp(`${demandes.post.reference}[\\s\\S]*${citoyen.nom}`
                                    + '[\\s\\S]*3 place du Marché[\\s\\S]*44000 Nantes'));
            const lien = lettre.getByRole('link', { name: /Lettre à imprimer/ });
            assert.equal(await lien.getAttribute('href'),
                         url(`/admin/api/letters/${idLettre}.pdf`));
            const pdf = await context.request.get(await lien.getAttribute('href'));
            assert.equal(pdf.status(), 200);
            assert.match(pdf.headers()['content-type'], /^application\/pdf/);
            assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
            await deuxLargeurs(page, 'agents-reel-courriers');
            await lettre.getByRole('button', { name: /Marquer imprimée la lettre/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#lettres-message', /marquée imprimée/);
            assert.match(await texteFocus(page), /^Imprimée le/);
            assert.equal(psql('SELECT a.login FROM portal.letters l JOIN portal.agents a '
                              + `ON a.id = l.printed_by WHERE l.id = '${idLettre}'`),
                         agent.login, 'printed, by this agent');

            // The call: the number to dial, a note, then done.
            const appel = await jusquaLigne(page, '#appels-liste', `#appel-${idAppel}`);
            assert.equal(await appel.getByRole('link', { name: '02 40 11 22 33' })
                .getAttribute('href'), 'tel:0240112233');
            const note = `Messagerie ${lettres}, rappel demain.`;
            await appel.getByLabel('Note de l’appel (facultatif)').fill(note);
            await appel.getByRole('button', { name: /Appel effectué/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#appels-message', /noté comme effectué/);
            assert.match(await texteFocus(page), new RegExp(`^Appel effectué le .*${note}`));
            assert.equal(psql(`SELECT note FROM portal.calls WHERE id = '${idAppel}' `
                              + 'AND done_at IS NOT NULL'), note);
            await deuxLargeurs(page, 'agents-reel-courriers-faits');

            // The failed mail: shown with the relay's answer, then retried.
            await page.goto(url('/admin/courriels.html'));
            await waitReady(page);
            await contenuPret(page);
            const courriel = await jusquaLigne(page, '#courriels-liste',
                                               `#courriel-${idCourriel}`);
            assert.match(await courriel.innerText(),
                         new RegExp(`${citoyen.email}[\\s\\S]*550 5\\.1\\.1 boîte inconnue`));
            await deuxLargeurs(page, 'agents-reel-courriels-echec');
            await courriel.getByRole('button', { name: /Réessayer le courriel/ }).focus();
            await page.keyboard.press('Enter');
            await messageFinal(page, '#courriels-message', /remis en file/);
            assert.notEqual(psql(`SELECT state FROM portal.outbox WHERE id = ${idCourriel}`),
                            'failed', 'queued again');
            assert.equal(psql('SELECT count(*) FROM portal.audit_log au '
                              + 'JOIN portal.agents a ON a.id = au.agent_id '
                              + `WHERE a.login = '${agent.login}' `
                              + 'AND au.action IN (\'letter_printed\', \'call_done\', '
                              + '\'outbox_retry\')'), '3',
                         'the three actions in the audit log');
            assert.deepEqual(erreurs, [], 'no script error');
        } finally {
            await context.close();
        }
    });

    test('validated, taken, incomplete with a message, completed by the citizen, validated; '
         + 'each state and message seen on both sides, the agent with the keyboard only',
         { timeout: 420000 }, async (t) => {
        const lettres = uniqueLetters(8);
        const citoyen = {
            prenom: 'Camille', nom: majuscule(uniqueLetters(9)),
            email: `adm.${lettres}@example.org`,
            password: `Une phrase de passe ${lettres}`, answer: 'Nantes',
        };
        const agent = { login: `agent.${lettres}`, nom: `Agent ${majuscule(lettres)}` };

        // The agent, and what the citizen did before: an account, a request sent.
        psql(`SELECT portal.agent_upsert('${agent.login}', 'instructeur', '${AGENT_HASH}', `
             + `'${agent.nom}', '{}'::text[])`);
        const compte = await creerCompteApi(citoyen);
        const idCompte = psql(`SELECT id FROM portal.accounts WHERE login = '${compte.login}'`);
        const api = new ClientApi();
        const s = await api.appel('POST', 'session', { login: compte.login,
                                                       password: citoyen.password });
        assert.equal(s.status, 200, JSON.stringify(s.data));
        const cree = await api.appel('POST', 'requests', {
            procedure: 'signalement-voirie',
            data: { nature: 'chaussee', lieu: '12 rue des Lilas',
                    description: 'Un trou profond au milieu de la chaussée.' },
        });
        assert.equal(cree.status, 201, JSON.stringify(cree.data));
        const { id, reference } = cree.data;
        const envoi = await api.appel('POST', `requests/${id}/submit`);
        assert.equal(envoi.status, 200, JSON.stringify(envoi.data));
        assert.equal(envoi.data.state, 'en_attente');
        t.diagnostic(`agent ${agent.login}, account ${compte.login}, request ${reference}`);

        const ag = await ouvrir();
        const ci = await ouvrir({ viewport: TELEPHONE });
        const page = ag.page;
        try {
            // Logged in with the keyboard: skip link, the login box.
            await page.goto(url('/admin/'));
            await waitReady(page);
            await tabJusqua(page, '#identifiant');
            await page.keyboard.type(agent.login);
            await page.keyboard.press('Tab');
            await page.keyboard.type(AGENT_PASSWORD);
            await page.keyboard.press('Enter');
            await page.waitForFunction(() => document.activeElement
                                       && document.activeElement.id === 'mon-espace-titre');
            assert.equal(await page.locator('[data-agent-nom]').first().textContent(), agent.nom);
            assert.equal(await page.locator('[data-role]').textContent(), 'instructeur');
            const nav = page.getByRole('navigation', { name: 'Navigation de l’espace agents' });
            assert.equal(await nav.getByRole('link', { name: 'Courriels en échec' }).count(), 0,
                         'an instructeur is not shown the admin\'s tabs');
            assert.equal(await nav.getByRole('link', { name: 'Journal' }).count(), 0);
            await deuxLargeurs(page, 'agents-reel-accueil');

            // The account, validated.
            await tabJusqua(page, 'a[href="comptes.html"]', 60, true);
            await page.keyboard.press('Enter');
            await page.waitForURL(/comptes\.html/);
            await waitReady(page);
            await contenuPret(page);
            await deuxLargeurs(page, 'agents-reel-comptes');
            await tabJusqua(page, `#compte-${idCompte} a`, 200);
            await page.keyboard.press('Enter');
            await page.waitForURL(/compte\.html\?id=/);
            await waitReady(page);
            await contenuPret(page);
            assert.equal((await page.locator('h1').textContent()).trim(),
                         `Compte de Mme ${citoyen.prenom} ${citoyen.nom}`);
            await deuxLargeurs(page, 'agents-reel-compte');
            await tabJusqua(page, '[data-action="valider-compte"]');
            await page.keyboard.press('Enter');
            await messageFinal(page, '#compte-message', /Le compte est validé/);
            assert.equal(await focus(page), 'compte-etat');
            assert.equal(psql(`SELECT validated FROM portal.accounts WHERE id = '${idCompte}'`), 't');
            await deuxLargeurs(page, 'agents-reel-compte-valide');

            // The request, found by its reference in the queue.
            await tabJusqua(page, 'a[href="demandes.html"]', 60, true);
            await page.keyboard.press('Enter');
            await page.waitForURL(/demandes\.html/);
            await waitReady(page);
            await contenuPret(page);
            await tabJusqua(page, '#filtre-texte');
            await page.keyboard.type(reference);
            await page.keyboard.press('Enter');
            await page.waitForFunction(() => document.activeElement
                                       && document.activeElement.id === 'resultats-titre');
            assert.equal(await page.locator('#file-liste tbody tr').count(), 1);
            assert.match(await page.locator('#file-liste tbody tr').innerText(),
                         new RegExp(`${reference}[\\s\\S]*${citoyen.nom}[\\s\\S]*en attente`));
            await deuxLargeurs(page, 'agents-reel-file');
            await page.keyboard.press('Tab');
            assert.equal(await texteFocus(page), reference);
            await page.keyboard.press('Enter');
            await page.waitForURL(/demande\.html\?id=/);
            await waitReady(page);
            await contenuPret(page);
            assert.deepEqual(await page.locator('#form-transition button').allTextContents(),
                             ['Passer à l’état « en traitement »', 'Passer à l’état « annulé »'],
                             'the moves of en_attente, and no other');
            await page.getByText('12 rue des Lilas').waitFor();
            await deuxLargeurs(page, 'agents-reel-demande-en-attente');

            // Taken: en_attente → en_traitement.
            await tabJusqua(page, '#form-transition button[value="en_traitement"]');
            await page.keyboard.press('Enter');
            await messageFinal(page, '#demande-message', /maintenant « en traitement »/);
            assert.equal(await focus(page), 'demande-etat');
            const suites = await page.locator('#form-transition button').evaluateAll(
                (bs) => bs.map((b) => b.value).sort());
            assert.deepEqual(suites, ['annule', 'complet', 'incomplet', 'rejete', 'valide']);
            await deuxLargeurs(page, 'agents-reel-demande-en-traitement');

            // Incomplete, with a message to the citizen.
            const manque = `Il manque la photo du trou ${lettres}.`;
            await tabJusqua(page, '#transition-message');
            await page.keyboard.type(manque);
            await tabJusqua(page, '#form-transition button[value="incomplet"]');
            await page.keyboard.press('Enter');
            await messageFinal(page, '#demande-message', /maintenant « incomplet »/);
            assert.equal(await page.locator('#form-transition').count(), 0,
                         'no move of the agents from incomplet');
            assert.match(await page.locator('#etat-action-titre + p').textContent(),
                         /Aucun changement d’état/);
            assert.match(await page.locator('#messages').innerText(), new RegExp(manque));
            await deuxLargeurs(page, 'agents-reel-demande-incomplet');
            await waitForMail({ to: citoyen.email, match: new RegExp(manque) });

            // The citizen sees it, and completes the request.
            const cp = ci.page;
            await cp.goto(url('/demandes.html'));
            await waitReady(cp);
            await cp.locator('#identifiant').fill(compte.login);
            await cp.locator('#mot-de-passe').fill(citoyen.password);
            await cp.getByRole('button', { name: 'Connexion', exact: true }).press('Enter');
            const ligne = cp.locator(`#demande-${id}`);
            await ligne.waitFor();
            assert.match(await ligne.innerText(), /incomplet/);
            await cp.locator('[data-messages] li').first().waitFor();
            assert.match(await cp.locator('[data-messages]').innerText(), new RegExp(manque));
            await sansViolation(cp, 'demandes.html with a message, 375 px');
            await sansDepasser(cp, 'demandes.html with a message');
            await cp.screenshot({ path: screenshotPath('demandes-messages-mobile.png'),
                                  fullPage: true });
            await ligne.getByRole('link', { name: /Compléter/ }).press('Enter');
            await cp.waitForURL(/demarche\.html\?demande=/);
            await waitReady(cp);
            const complements = cp.locator('#demande-actions [data-action="envoyer"]');
            assert.equal((await complements.textContent()).trim(), 'Envoyer les compléments');
            await complements.press('Enter');
            await cp.waitForFunction(() => document.activeElement
                                     && document.activeElement.id === 'envoyee-titre');
            const lue = await api.appel('GET', `requests/${id}`);
            assert.equal(lue.data.state, 'rectifie');

            // The agent sees it rectified, and validates it.
            await page.reload();
            await waitReady(page);
            await contenuPret(page);
            assert.match(await page.locator('#demande-etat').textContent(), /rectifié/);
            await deuxLargeurs(page, 'agents-reel-demande-rectifie');
            const fin = `Votre signalement est pris en compte ${lettres}.`;
            await tabJusqua(page, '#transition-message');
            await page.keyboard.type(fin);
            await tabJusqua(page, '#form-transition button[value="valide"]');
            await page.keyboard.press('Enter');
            await messageFinal(page, '#demande-message', /maintenant « validé »/);
            assert.match(await page.locator('#historique').innerText(),
                         new RegExp(`rectifié\\s*→\\s*validé[\\s\\S]*${agent.nom}`));
            await deuxLargeurs(page, 'agents-reel-demande-valide');

            // The citizen sees the last state and message.
            await cp.goto(url('/demandes.html'));
            await waitReady(cp);
            await cp.locator(`#demande-${id}`).waitFor();
            assert.match(await cp.locator(`#demande-${id}`).innerText(), /validé/);
            await cp.locator('[data-messages] li').first().waitFor();
            assert.match(await cp.locator('[data-messages] li').first().innerText(),
                         new RegExp(fin));
            await sansViolation(cp, 'demandes.html, validated');

            // Logged out with the keyboard: the page forgets the file.
            await tabJusqua(page, '[data-action="deconnexion"]', 200, true);
            await page.keyboard.press('Enter');
            await page.locator('#form-connexion').waitFor();
            assert.equal(await page.locator('#demande-dossier').textContent(), '');
            assert.deepEqual(ag.erreurs, [], 'no script error');
            assert.deepEqual(ci.erreurs, [], 'no script error');
        } finally {
            await ag.context.close();
            await ci.context.close();
        }
    });
});
