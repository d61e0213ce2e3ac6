// The portal's pages in a real headless Chromium: accessibility (axe-core,
// WCAG 2.1 A and AA) at 1280 px and 375 px with a screenshot of each and
// nothing wider than a phone, the strict Content-Security-Policy, keyboard
// use of the login box, and the logged-in home page against a stand-in API.
//
//   cd t/browser && npm ci
//   PORTAL_BASE_URL=http://127.0.0.1:8080 node --test t/browser/

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE_URL, CSP, url, launch, waitReady, runAxe, formatViolations,
    screenshotPath, fakeApi, BUREAU, TELEPHONE, sansDebordement, focus,
    contexteCsp, surveillerPage,
} from './lib.mjs';

const PAGES = [
    { path: '/', nom: 'accueil', titre: 'Bienvenue sur Mon Compte Citoyen', onglet: 'Accueil' },
    { path: '/faq.html', nom: 'faq', titre: 'Foire aux questions', onglet: 'FAQ' },
    { path: '/services.html', nom: 'services', titre: 'Services en ligne', onglet: 'Services en ligne' },
    // A procedure's page: its title comes from GET procedures/{slug}.
    { path: '/demarche.html?p=acte-naissance', nom: 'demarche', titre: 'Demande d’acte de naissance',
      onglet: 'Services en ligne', pret: 'html[data-demarche="pret"]' },
    { path: '/demandes.html', nom: 'demandes', titre: 'Mes demandes', onglet: 'Demandes' },
    { path: '/compte.html', nom: 'compte', titre: 'Mon compte', onglet: 'Compte' },
    { path: '/admin/', nom: 'agents', titre: 'Espace agents', onglet: null },
];

const ONGLETS = ['Accueil', 'Services en ligne', 'Demandes', 'Compte', 'FAQ'];

// Words that any of the portal's French messages contains at least one of.
const FRANCAIS = /\b(vous|votre|le|la|les|de|du|des|est|pas|ou|au|saisissez|réessayer|incorrect|introuvable|disponible|connexion)\b/i;

const SESSION_ANONYME = {
    authenticated: false, login: null, validated: null, csrf_token: 'jeton-anonyme',
};
const SESSION_JEAN = {
    authenticated: true, login: 'jean.dupont', validated: false, csrf_token: 'jeton-jean',
};
// What DELETE session answers: anonymous again, with a token of its own.
const SESSION_SORTIE = { ...SESSION_ANONYME, csrf_token: 'jeton-apres-sortie' };
const DEMANDES = [
    {
        id: 'r3', reference: 'DEM-2026-0003', state: 'incomplet',
        procedure: { slug: 'encombrants', title: 'Enlèvement des encombrants' },
        created_at: '2026-11-20T10:15:00+01:00', updated_at: '2026-11-21T09:00:00+01:00',
        member: { id: 'm1', name: 'Jean Dupont' },
    },
    {
        id: 'r2', reference: 'DEM-2026-0002', state: 'valide',
        procedure: { slug: 'acte-naissance', title: 'Copie d’acte de naissance' },
        created_at: '2026-10-02T14:00:00+02:00', updated_at: '2026-10-05T08:30:00+02:00',
        member: { id: 'm2', name: 'Léa Dupont' },
    },
    {
        id: 'r1', reference: 'DEM-2026-0001', state: 'en_attente',
        procedure: { slug: 'inscription-scolaire', title: 'Inscription scolaire' },
        created_at: '2026-09-01T09:00:00+02:00', updated_at: '2026-09-01T09:00:00+02:00',
        member: { id: 'm2', name: 'Léa Dupont' },
    },
];

let browser;

before(async () => {
    try {
        const r = await fetch(url('/'));
        await r.arrayBuffer();
        if (!r.ok) {
            throw new Error(`HTTP ${r.status}`);
        }
    } catch (e) {
        throw new Error(`the portal does not answer at ${BASE_URL}/ (${e.message}); `
            + 'start it (make run) or set PORTAL_BASE_URL');
    }
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
});

// A page in a context that may run axe's injected script despite the CSP.
async function openForAxe(chemin, options = {}) {
    const context = await browser.newContext({
        bypassCSP: true,
        locale: 'fr-FR',
        viewport: BUREAU,
        ...options,
    });
    const page = await context.newPage();
    const erreurs = [];
    page.on('pageerror', (e) => erreurs.push(e.message));
    return { context, page, erreurs };
}

async function assertNoAxeViolation(page, label) {
    const violations = await runAxe(page);
    assert.equal(violations.length, 0, '\n' + formatViolations(label, violations));
}

async function tabTo(page, selector, max = 40) {
    for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate((s) => document.activeElement
                                   && document.activeElement.matches(s), selector)) {
            return i + 1;
        }
    }
    throw new Error(`${selector} never got the keyboard focus in ${max} Tab presses`);
}

// The login form's live region (or another one) once it says something final.
async function liveMessage(page, selecteur = '#connexion-message') {
    const zone = page.locator(selecteur);
    await page.waitForFunction((s) => {
        const t = document.querySelector(s).textContent.trim();
        return t && !t.endsWith('…');
    }, selecteur, { timeout: 20000 });
    return (await zone.textContent()).trim();
}

async function sansDepasser(page, label) {
    const d = await sansDebordement(page);
    assert.ok(d.scrollWidth <= d.clientWidth,
              `${label}: ${d.scrollWidth} px wide in ${d.clientWidth} (${d.larges.join(', ')})`);
}

describe('every page, as served', () => {
    for (const p of PAGES) {
        test(`${p.path}: French, landmarks, headings, zero axe violation (WCAG 2.1 A/AA, `
             + 'best practices) at 1280 px and 375 px, nothing wider than a phone',
             { timeout: 60000 }, async () => {
            const { context, page, erreurs } = await openForAxe(p.path);
            try {
                const rep = await page.goto(url(p.path));
                assert.equal(rep.status(), 200, `${p.path} answers ${rep.status()}`);
                await waitReady(page);
                if (p.pret) {
                    await page.waitForSelector(p.pret, { state: 'attached' });
                }

                assert.equal(await page.getAttribute('html', 'lang'), 'fr');
                assert.match(await page.title(), /Mon Compte Citoyen/);
                assert.equal(await page.locator('h1').count(), 1, 'one h1');
                assert.equal((await page.locator('h1').textContent()).trim(), p.titre);
                assert.equal(await page.locator('main').count(), 1, 'one main');
                assert.equal(await page.locator('header.entete').count(), 1, 'a banner');
                assert.equal(await page.locator('footer').count(), 1, 'a footer');
                const entete = await page.locator('header.entete').textContent();
                assert.match(entete, /Mairie/);
                assert.match(entete, /Mon Compte Citoyen/);

                const saut = page.locator('.evitement a').first();
                assert.equal(await saut.getAttribute('href'), '#contenu');

                if (p.onglet) {
                    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
                    for (const nom of ONGLETS) {
                        await nav.getByRole('link', { name: nom, exact: true }).waitFor();
                    }
                    const courant = nav.locator('a[aria-current="page"]');
                    assert.equal(await courant.count(), 1);
                    assert.equal((await courant.textContent()).trim(), p.onglet);
                }

                await assertNoAxeViolation(page, p.path);
                await page.screenshot({ path: screenshotPath(`${p.nom}.png`), fullPage: true });

                // A phone: the content first, then the login box; nothing
                // that would make the page scroll sideways.
                await page.setViewportSize(TELEPHONE);
                await sansDepasser(page, `${p.path} at 375 px`);
                const boite = page.locator('#connexion');
                if (p.onglet && await boite.count()) {
                    const h1 = await page.locator('h1').boundingBox();
                    const b = await boite.boundingBox();
                    assert.ok(h1.y < b.y, `${p.path}: the content before the login box`);
                }
                await assertNoAxeViolation(page, `${p.path} at 375 px`);
                await page.screenshot({ path: screenshotPath(`${p.nom}-mobile.png`),
                                        fullPage: true });
                assert.deepEqual(erreurs, [], 'no script error');
            } finally {
                await context.close();
            }
        });
    }
});

describe('strict Content-Security-Policy, nothing from another site', () => {
    test('every page runs under the CSP with no violation, no script error, '
         + 'no request to another origin', { timeout: 90000 }, async (t) => {
        // The policy enforced even where the server under test does not send it.
        const { context, cspDuServeur } = await contexteCsp(browser);
        try {
            for (const p of PAGES) {
                const page = await context.newPage();
                const problemes = [];
                surveillerPage(page, problemes);
                page.on('console', (m) => {
                    if (/Content Security Policy/i.test(m.text())) {
                        problemes.push(`console: ${m.text()}`);
                    }
                });
                await page.goto(url(p.path));
                await waitReady(page);
                if (p.pret) {
                    await page.waitForSelector(p.pret, { state: 'attached' });
                }
                // The script did run: it filled in the session state.
                assert.ok(await page.getAttribute('html', 'data-connecte'),
                          `${p.path}: portal.js ran`);
                const violations = await page.evaluate(() => window.__violations);
                problemes.push(...violations.map((v) => `CSP violation: ${v}`));
                // No inline style or script that the policy would refuse.
                const inline = await page.evaluate(() => ({
                    style: document.querySelectorAll('[style]').length,
                    script: Array.from(document.scripts).filter((s) => !s.src).length,
                }));
                assert.deepEqual(inline, { style: 0, script: 0 }, `${p.path}: inline code`);
                assert.deepEqual(problemes, [], `${p.path}`);
                await page.close();
            }
            if (!cspDuServeur()) {
                t.diagnostic(`note: ${BASE_URL} sends no Content-Security-Policy header; `
                             + 'the test enforced it itself');
            }
        } finally {
            await context.close();
        }
    });
});

describe('home page, with the keyboard', () => {
    test('skip link first, then tab to "Identifiant", log in: a French message '
         + 'appears in the live region, whatever the API answers', { timeout: 60000 }, async () => {
        const { context, page, erreurs } = await openForAxe('/');
        try {
            await page.goto(url('/'));
            await waitReady(page);

            await page.keyboard.press('Tab');
            const premier = await page.evaluate(() => document.activeElement.textContent.trim());
            assert.equal(premier, 'Aller au contenu', 'the skip link comes first');

            await tabTo(page, '#identifiant');
            await page.keyboard.type('jean.dupont');
            await page.keyboard.press('Tab');
            assert.ok(await page.evaluate(() => document.activeElement.id === 'mot-de-passe'),
                      'Tab goes from "Identifiant" to "Mot de passe"');
            await page.keyboard.type('un mot de passe de test');
            await page.keyboard.press('Tab');
            const bouton = await page.evaluate(() => document.activeElement.textContent.trim());
            assert.equal(bouton, 'Connexion');
            await page.keyboard.press('Enter');

            const message = await liveMessage(page);
            assert.match(message, FRANCAIS, `a French message, got: ${message}`);
            const zone = page.locator('#connexion-message');
            assert.equal(await zone.getAttribute('aria-live'), 'polite');
            assert.ok(await zone.isVisible(), 'the message is visible');
            // The page still works: the form is there and usable.
            assert.ok(await page.locator('#identifiant').isEditable());
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('empty fields: the message names the missing field and focus goes back to it',
         { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/');
        try {
            await page.goto(url('/'));
            await waitReady(page);
            await page.getByRole('button', { name: 'Connexion', exact: true }).click();
            assert.equal(await liveMessage(page), 'Saisissez votre identifiant.');
            assert.equal(await page.getAttribute('#identifiant', 'aria-invalid'), 'true');
            assert.ok(await page.evaluate(() => document.activeElement.id === 'identifiant'));

            await page.fill('#identifiant', 'jean.dupont');
            await page.getByRole('button', { name: 'Connexion', exact: true }).click();
            await page.waitForFunction(() => document.querySelector('#connexion-message')
                .textContent.includes('mot de passe'));
            assert.equal(await page.getAttribute('#identifiant', 'aria-invalid'), null);
            assert.equal(await page.getAttribute('#mot-de-passe', 'aria-invalid'), 'true');
            await assertNoAxeViolation(page, '/ with field errors');
        } finally {
            await context.close();
        }
    });

    test('the login box has "Mot de passe oublié ?" and "Je souhaite créer un compte", '
         + 'which leads to the account creation section', { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/');
        try {
            await page.goto(url('/'));
            await waitReady(page);
            const boite = page.getByRole('complementary', { name: 'Espace personnel' });
            await boite.getByLabel('Identifiant', { exact: true }).waitFor();
            await boite.getByLabel('Mot de passe', { exact: true }).waitFor();
            assert.ok(await boite.getByRole('link', { name: 'Mot de passe oublié ?' }).isVisible());
            const creer = boite.getByRole('link', { name: 'Je souhaite créer un compte' });
            assert.ok(await creer.isVisible());
            await creer.click();
            await page.waitForURL(/compte\.html#creer-un-compte$/);
            await page.getByRole('heading', { name: 'Créer un compte' }).waitFor();

            // The login box sits at the top left of the home page, as the FAQ says.
            await page.goto(url('/'));
            await waitReady(page);
            const b = await page.locator('#connexion').boundingBox();
            const m = await page.locator('main').boundingBox();
            assert.ok(b.x < m.x, 'the login box is left of the content');
            assert.ok(Math.abs(b.y - m.y) < 5, 'and at its top');
        } finally {
            await context.close();
        }
    });
});

describe('against a stand-in citizen API', () => {
    test('logging in sends the anti-CSRF token, then shows "Mon espace" and '
         + '"Dernières demandes"; logging out comes back', { timeout: 60000 }, async (t) => {
        const { context, page, erreurs } = await openForAxe('/');
        let connecte = false;
        try {
            const calls = await fakeApi(page, '/api/', {
                'GET session': () => ({ json: connecte ? SESSION_JEAN : SESSION_ANONYME }),
                'POST session': ({ body }) => {
                    if (body.login === 'jean.dupont' && body.password === 'un bon mot de passe') {
                        connecte = true;
                        return { json: SESSION_JEAN };
                    }
                    return { status: 401, json: { error: { code: 'bad_credentials',
                        message: 'Identifiant ou mot de passe incorrect.' } } };
                },
                'DELETE session': () => {
                    connecte = false;
                    return { json: SESSION_SORTIE };
                },
                'GET me/requests?limit=5': { json: DEMANDES },
            });
            await page.goto(url('/'));
            await waitReady(page);
            assert.ok(await page.locator('#dernieres-demandes').isHidden(),
                      'no "Dernières demandes" for an anonymous visitor');

            // A wrong password: the API's own French message is shown.
            await page.fill('#identifiant', 'jean.dupont');
            await page.fill('#mot-de-passe', 'pas le bon');
            await page.getByRole('button', { name: 'Connexion', exact: true }).click();
            assert.equal(await liveMessage(page), 'Identifiant ou mot de passe incorrect.');
            assert.equal(await page.inputValue('#mot-de-passe'), '');

            await page.fill('#mot-de-passe', 'un bon mot de passe');
            await page.getByRole('button', { name: 'Connexion', exact: true }).click();
            await page.getByRole('heading', { name: 'Mon espace' }).waitFor();
            assert.equal(await liveMessage(page, '#espace-message'), 'Vous êtes connecté.');

            const post = calls.filter((c) => c.key === 'POST session').pop();
            assert.equal(post.headers['x-csrf-token'], 'jeton-anonyme');
            assert.equal(post.headers['content-type'], 'application/json');
            assert.deepEqual(post.body, { login: 'jean.dupont', password: 'un bon mot de passe' });
            assert.equal(await focus(page), 'mon-espace-titre', 'focus moves to "Mon espace"');

            assert.equal((await page.locator('[data-login]').first().textContent()), 'jean.dupont');
            assert.ok(await page.locator('[data-si-non-valide]').first().isVisible(),
                      'the account is not validated yet: say so');
            assert.ok(await page.locator('#form-connexion').isHidden());

            const section = page.locator('#dernieres-demandes');
            await section.locator('tbody tr').first().waitFor();
            assert.ok(calls.some((c) => c.key === 'GET me/requests?limit=5'));
            const lignes = await section.locator('tbody tr').allInnerTexts();
            assert.equal(lignes.length, 3);
            assert.match(lignes[0], /Enlèvement des encombrants[\s\S]*incomplet/);
            assert.match(lignes[1], /Copie d’acte de naissance[\s\S]*validé/);
            assert.match(lignes[2], /Inscription scolaire[\s\S]*en attente/);
            // A validated request opens as a PDF; a waiting one does not.
            const pdf = section.getByRole('link', { name: /Copie d’acte de naissance/ });
            assert.match(await pdf.getAttribute('href'), /\/api\/requests\/r2\.pdf$/);

            await assertNoAxeViolation(page, '/ logged in');
            await page.screenshot({ path: screenshotPath('accueil-connecte.png'), fullPage: true });
            t.diagnostic('screenshot of the logged-in home in accueil-connecte.png');

            // The token of the login's answer serves at once: no GET session
            // in between (the server renews it at each log-in and log-out).
            const avantSortie = calls.length;
            await page.getByRole('button', { name: 'Se déconnecter' }).click();
            await page.locator('#form-connexion').waitFor();
            assert.equal(await liveMessage(page, '#espace-message'), 'Vous êtes déconnecté.');
            const apresConnexion = calls.slice(calls.indexOf(post) + 1);
            const del = apresConnexion.find((c) => c.key === 'DELETE session');
            assert.equal(del.headers['x-csrf-token'], 'jeton-jean');
            assert.deepEqual(apresConnexion.filter((c) => c.key === 'GET session'), [],
                             'the token is taken from the answers, not fetched again');
            assert.equal(await page.evaluate(() => window.Portail.session.csrf_token),
                         'jeton-apres-sortie');
            assert.ok(calls.length > avantSortie);
            assert.equal(await focus(page), 'identifiant');
            assert.ok(await page.locator('#dernieres-demandes').isHidden());
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('the errors of the API are told in French: rate limit, storage down, '
         + 'network failure', { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/');
        let reponse;
        try {
            await fakeApi(page, '/api/', {
                'GET session': { json: SESSION_ANONYME },
                'POST session': () => reponse,
            });
            await page.goto(url('/'));
            await waitReady(page);
            await page.fill('#identifiant', 'jean.dupont');
            const cas = [
                [{ status: 429, json: { error: { code: 'rate_limited',
                    message: 'Trop de tentatives : réessayez dans 5 minutes.' } } },
                 'Trop de tentatives : réessayez dans 5 minutes.'],
                [{ status: 503, json: undefined },
                 /momentanément indisponible/],
                [{ status: 404, json: { error: { code: 'not_found',
                    message: 'Ressource introuvable.' } } },
                 /pas encore disponible/],
            ];
            for (const [r, attendu] of cas) {
                reponse = r;
                await page.fill('#mot-de-passe', 'un mot de passe');
                await page.evaluate(() => {
                    document.querySelector('#connexion-message').textContent = '';
                });
                await page.getByRole('button', { name: 'Connexion', exact: true }).click();
                const message = await liveMessage(page);
                if (attendu instanceof RegExp) {
                    assert.match(message, attendu);
                } else {
                    assert.equal(message, attendu);
                }
            }
        } finally {
            await context.close();
        }
    });

    test('lost password: the identifier, then the security question, then a '
         + 'confirmation', { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/');
        try {
            const calls = await fakeApi(page, '/api/', {
                'GET session': { json: SESSION_ANONYME },
                'POST password/question': { json: { question: 'Nom de votre premier animal ?' } },
                'POST password/reset': { status: 202, json: {} },
            });
            await page.goto(url('/'));
            await waitReady(page);
            await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
            assert.match(await liveMessage(page), /Saisissez d’abord votre identifiant/);

            await page.fill('#identifiant', 'jean.dupont');
            await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
            const reponse = page.getByLabel('Nom de votre premier animal ?');
            await reponse.waitFor();
            assert.ok(await reponse.evaluate((el) => el === document.activeElement));
            await page.getByRole('heading', { name: 'Répondez à votre question' }).waitFor();
            await assertNoAxeViolation(page, '/ lost password');

            await reponse.fill('Médor');
            await page.getByRole('button', { name: 'Confirmer' }).click();
            const dit = await liveMessage(page);
            assert.match(dit, /mot de passe temporaire/);
            // Whatever the answer, what to do when no mail comes.
            assert.match(dit, /Rien reçu .* courriers indésirables \(spam\)/);
            const reset = calls.find((c) => c.key === 'POST password/reset');
            assert.deepEqual(reset.body, { login: 'jean.dupont', answer: 'Médor' });
            assert.equal(reset.headers['x-csrf-token'], 'jeton-anonyme');
            assert.ok(await page.locator('#mot-de-passe-oublie').isHidden());
        } finally {
            await context.close();
        }
    });

    test('"Demandes" lists every request with its date, member and state once '
         + 'logged in', { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/demandes.html');
        try {
            await fakeApi(page, '/api/', {
                'GET session': { json: SESSION_JEAN },
                'GET me/requests': { json: DEMANDES },
            });
            await page.goto(url('/demandes.html'));
            await waitReady(page);
            const tableau = page.getByRole('table', { name: 'Toutes mes demandes' });
            await tableau.locator('tbody tr').first().waitFor();
            const entetes = await tableau.locator('thead th').allInnerTexts();
            assert.deepEqual(entetes.map((s) => s.trim()),
                             ['Date', 'Démarche', 'Membre concerné', 'État']);
            const ligne = await tableau.locator('tbody tr').nth(1).innerText();
            assert.match(ligne, /2 octobre 2026[\s\S]*Copie d’acte de naissance[\s\S]*Léa Dupont[\s\S]*validé/);
            assert.ok(await page.getByText('Connexion nécessaire').isHidden());
            await assertNoAxeViolation(page, '/demandes.html logged in');

            // On a phone, one card per request; the cells keep their roles.
            await page.setViewportSize(TELEPHONE);
            await sansDepasser(page, '/demandes.html, the list at 375 px');
            assert.equal(await tableau.getByRole('row').count(), 4);
            const carte = tableau.locator('tbody tr').nth(1);
            const cellule = await carte.getByRole('cell').first().evaluate((td) => ({
                affichage: getComputedStyle(td).display,
                avant: getComputedStyle(td, '::before').content,
            }));
            assert.deepEqual(cellule, { affichage: 'block', avant: '"Date : "' });
            await assertNoAxeViolation(page, '/demandes.html logged in, 375 px');
            await page.screenshot({ path: screenshotPath('demandes-liste-mobile.png'),
                                    fullPage: true });
        } finally {
            await context.close();
        }
    });
});

describe('agents\' space', () => {
    test('its login form talks to /admin/api/session', { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/admin/');
        try {
            let connecte = false;
            const calls = await fakeApi(page, '/admin/api/', {
                'GET session': () => ({ json: connecte
                    ? { authenticated: true, login: 'agent.martin', role: 'instructeur',
                        csrf_token: 'jeton-agent' }
                    : { authenticated: false, login: null, role: null,
                        csrf_token: 'jeton-agent-anonyme' } }),
                'POST session': () => {
                    connecte = true;
                    return { json: { login: 'agent.martin', role: 'instructeur' } };
                },
            });
            await page.goto(url('/admin/'));
            await waitReady(page);
            await page.getByLabel('Identifiant', { exact: true }).fill('agent.martin');
            await page.getByLabel('Mot de passe', { exact: true }).fill('un mot de passe d’agent');
            await page.getByRole('button', { name: 'Connexion', exact: true }).click();
            await page.getByRole('heading', { name: 'Ma session' }).waitFor();
            assert.equal(await page.locator('[data-role]').textContent(), 'instructeur');
            const post = calls.find((c) => c.key === 'POST session');
            assert.equal(post.headers['x-csrf-token'], 'jeton-agent-anonyme');
            await assertNoAxeViolation(page, '/admin/ logged in');
        } finally {
            await context.close();
        }
    });
});

describe('FAQ', () => {
    test('a summary whose every link lands on a question, "Retour au sommaire" '
         + 'after each answer, the four sections and the nine states',
         { timeout: 60000 }, async () => {
        const { context, page } = await openForAxe('/faq.html');
        try {
            await page.goto(url('/faq.html'));
            await waitReady(page);
            const info = await page.evaluate(() => {
                const sommaire = document.querySelector('#sommaire');
                const cibles = Array.from(sommaire.querySelectorAll('a[href^="#"]'))
                    .map((a) => a.getAttribute('href').slice(1));
                return {
                    cibles,
                    manquantes: cibles.filter((id) => !document.getElementById(id)),
                    questions: document.querySelectorAll('article.question').length,
                    retours: Array.from(document.querySelectorAll('article.question'))
                        .filter((q) => q.querySelector('a[href="#sommaire"]')).length,
                    sections: Array.from(document.querySelectorAll('.faq-section > h2'))
                        .map((h) => h.textContent.trim()),
                    etats: Array.from(document.querySelectorAll('#q-etats dt'))
                        .map((d) => d.textContent.trim()),
                };
            });
            assert.deepEqual(info.manquantes, []);
            assert.equal(info.questions, 16);
            assert.equal(info.retours, 16);
            assert.deepEqual(info.sections, ['Gestion de mon compte', 'Sécurité',
                'Les démarches', 'Avancement et communications avec ma Mairie']);
            assert.deepEqual(info.etats, ['brouillon', 'en attente', 'en traitement',
                'incomplet', 'rectifié', 'complet', 'rejeté', 'annulé', 'validé']);

            // Enter rather than a click: a click aims at where the link is,
            // and the page may still be scrolling to the last anchor
            await page.getByRole('link', { name: /perdu mon mot de passe/ }).press('Enter');
            await page.waitForURL(/#q-mot-de-passe$/, { waitUntil: 'commit' });
            await page.locator('#q-mot-de-passe').getByRole('link',
                { name: 'Retour au sommaire' }).press('Enter');
            await page.waitForURL(/#sommaire$/, { waitUntil: 'commit' });
        } finally {
            await context.close();
        }
    });
});
