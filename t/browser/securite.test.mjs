// Past the server's failure limits, in Chromium against the real server,
// with the keyboard: the login box, the lost-password dialogue and the
// password change show the captcha the server asks for (429
// captcha_required), refuse a wrong one with the API's words and a new
// image, and go through with the right one; an account created from an
// address past its limit is told why it is not logged in, and logs in with
// the captcha; a captcha left open is renewed before it expires. The
// anti-CSRF token of each answer is used at once.
//
// The failures these tests make from their address are taken back at the
// end (PORTAL_PSQL), so that a rerun within 15 minutes does not meet the
// address-wide limit (30).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE_URL, url, launch, waitReady, runAxe, formatViolations, screenshotPath,
    uniqueLetters, psql, captchaAnswer, waitForMail, BUREAU, TELEPHONE,
    sansDebordement, focus, creerCompteApi, echouerConnexions, echouerReponses,
    adresseDesTests, ClientApi,
} from './lib.mjs';

const suffixe = uniqueLetters(8);
const RUN = {
    prenom: 'Noémie',
    nom: `Garnier${suffixe}`,
    email: `noemie.${suffixe}@example.org`,
    password: `un grand pommier au fond du jardin ${suffixe}`,
    answer: 'Biscotte',
    login: null,
    question: null,
};

const ADRESSE = adresseDesTests();
let browser;
let debut;

before(async () => {
    try {
        const r = await fetch(url('/api/session'));
        await r.arrayBuffer();
        if (!r.ok) {
            throw new Error(`HTTP ${r.status}`);
        }
    } catch (e) {
        throw new Error(`the portal's API does not answer at ${BASE_URL}/api/ `
            + `(${e.message}); start it (make run) or set PORTAL_BASE_URL`);
    }
    debut = psql('SELECT now()');
    Object.assign(RUN, await creerCompteApi(RUN));
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (debut) {
        psql('DELETE FROM portal.auth_failures WHERE scope = \'addr\' '
             + `AND key = '${ADRESSE}' AND at >= '${debut}'`);
    }
});

async function nouvellePage(viewport) {
    const context = await browser.newContext({ bypassCSP: true, locale: 'fr-FR', viewport });
    const page = await context.newPage();
    const erreurs = [];
    page.on('pageerror', (e) => erreurs.push(e.message));
    // Every answer of the API: a 403 "csrf" would mean a token kept too long.
    const reponses = [];
    page.on('response', async (r) => {
        const u = new URL(r.url());
        if (u.pathname.startsWith('/api/')) {
            let code = null;
            if (r.status() === 403) {
                code = await r.json().then((j) => j.error.code, () => null);
            }
            reponses.push({ cle: `${r.request().method()} ${u.pathname.slice(5)}`,
                            status: r.status(), code });
        }
    });
    return { context, page, erreurs, reponses };
}

async function sansViolation(page, label) {
    const v = await runAxe(page);
    assert.equal(v.length, 0, '\n' + formatViolations(label, v));
}

async function message(page, selecteur) {
    await page.waitForFunction((s) => {
        const t = document.querySelector(s).textContent.trim();
        return t && !t.endsWith('…');
    }, selecteur, { timeout: 30000 });
    return (await page.locator(selecteur).textContent()).replace(/\s+/g, ' ').trim();
}

// The captcha shown under `prefixe`, its picture drawn; another than `avant`.
async function captchaAffiche(page, prefixe, avant = null) {
    await page.waitForFunction(([p, a]) => {
        const img = document.querySelector(`#${p}-image`);
        const v = img && img.getAttribute('data-captcha-id');
        return v && v !== a && img.complete && img.naturalWidth > 0
               && !img.closest('[hidden]');
    }, [prefixe, avant], { timeout: 30000 });
    return page.locator(`#${prefixe}-image`).getAttribute('data-captcha-id');
}

async function erreurDe(page, selecteur) {
    return page.evaluate((s) => {
        const c = document.querySelector(s);
        return (c.getAttribute('aria-describedby') || '').split(/\s+/)
            .map((id) => document.getElementById(id))
            .filter((el) => el && el.classList.contains('champ__erreur'))
            .map((el) => el.textContent.replace(/\s+/g, ' ').trim()).join(' | ');
    }, selecteur);
}

function sansJetonPerime(reponses) {
    assert.deepEqual(reponses.filter((r) => r.code === 'csrf'), [],
                     'no request went with an old anti-CSRF token');
}

const DEMANDE = 'Trop d’essais infructueux : recopiez le texte de l’image pour continuer.';

describe('past the failure limits, the captcha (375 px, keyboard)', () => {
    test('5 failed logins: the login box shows the captcha, refuses a wrong one, '
         + 'logs in with the right one; then a password change asks for it too',
         { timeout: 120000 }, async () => {
        await echouerConnexions(RUN.login, 5);
        const { context, page, erreurs, reponses } = await nouvellePage(TELEPHONE);
        try {
            await page.goto(url('/'));
            await waitReady(page);
            await page.locator('#identifiant').fill(RUN.login);
            await page.locator('#mot-de-passe').fill(RUN.password);
            await page.locator('#mot-de-passe').press('Enter');

            // The server asks for it: the image with the API's alternative,
            // its sound, "Nouvelle image", the field, the focus on it.
            const id1 = await captchaAffiche(page, 'connexion-captcha');
            assert.equal(await message(page, '#connexion-message'), DEMANDE);
            assert.equal(await focus(page), 'connexion-captcha-reponse');
            assert.match(await page.locator('#connexion-captcha-image').getAttribute('alt'),
                         /caractères/);
            assert.match(await page.locator('#connexion-captcha-audio').getAttribute('src'),
                         /\.wav$/);
            const boite = page.getByRole('complementary', { name: 'Espace personnel' });
            await boite.getByRole('textbox', { name: 'Saisissez le texte de l’image' }).waitFor();
            assert.equal(await page.inputValue('#mot-de-passe'), RUN.password,
                         'the password typed stays');
            await sansViolation(page, '/ the login box asks for the captcha');
            const d = await sansDebordement(page);
            assert.ok(d.scrollWidth <= d.clientWidth, `375 px: ${JSON.stringify(d)}`);
            await page.locator('#connexion').screenshot({
                path: screenshotPath('connexion-cryptogramme-mobile.png') });

            // "Nouvelle image": the focus back in the field.
            await boite.getByRole('button', { name: 'Nouvelle image' }).press('Enter');
            const id2 = await captchaAffiche(page, 'connexion-captcha', id1);
            assert.equal(await focus(page), 'connexion-captcha-reponse');

            // A wrong one: the API's words beside the field, a new image.
            const faux = captchaAnswer(id2) === 'ZZZZZZ' ? 'AAAAAA' : 'ZZZZZZ';
            await page.locator('#connexion-captcha-reponse').fill(faux);
            await page.locator('#connexion-captcha-reponse').press('Enter');
            const id3 = await captchaAffiche(page, 'connexion-captcha', id2);
            assert.match(await erreurDe(page, '#connexion-captcha-reponse'),
                         /Le texte recopié ne correspond pas à l’image : recopiez le nouveau cryptogramme\./);
            assert.equal(await message(page, '#connexion-message'),
                         'Le texte recopié ne correspond pas à l’image.');
            assert.equal(await focus(page), 'connexion-captcha-reponse');

            // The right one, with the password still there: logged in.
            await page.locator('#connexion-captcha-reponse').fill(captchaAnswer(id3));
            await page.locator('#connexion-captcha-reponse').press('Enter');
            await page.locator('#mon-espace-titre').waitFor({ timeout: 30000 });
            assert.equal(await message(page, '#espace-message'), 'Vous êtes connecté.');
            assert.equal(await focus(page), 'mon-espace-titre');

            // The password change counts toward the same limit: 5 more
            // failures elsewhere, and it asks for the captcha too.
            await echouerConnexions(RUN.login, 5);
            await page.goto(url('/compte.html'));
            await waitReady(page);
            await page.waitForSelector('html[data-compte="pret"]', { state: 'attached' });
            await page.getByText('Changer mon mot de passe').press('Enter');
            const form = page.locator('#form-changer-mdp');
            const nouveau = `${RUN.password} et ses pommes`;
            await form.getByLabel('Mot de passe actuel').fill(RUN.password);
            await form.getByLabel('Nouveau mot de passe', { exact: true }).fill(nouveau);
            await form.getByLabel('Confirmez le nouveau mot de passe').fill(nouveau);
            await form.getByRole('button', { name: 'Changer le mot de passe' }).press('Enter');
            const id4 = await captchaAffiche(page, 'mdp-captcha');
            assert.equal(await message(page, '#changer-mdp-message'), DEMANDE);
            assert.equal(await focus(page), 'mdp-captcha-reponse');
            await sansViolation(page, '/compte.html a password change asks for the captcha');
            await page.locator('#mdp-captcha-reponse').fill(captchaAnswer(id4));
            await page.locator('#mdp-captcha-reponse').press('Enter');
            assert.match(await message(page, '#changer-mdp-message'), /mot de passe est changé/);
            assert.ok(await page.locator('#mdp-captcha').isHidden());
            RUN.password = nouveau;
            const essai = await new ClientApi().appel('POST', 'session',
                                                      { login: RUN.login, password: nouveau });
            assert.equal(essai.status, 200, 'the new password opens the account');

            // The new token of the answer serves at once: logging out.
            await page.locator('header').getByRole('button', { name: 'Se déconnecter' })
                .press('Enter');
            assert.equal(await message(page, '#espace-message'), 'Vous êtes déconnecté.');
            sansJetonPerime(reponses);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('once validated, a new e-mail address past the limits asks for the captcha',
         { timeout: 120000 },
         async () => {
        assert.equal(psql('SELECT portal.validate_account(id) FROM portal.accounts '
                          + `WHERE login = '${RUN.login}'`), 't');
        const { context, page, erreurs, reponses } = await nouvellePage(TELEPHONE);
        try {
            await page.goto(url('/'));
            await waitReady(page);
            await page.locator('#identifiant').fill(RUN.login);
            await page.locator('#mot-de-passe').fill(RUN.password);
            await page.locator('#mot-de-passe').press('Enter');
            await page.locator('#mon-espace-titre').waitFor({ timeout: 30000 });
            await echouerConnexions(RUN.login, 5);
            await page.goto(url('/compte.html'));
            await waitReady(page);
            await page.waitForSelector('html[data-compte="pret"]', { state: 'attached' });
            await page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` })
                .press('Enter');
            const bloc = page.locator('#fiche [data-bloc="coordonnees"]');
            await bloc.getByRole('button', { name: 'Modifier : Coordonnées et adresse' })
                .press('Enter');
            const adresse = `noemie.${suffixe}@exemple-nantes.fr`;
            await bloc.getByLabel('Adresse électronique').fill(adresse);
            await bloc.getByLabel('Mot de passe actuel').fill(RUN.password);
            await bloc.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            const id = await captchaAffiche(page, 'fiche-coordonnees-captcha');
            assert.equal(await message(page, '#fiche-message-coordonnees'), DEMANDE);
            assert.equal(await focus(page), 'fiche-coordonnees-captcha-reponse');
            await page.locator('#fiche-coordonnees-captcha-reponse').fill(captchaAnswer(id));
            await page.locator('#fiche-coordonnees-captcha-reponse').press('Enter');
            assert.match(await message(page, '#fiche-message-coordonnees'),
                         /nouvelle adresse électronique est enregistrée/);
            const me = await (await page.request.get(url('/api/me'))).json();
            assert.equal(me.holder.email, adresse);
            RUN.email = adresse;
            sansJetonPerime(reponses);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('5 wrong answers: the lost-password dialogue shows the captcha; the right '
         + 'answer with it mails the temporary password', { timeout: 120000 }, async () => {
        await echouerReponses(RUN.login, 5);
        const { context, page, erreurs, reponses } = await nouvellePage(TELEPHONE);
        try {
            await page.goto(url('/'));
            await waitReady(page);
            await page.locator('#identifiant').fill(RUN.login);
            await page.getByRole('link', { name: 'Mot de passe oublié ?' }).press('Enter');
            const reponse = page.getByLabel(RUN.question, { exact: true });
            await reponse.waitFor();
            await reponse.fill(RUN.answer);
            const depuis = Date.now();
            await reponse.press('Enter');

            const id = await captchaAffiche(page, 'oubli-captcha');
            assert.equal(await message(page, '#oubli-message'), DEMANDE);
            assert.equal(await focus(page), 'oubli-captcha-reponse');
            await sansViolation(page, '/ the lost-password dialogue asks for the captcha');
            await page.locator('#connexion').screenshot({
                path: screenshotPath('oubli-cryptogramme-mobile.png') });

            await page.locator('#oubli-captcha-reponse').fill(captchaAnswer(id));
            await page.locator('#oubli-captcha-reponse').press('Enter');
            const dit = await message(page, '#connexion-message');
            assert.match(dit, /Si votre réponse est juste, un courriel .* mot de passe temporaire/);
            assert.match(dit, /courriers indésirables/);
            assert.ok(await page.locator('#mot-de-passe-oublie').isHidden());
            assert.equal(await focus(page), 'mot-de-passe');
            await waitForMail({ to: RUN.email, since: depuis,
                                match: /mot de passe temporaire\s*:\s*(\S+)/i });
            sansJetonPerime(reponses);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });
});

describe('the captcha of the sign-up form (1280 px)', () => {
    test('an image left open is renewed before it expires', { timeout: 60000 }, async () => {
        const { context, page, erreurs } = await nouvellePage(BUREAU);
        try {
            await page.clock.install();
            await page.goto(url('/compte.html'));
            await waitReady(page);
            const id1 = await captchaAffiche(page, 'cr-captcha');
            await page.locator('#cr-captcha-reponse').fill('ABC');
            await page.clock.fastForward('09:01');
            const id2 = await captchaAffiche(page, 'cr-captcha', id1);
            assert.notEqual(id2, id1);
            assert.match(await page.locator('#cr-captcha-message').textContent(),
                         /L’image allait expirer : une nouvelle image la remplace/);
            assert.equal(await page.inputValue('#cr-captcha-reponse'), '');
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('from an address past its limit, the new account is told why it is not '
         + 'logged in, and logs in with the captcha', { timeout: 120000 }, async () => {
        // 30 failures from this address, as many other citizens behind one
        // address would have made; taken back at the end.
        const marque = -(Date.now() % 1e9);
        psql('INSERT INTO portal.auth_failures (scope, key, kind, attempt) '
             + `SELECT 'addr', '${ADRESSE}', 'password', ${marque} `
             + 'FROM generate_series(1, 30)');
        const { context, page, erreurs } = await nouvellePage(BUREAU);
        try {
            const autre = uniqueLetters(8);
            const mdp = `la rivière coule sous le pont ${autre}`;
            await page.goto(url('/compte.html#creer-un-compte'));
            await waitReady(page);
            const id = await captchaAffiche(page, 'cr-captcha');
            await page.getByLabel('Monsieur').first().check();
            await page.fill('#cr-prenom', 'Théo');
            await page.fill('#cr-nom', `Marchand${autre}`);
            await page.fill('#cr-naissance', '1990-10-10');
            await page.fill('#cr-courriel', `theo.${autre}@exemple.fr`);
            await page.fill('#cr-adresse', '8 quai de la Fosse');
            await page.fill('#cr-code-postal', '44000');
            await page.fill('#cr-commune', 'Nantes');
            await page.fill('#cr-mdp', mdp);
            await page.fill('#cr-mdp-confirmation', mdp);
            await page.locator('#cr-question').selectOption({ index: 1 });
            await page.fill('#cr-reponse', 'Moustache');
            await page.getByLabel('Par courrier').check();
            await page.fill('#cr-captcha-reponse', captchaAnswer(id));
            await page.locator('#cr-captcha-reponse').press('Enter');

            const panneau = page.locator('#creation-reussie');
            await panneau.waitFor({ timeout: 60000 });
            await page.waitForFunction(() => document.activeElement
                && document.activeElement.id === 'creation-reussie-titre', null,
                                       { timeout: 30000 });
            assert.match(await page.locator('#creation-connexion').innerText(),
                         /Vous n’êtes pas encore connecté[\s\S]*trop d’essais infructueux/);
            assert.ok(await page.locator('#creer-un-compte').isHidden(),
                      'no empty form under the panel');
            assert.ok(await page.locator('#connexion-necessaire').isHidden(),
                      'nor an invitation to create it');
            const login = (await page.locator('#creation-login').textContent()).trim();
            assert.equal(await page.inputValue('#identifiant'), login);
            assert.equal(await page.inputValue('#mot-de-passe'), mdp);
            const id2 = await captchaAffiche(page, 'connexion-captcha');
            await sansViolation(page, '/compte.html created, not logged in');
            await page.screenshot({ path: screenshotPath('compte-cree-sans-connexion.png'),
                                    fullPage: true });

            // The panel's link leads to the captcha's field.
            await panneau.getByRole('link', { name: 'recopiez-y le texte de l’image' })
                .press('Enter');
            assert.equal(await focus(page), 'connexion-captcha-reponse');
            await page.keyboard.type(captchaAnswer(id2));
            await page.keyboard.press('Enter');
            await page.locator('#mon-espace-titre').waitFor({ timeout: 30000 });
            await page.waitForSelector('html[data-compte="pret"]', { state: 'attached' });
            await page.locator('#liste-adultes')
                .getByText(`Théo Marchand${autre}`, { exact: true }).waitFor();
            assert.deepEqual(erreurs, []);
        } finally {
            psql(`DELETE FROM portal.auth_failures WHERE attempt = ${marque}`);
            await context.close();
        }
    });
});
