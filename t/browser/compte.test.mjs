// The citizen's account, end to end, in Chromium against the real server
// (no stand-in API), with the keyboard: create an account (seed flow A)
// with its captcha, which a field error never spends and which an expired
// image replaces; read the login from the mail; see what an account waiting
// for validation may do, and why the rest is not available yet; validate
// the account as the town hall would (SQL); add, change and remove members;
// view, replace and delete documents; recover a lost password. Each screen
// at 1280 px or 375 px, axe-core clean, nothing wider than a phone.
//
//   PORTAL_BASE_URL=http://127.0.0.1:8080 node --test t/browser/
//
// Environment (see README.md): PORTAL_MAILDIR, PORTAL_PSQL,
// PORTAL_CAPTCHA_ANSWER.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE_URL, url, launch, waitReady, runAxe, formatViolations, screenshotPath,
    uniqueLetters, psql, captchaAnswer, waitForMail, BUREAU, TELEPHONE,
    sansDebordement, focus, texteFocus,
} from './lib.mjs';

const ATTENTE = 'Votre compte est en attente de validation par la Mairie\u00a0: '
    + 'vous pouvez déjà faire vos démarches\u00a0; vos informations seront '
    + 'modifiables après validation.';
const RAISON = /Pas encore possible : vos informations seront modifiables après la validation/;

// One household per run: unique names and e-mail address, so that reruns
// never collide (a homonym would get "elise.durandxyz2": the login is read
// from the mail, never guessed).
const suffixe = uniqueLetters(8);
const RUN = {
    prenom: 'Élise',
    nom: `Durand${suffixe}`,
    email: `elise.${suffixe}@example.org`,
    password: `des tulipes au balcon ${suffixe}`,
    question: null,          // its label, from GET security-questions
    answer: 'Médor',
    login: null,             // from the mail
};

const PDF = Buffer.concat([
    Buffer.from('%PDF-1.4\n% justificatif de test\n'),
    Buffer.alloc(600 * 1024, 0x20),
    Buffer.from('\n%%EOF\n'),
]);
// The smallest PNG: its signature is what the server looks at.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
    + '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082', 'hex');

let browser;

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
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
});

async function nouvellePage(viewport = BUREAU) {
    const context = await browser.newContext({
        bypassCSP: true,            // axe is injected as a script
        locale: 'fr-FR',
        viewport,
    });
    const page = await context.newPage();
    const erreurs = [];
    page.on('pageerror', (e) => erreurs.push(e.message));
    return { context, page, erreurs };
}

async function sansViolation(page, label) {
    const v = await runAxe(page);
    assert.equal(v.length, 0, '\n' + formatViolations(label, v));
}

async function sansDepasser(page, label) {
    const d = await sansDebordement(page);
    assert.ok(d.scrollWidth <= d.clientWidth,
              `${label}: ${d.scrollWidth} px wide in ${d.clientWidth} (${d.larges.join(', ')})`);
}

// The text of a live region once it says something final.
async function message(page, selecteur) {
    await page.waitForFunction((s) => {
        const t = document.querySelector(s).textContent.trim();
        return t && !t.endsWith('…');
    }, selecteur, { timeout: 30000 });
    return (await page.locator(selecteur).textContent()).replace(/\s+/g, ' ').trim();
}

// Logs in from the home page with the keyboard; past the failure limits
// (other runs from this address), the captcha the page then shows.
async function seConnecter(page, login, password) {
    await page.goto(url('/'));
    await waitReady(page);
    await page.locator('#identifiant').fill(login);
    await page.locator('#mot-de-passe').fill(password);
    await page.locator('#mot-de-passe').press('Enter');
    await page.waitForFunction(() => {
        const t = document.querySelector('#espace-message').textContent
                  + document.querySelector('#connexion-message').textContent;
        return /connecté|incorrect|image|tentatives/.test(t) && !/en cours/.test(t);
    }, null, { timeout: 30000 });
    if (await page.locator('#connexion-captcha').isVisible()) {
        const id = await page.locator('#connexion-captcha-image')
            .getAttribute('data-captcha-id');
        await page.locator('#connexion-captcha-reponse').fill(captchaAnswer(id));
        await page.locator('#connexion-captcha-reponse').press('Enter');
        await page.locator('#mon-espace-titre').waitFor({ timeout: 30000 });
    }
    return message(page, '#espace-message').catch(() => message(page, '#connexion-message'));
}

async function captchaId(page, prefixe = 'cr-captcha') {
    await page.waitForFunction(
        (p) => document.querySelector(`#${p}-image`).getAttribute('data-captcha-id'),
        prefixe, { timeout: 20000 });
    return page.locator(`#${prefixe}-image`).getAttribute('data-captcha-id');
}

// Waits for a captcha other than `avant`, its picture drawn.
async function autreCaptcha(page, avant, prefixe = 'cr-captcha') {
    await page.waitForFunction(([id, p]) => {
        const img = document.querySelector(`#${p}-image`);
        const v = img.getAttribute('data-captcha-id');
        return v && v !== id && img.complete && img.naturalWidth > 0
               && img.closest('.cryptogramme').getAttribute('aria-busy') === 'false';
    }, [avant, prefixe], { timeout: 30000 });
    return page.locator(`#${prefixe}-image`).getAttribute('data-captcha-id');
}

async function compteCharge(page) {
    await page.waitForSelector('html[data-compte="pret"]', { state: 'attached',
                                                            timeout: 30000 });
}

// The text beside a field (the error tied to it by aria-describedby).
async function erreurDe(page, selecteur) {
    return page.evaluate((s) => {
        const c = document.querySelector(s);
        return (c.getAttribute('aria-describedby') || '').split(/\s+/)
            .map((id) => document.getElementById(id))
            .filter((el) => el && el.classList.contains('champ__erreur'))
            .map((el) => el.textContent.replace(/\s+/g, ' ').trim()).join(' | ');
    }, selecteur);
}

function besoinDuCompte(t) {
    if (!RUN.login) {
        t.skip('the account of the first test was not created');
        return false;
    }
    return true;
}

describe('the citizen\'s account, against the real API', () => {
    test('create an account: the captcha (sound, "Nouvelle image"), kept through '
         + 'field errors, renewed when refused or expired; the login shown and '
         + 'mailed; a document uploaded (1280 px)', { timeout: 180000 }, async (t) => {
        const { context, page, erreurs } = await nouvellePage();
        try {
            const questions = await (await fetch(url('/api/security-questions'))).json();
            assert.ok(Array.isArray(questions) && questions.length > 0,
                      'GET /api/security-questions gives a list');
            RUN.question = questions[0].label;

            await page.goto(url('/compte.html#creer-un-compte'));
            await waitReady(page);
            await page.getByRole('heading', { name: 'Je souhaite créer un compte' }).waitFor();

            // The captcha: an image whose alt is the API's (what it is, not
            // the answer), its spoken version, another one on demand.
            const premier = await captchaId(page);
            const image = page.locator('#cr-captcha-image');
            const alt = await image.getAttribute('alt');
            assert.match(alt, /caractères/, `the API's text alternative: ${alt}`);
            assert.ok(!alt.includes(captchaAnswer(premier)), 'the alt does not give the answer');
            // drawn on the server's thread pool: await the picture
            await page.waitForFunction(() => {
                const img = document.querySelector('#cr-captcha-image');
                return img && img.complete && img.naturalWidth > 0;
            }, null, { timeout: 15000 });
            const son = await page.locator('#cr-captcha-audio').getAttribute('src');
            assert.match(son, /\.wav$/);
            const wav = await page.request.get(son);
            assert.equal(wav.status(), 200);
            assert.match(wav.headers()['content-type'], /^audio\//);
            await page.getByRole('button', { name: 'Nouvelle image' }).press('Enter');
            await autreCaptcha(page, premier);
            assert.match(await page.locator('#cr-captcha-message').textContent(),
                         /nouvelle image/i);
            assert.equal(await focus(page), 'cr-captcha-reponse',
                         'after "Nouvelle image" the focus is on the field to type it in');
            await page.locator('#form-creation').getByLabel('Saisissez le texte de l’image').waitFor();
            await sansViolation(page, '/compte.html, the empty form');

            // Nothing typed: a summary at the top, the message beside each
            // field, the focus on the first one.
            const confirmer = page.getByRole('button', { name: 'Confirmer et continuer' });
            await confirmer.press('Enter');
            const recap = page.locator('#form-creation .recap-erreurs');
            await recap.waitFor();
            assert.equal(await recap.getAttribute('role'), 'alert');
            assert.match(await recap.innerText(), /Prénom : Saisissez le prénom\./);
            assert.match(await recap.innerText(),
                         /Civilité : Choisissez « Madame » ou « Monsieur »\./);
            assert.equal(await focus(page), 'cr-civilite-mme',
                         'the focus is on the first field in error');
            const prenom = page.locator('#cr-prenom');
            assert.equal(await prenom.getAttribute('aria-invalid'), 'true');
            assert.match(await erreurDe(page, '#cr-prenom'), /Saisissez le prénom\./);
            await sansViolation(page, '/compte.html, the form with its errors');
            await page.screenshot({ path: screenshotPath('creation-erreurs.png'), fullPage: true });

            // The form, filled in, with a child declared at once; the page
            // checks what the server will: a phone of two digits is refused
            // here, and the captcha typed stays.
            await page.getByLabel('Madame').check();
            await prenom.fill(RUN.prenom);
            await page.fill('#cr-nom', RUN.nom);
            await page.fill('#cr-naissance', '1984-06-21');
            await page.fill('#cr-courriel', RUN.email);
            await page.fill('#cr-telephone', '12');
            await page.fill('#cr-adresse', '12 rue des Lilas');
            await page.fill('#cr-code-postal', '44000');
            await page.fill('#cr-commune', 'Nantes');
            await page.fill('#cr-mdp', RUN.password);
            await page.fill('#cr-mdp-confirmation', RUN.password);
            await page.locator('#cr-question').selectOption({ label: RUN.question });
            await page.fill('#cr-reponse', RUN.answer);
            await page.getByLabel('Par courriel').check();
            await page.getByRole('button', { name: 'Ajouter un enfant' }).press('Enter');
            const enfant = page.getByRole('group', { name: 'Enfant 1' });
            await enfant.getByLabel('Prénom').fill('Léa');
            await enfant.getByLabel('Date de naissance').fill('2016-03-02');
            const id1 = await captchaId(page);
            const reponse1 = captchaAnswer(id1);
            await page.fill('#cr-captcha-reponse', reponse1);
            await confirmer.press('Enter');
            await page.waitForFunction(() => document.querySelector('#cr-telephone')
                .getAttribute('aria-invalid') === 'true');
            assert.equal(await erreurDe(page, '#cr-telephone'), 'Erreur : Le numéro de '
                + 'téléphone doit compter 10 chiffres (ou l’indicatif + et 11 à 15 chiffres).');
            assert.equal(await focus(page), 'cr-telephone');
            assert.equal(await captchaId(page), id1, 'the captcha is the same');
            assert.equal(await page.inputValue('#cr-captcha-reponse'), reponse1,
                         'and what was typed in it stays');

            // A field the server refuses (the request altered on its way, as
            // if the page had missed it): its message beside the field, and
            // the captcha, which the server checks last, is still good.
            await page.fill('#cr-telephone', '01 23 45 67 89');
            await page.route('**/api/accounts', async (route) => {
                const corps = route.request().postDataJSON();
                corps.holder.phone = '12';
                await route.continue({ postData: JSON.stringify(corps) });
            });
            await confirmer.press('Enter');
            await page.waitForFunction(() => document.querySelector('#cr-telephone')
                .getAttribute('aria-invalid') === 'true', null, { timeout: 30000 });
            await page.unroute('**/api/accounts');
            assert.match(await erreurDe(page, '#cr-telephone'),
                         /Le numéro de téléphone doit compter 10 chiffres/);
            assert.equal(await captchaId(page), id1, 'a field error leaves the captcha unspent');
            assert.equal(await page.inputValue('#cr-captcha-reponse'), reponse1);
            assert.match(await page.locator('#cr-captcha-message').textContent(),
                         /reste valable/);
            assert.equal(await prenom.getAttribute('aria-invalid'), null,
                         'the fields now right are no longer marked');

            // A wrong captcha: the API's message beside the field, a new image.
            const faux = reponse1 === 'ZZZZZZ' ? 'AAAAAA' : 'ZZZZZZ';
            await page.fill('#cr-captcha-reponse', faux);
            await confirmer.press('Enter');
            const id2 = await autreCaptcha(page, id1);
            assert.equal(await page.getAttribute('#cr-captcha-reponse', 'aria-invalid'), 'true');
            assert.match(await erreurDe(page, '#cr-captcha-reponse'),
                         /Le texte recopié ne correspond pas à l’image/);
            assert.equal(await focus(page), 'cr-captcha-reponse');
            assert.equal(await page.inputValue('#cr-captcha-reponse'), '',
                         'the spent answer is cleared');

            // An image left open too long (expired on the server): "l'image
            // a expiré", not "ne correspond pas", and a new one.
            assert.equal(psql(`UPDATE portal.captchas SET expires_at = now() WHERE id = '${id2}' `
                              + 'RETURNING 1'), '1');
            await page.fill('#cr-captcha-reponse', captchaAnswer(id2));
            await confirmer.press('Enter');
            const id3 = await autreCaptcha(page, id2);
            assert.equal(await erreurDe(page, '#cr-captcha-reponse'),
                         'Erreur : L’image a expiré : recopiez le texte de la nouvelle image.');
            assert.match(await recap.innerText(), /L’image a expiré/);
            assert.equal(await focus(page), 'cr-captcha-reponse');
            await sansViolation(page, '/compte.html, an expired captcha');

            // The right one.
            await page.fill('#cr-captcha-reponse', captchaAnswer(id3));
            await confirmer.press('Enter');
            const reussite = page.locator('#creation-reussie');
            await reussite.waitFor({ timeout: 60000 });
            const affiche = (await page.locator('#creation-login').textContent()).trim();

            const mail = await waitForMail({ to: RUN.email, match: /identifiant\s*:\s*(\S+)/i });
            t.diagnostic(`login mail: ${mail.file}`);
            const login = mail.match[1];
            assert.equal(affiche, login, 'the page shows the login of the mail');
            assert.match(login, new RegExp(`^elise\\.durand${suffixe}\\d*$`),
                         `prénom.nom: ${JSON.stringify(login)}`);
            RUN.login = login;
            assert.match(await reussite.innerText(), /envoyé par courriel/);
            // The focus moves there once the new session is open (Argon2id).
            await page.waitForFunction(
                () => document.activeElement
                      && document.activeElement.id === 'creation-reussie-titre',
                null, { timeout: 15000 });
            assert.ok(await page.locator('#creer-un-compte').isHidden(),
                      'no empty sign-up form under the success panel');

            // Logged in at once: the household and the documents are there.
            await compteCharge(page);
            const entete = page.locator('header .entete__session');
            assert.equal((await entete.locator('[data-login]').textContent()).trim(), login);
            assert.equal((await page.locator('#creation-connexion').textContent()).trim(), '',
                         'nothing went wrong with the automatic login');
            assert.ok((await page.locator('#compte-attente').innerText())
                .replace(/\s+/g, ' ').includes(ATTENTE.replace(/\s+/g, ' ')));
            await page.locator('#liste-adultes').getByText(`${RUN.prenom} ${RUN.nom}`, { exact: true }).waitFor();
            await page.locator('#liste-enfants').getByText(`Léa ${RUN.nom}`, { exact: true }).waitFor();
            await reussite.getByRole('link', { name: /déposez les pièces justificatives/ }).waitFor();

            // Not a PDF, JPEG or PNG: the API's 415 message beside the field.
            await page.setInputFiles('#document-fichier', {
                name: 'notes.txt', mimeType: 'application/pdf',
                buffer: Buffer.from('du texte, pas un PDF\n'),
            });
            const envoyer = page.getByRole('button', { name: 'Envoyer le document' });
            await envoyer.press('Enter');
            await page.waitForFunction(() => document.querySelector('#document-fichier')
                .getAttribute('aria-invalid') === 'true', null, { timeout: 30000 });
            assert.match(await erreurDe(page, '#document-fichier'), /PDF.*JPEG.*PNG/);
            assert.equal(await focus(page), 'document-fichier');

            // A document, with the upload's progress bar; the focus on it.
            await page.locator('#document-type').selectOption({ label: 'Justificatif de domicile' });
            await page.setInputFiles('#document-fichier', {
                name: 'facture-électricité-de-novembre-deux-mille-vingt-six.pdf',
                mimeType: 'application/pdf', buffer: PDF,
            });
            await page.evaluate(() => {
                window.__progression = [];
                const p = document.querySelector('#envoi-progression');
                new MutationObserver(() => window.__progression.push(p.value))
                    .observe(p, { attributes: true, childList: true });
            });
            await envoyer.press('Enter');
            const doc = page.locator('#liste-documents li',
                                     { hasText: 'facture-électricité-de-novembre' });
            await doc.waitFor({ timeout: 60000 });
            assert.match(await doc.innerText(), /Justificatif de domicile – 600,\d Ko/);
            // Role and label apart: playwright-core 1.61 (the newest for
            // Node.js 18) gives a <progress> no name from its <label for>,
            // though Chromium does.
            const barre = page.getByRole('progressbar')
                .and(page.getByLabel(/Envoi du document/));
            assert.equal(await barre.getAttribute('value'), '100');
            const valeurs = await page.evaluate(() => window.__progression);
            assert.ok(valeurs.length >= 2 && valeurs.includes(100),
                      `the bar moved: ${valeurs.join(', ')}`);
            assert.match(await message(page, '#documents-message'), /est déposé/);
            assert.equal(await texteFocus(page),
                         'facture-électricité-de-novembre-deux-mille-vingt-six.pdf',
                         'the focus is on the document just uploaded');

            const liste = await (await page.request.get(url('/api/me/documents'))).json();
            assert.ok(liste.some((d) => d.filename.startsWith('facture-électricité')
                                        && d.kind === 'justificatif_domicile'
                                        && d.size === PDF.length));

            // The export link gives the whole account.
            const lien = page.getByRole('link', { name: /Télécharger toutes les données/ });
            const exporte = await page.request.get(new URL(await lien.getAttribute('href'),
                                                           page.url()).toString());
            assert.equal(exporte.status(), 200);
            const donnees = await exporte.json();
            assert.equal((donnees.account || donnees).login, login);

            await sansViolation(page, '/compte.html, the account just created');
            await page.screenshot({ path: screenshotPath('compte-cree.png'), fullPage: true });

            await entete.getByRole('button', { name: 'Se déconnecter' }).press('Enter');
            await page.locator('#form-connexion').waitFor();
            assert.equal(await message(page, '#espace-message'), 'Vous êtes déconnecté.');
            assert.equal(await focus(page), 'identifiant');
            assert.equal(await page.locator('#creation-reussie').isHidden(), true);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('before validation (375 px): the account\'s state said at the top, the '
         + 'changes shown unavailable with their reason; documents viewed, '
         + 'replaced, deleted; no red box for requests not there yet',
         { timeout: 120000 }, async (t) => {
        if (!besoinDuCompte(t)) {
            return;
        }
        const { context, page, erreurs } = await nouvellePage(TELEPHONE);
        try {
            assert.equal(await seConnecter(page, RUN.login, RUN.password), 'Vous êtes connecté.');
            assert.equal(await focus(page), 'mon-espace-titre');

            // Home, logged in: a calm empty list, no sign-up pitch.
            const dernieres = page.locator('#dernieres-demandes');
            await dernieres.getByText('Vous n’avez encore fait aucune demande en ligne.').waitFor();
            assert.equal(await dernieres.locator('.alerte--erreur').count(), 0);
            assert.ok(await page.getByRole('heading', { name: /Pourquoi créer un Compte/ })
                .isHidden());
            const h1 = await page.locator('h1').boundingBox();
            const boite = await page.locator('#connexion').boundingBox();
            assert.ok(h1.y < boite.y, 'on a phone the content comes before the login box');
            await sansDepasser(page, '/ logged in, 375 px');
            await page.screenshot({ path: screenshotPath('accueil-connecte-mobile.png'),
                                    fullPage: true });

            await page.getByRole('navigation', { name: 'Navigation principale' })
                .getByRole('link', { name: 'Demandes' }).press('Enter');
            await waitReady(page);
            await page.getByText('Vous n’avez encore fait aucune demande en ligne.').waitFor();
            assert.equal(await page.locator('main .alerte--erreur').count(), 0);
            await sansDepasser(page, '/demandes.html logged in, 375 px');
            await page.screenshot({ path: screenshotPath('demandes-connecte-mobile.png'),
                                    fullPage: true });

            await page.getByRole('navigation', { name: 'Navigation principale' })
                .getByRole('link', { name: 'Compte' }).press('Enter');
            await waitReady(page);
            await compteCharge(page);
            const titre = await page.getByRole('heading', { name: 'Mon compte', level: 1 })
                .boundingBox();
            assert.ok(titre.y < 300, `the heading is at the top of a phone (${titre.y} px)`);
            assert.ok((await page.locator('#compte-attente').innerText())
                .replace(/\s+/g, ' ').includes(ATTENTE.replace(/\s+/g, ' ')));

            // "Ajouter un enfant": reachable, said unavailable, and why.
            const ajouter = page.getByRole('button', { name: 'Ajouter un enfant' });
            assert.equal(await ajouter.getAttribute('aria-disabled'), 'true');
            assert.match(await ajouter.getAttribute('aria-describedby'), /raison-non-valide/);
            assert.match(await page.locator('#raison-non-valide').innerText(),
                         /après la validation de votre compte par la Mairie/);
            await ajouter.press('Enter');
            assert.match(await message(page, '#foyer-message'), RAISON);
            assert.ok(await page.locator('#ajout-membre').isHidden(), 'no form to fill for nothing');
            assert.equal(await focus(page), 'Ajouter un enfant');
            const retirer = page.getByRole('button', { name: `Retirer du foyer : Léa ${RUN.nom}` });
            assert.equal(await retirer.getAttribute('aria-disabled'), 'true');

            // A file: "Modifier" unavailable too, its reason beside the block.
            await page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` })
                .press('Enter');
            assert.equal(await focus(page), 'fiche-titre');
            const fiche = page.locator('#fiche');
            assert.deepEqual(await fiche.locator('h3').allInnerTexts(),
                             ['Identité', 'Coordonnées et adresse', 'Mode de contact']);
            const modifier = fiche.getByRole('button', { name: 'Modifier : Coordonnées et adresse' });
            assert.equal(await modifier.getAttribute('aria-disabled'), 'true');
            await modifier.press('Enter');
            assert.match(await message(page, '#fiche-message-coordonnees'), RAISON);
            assert.equal(await fiche.locator('form').count(), 0);
            await sansViolation(page, '/compte.html, waiting for validation');
            await sansDepasser(page, '/compte.html waiting for validation, 375 px');
            await page.screenshot({ path: screenshotPath('compte-attente-mobile.png'),
                                    fullPage: true });
            await page.getByRole('button', { name: 'Fermer la fiche' }).press('Enter');

            // Documents are allowed before validation: a second one...
            await page.locator('#document-type').selectOption({ label: 'Pièce d’identité' });
            await page.setInputFiles('#document-fichier', {
                name: 'carte-identite.png', mimeType: 'image/png', buffer: PNG,
            });
            await page.getByRole('button', { name: 'Envoyer le document' }).press('Enter');
            const png = page.locator('#liste-documents li', { hasText: 'carte-identite.png' });
            await png.waitFor({ timeout: 30000 });
            assert.equal(await texteFocus(page), 'carte-identite.png');

            // ... viewed,
            const voir = png.getByRole('link', { name: 'Voir : carte-identite.png (téléchargement)' });
            const fichier = await page.request.get(new URL(await voir.getAttribute('href'),
                                                           page.url()).toString());
            assert.equal(fichier.status(), 200);
            assert.equal(fichier.headers()['content-type'], 'image/png');

            // ... replaced (the file chooser beside it),
            const ancien = page.locator('#liste-documents li', { hasText: 'facture-électricité' });
            const nomAncien = (await ancien.locator('.document__nom').textContent()).trim();
            await ancien.getByRole('button', { name: `Remplacer : ${nomAncien}` }).press('Enter');
            const choix = ancien.getByLabel(`Nouveau fichier pour « ${nomAncien} »`);
            assert.equal(await focus(page), await choix.getAttribute('id'));
            await choix.setInputFiles({ name: 'quittance-de-loyer.pdf',
                                        mimeType: 'application/pdf', buffer: PDF });
            await ancien.getByRole('button', { name: 'Remplacer le document' }).press('Enter');
            await page.locator('#liste-documents li', { hasText: 'quittance-de-loyer.pdf' })
                .waitFor({ timeout: 30000 });
            assert.equal(await message(page, '#documents-message'),
                         `Le document « quittance-de-loyer.pdf » remplace « ${nomAncien} ».`);
            assert.equal(await texteFocus(page), 'quittance-de-loyer.pdf');
            assert.equal(await page.locator('#liste-documents li', { hasText: nomAncien }).count(), 0);

            // ... and deleted, once its name confirmed in a dialogue.
            const supprimer = png.getByRole('button', { name: 'Supprimer : carte-identite.png' });
            await supprimer.press('Enter');
            const dialogue = page.getByRole('dialog', { name: 'Supprimer « carte-identite.png » ?' });
            await dialogue.waitFor();
            assert.equal(await focus(page), 'confirmation-titre');
            await sansViolation(page, '/compte.html, confirming a deletion');
            await page.screenshot({ path: screenshotPath('confirmation-mobile.png') });
            await page.keyboard.press('Escape');
            assert.ok(await dialogue.isHidden());
            assert.equal(await focus(page), 'Supprimer : carte-identite.png',
                         'cancelled: the focus is back on the button');
            await supprimer.press('Enter');
            await dialogue.waitFor();
            await page.keyboard.press('Tab');
            assert.equal(await focus(page), 'Supprimer « carte-identite.png »');
            await page.keyboard.press('Enter');
            await message(page, '#documents-message').then((m) => assert.equal(m,
                'Le document « carte-identite.png » est supprimé.'));
            assert.equal(await png.count(), 0);
            assert.equal(await focus(page), 'documents-liste-titre');

            const docs = await (await page.request.get(url('/api/me/documents'))).json();
            assert.deepEqual(docs.map((d) => d.filename), ['quittance-de-loyer.pdf']);
            await sansDepasser(page, '/compte.html with documents, 375 px');
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('once validated (1280 px): add, change and remove members; the focus '
         + 'and a message after each step; a new e-mail address needs the password',
         { timeout: 120000 }, async (t) => {
        if (!besoinDuCompte(t)) {
            return;
        }
        assert.match(RUN.login, /^[a-z0-9.-]+$/);
        assert.equal(psql('SELECT portal.validate_account(id) FROM portal.accounts '
                          + `WHERE login = '${RUN.login}'`), 't');

        const { context, page, erreurs } = await nouvellePage();
        try {
            await seConnecter(page, RUN.login, RUN.password);
            await page.goto(url('/compte.html'));
            await waitReady(page);
            await compteCharge(page);
            assert.ok(await page.locator('#etat-compte [data-si-valide]').isVisible());
            assert.ok(await page.locator('#compte-attente').isHidden());
            assert.equal(await page.getByRole('button', { name: 'Ajouter un enfant' })
                .getAttribute('aria-disabled'), null);

            // With the keyboard: "Voir la fiche", then "Modifier", "Annuler",
            // "Fermer la fiche", the focus following each step.
            const voir = page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` });
            await voir.press('Enter');
            assert.equal(await focus(page), 'fiche-titre');
            await page.keyboard.press('Tab');
            assert.equal(await focus(page), 'Fermer la fiche');
            await page.keyboard.press('Tab');
            assert.equal(await focus(page), 'Modifier : Identité');
            await page.keyboard.press('Enter');
            assert.equal(await focus(page), 'fiche-identite-civility-Mme',
                         'the focus goes to the first field of the block');
            await page.locator('#fiche [data-bloc="identite"]')
                .getByRole('button', { name: 'Annuler' }).press('Enter');
            assert.equal(await focus(page), 'Modifier : Identité');
            await page.getByRole('button', { name: 'Fermer la fiche' }).press('Enter');
            assert.equal(await focus(page), `Voir la fiche : ${RUN.prenom} ${RUN.nom}`);

            const ajout = page.locator('#ajout-membre');
            await page.getByRole('button', { name: 'Ajouter un enfant' }).press('Enter');
            assert.equal(await focus(page), 'ajout-titre');
            assert.equal(await ajout.getByLabel('Nom', { exact: true }).inputValue(), RUN.nom);
            assert.equal(await ajout.getByLabel('Code postal').inputValue(), '44000');
            await ajout.getByLabel('Prénom').fill('Hugo');
            await ajout.getByLabel('Date de naissance').fill('2019-07-14');
            await ajout.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            const carte = page.locator('#liste-enfants .personne', { hasText: `Hugo ${RUN.nom}` });
            await carte.waitFor({ timeout: 30000 });
            assert.match(await message(page, '#foyer-message'),
                         /Hugo .* fait maintenant partie de votre foyer/);
            assert.equal(await focus(page), `Voir la fiche : Hugo ${RUN.nom}`);

            // A block of the child's file, saved: said, the focus on it.
            await carte.getByRole('button', { name: /Voir la fiche/ }).press('Enter');
            const fiche = page.locator('#fiche');
            await fiche.getByRole('button', { name: 'Modifier : Identité' }).press('Enter');
            await fiche.getByLabel('Prénom').fill('Hugues');
            await fiche.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            assert.equal(await message(page, '#fiche-message-identite'),
                         'Les modifications du bloc « Identité » sont enregistrées.');
            assert.equal(await focus(page), 'fiche-bloc-identite');
            await fiche.getByRole('heading', { name: `Fiche de Hugues ${RUN.nom}` }).waitFor();

            await page.getByRole('button', { name: 'Ajouter un adulte' }).press('Enter');
            await ajout.getByLabel('Monsieur').check();
            await ajout.getByLabel('Prénom').fill('Marc');
            await ajout.getByLabel('Date de naissance').fill('1982-02-11');
            await ajout.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            await page.locator('#liste-adultes').getByText(`Marc ${RUN.nom}`, { exact: true })
                .waitFor({ timeout: 30000 });
            const adultes = await page.locator('#liste-adultes').boundingBox();
            const enfants = await page.locator('#liste-enfants').boundingBox();
            assert.ok(adultes.x + adultes.width <= enfants.x,
                      'the adults on the left, the children on the right');

            // The holder's contact mode: saved, then the focus on the mode
            // checked when it is edited again (not on the first one).
            await voir.press('Enter');
            await fiche.getByRole('button', { name: 'Modifier : Mode de contact' }).press('Enter');
            assert.equal(await focus(page), 'fiche-contact-contact_mode-email');
            await page.keyboard.press('ArrowDown');
            assert.ok(await fiche.getByLabel('Par téléphone').isChecked());
            await fiche.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            assert.equal(await message(page, '#fiche-message-contact'),
                         'Les modifications du bloc « Mode de contact » sont enregistrées.');
            assert.equal(await focus(page), 'fiche-bloc-contact');
            await fiche.getByRole('button', { name: 'Modifier : Mode de contact' }).press('Enter');
            assert.equal(await focus(page), 'fiche-contact-contact_mode-phone');
            await fiche.locator('[data-bloc="contact"]').getByRole('button', { name: 'Annuler' })
                .press('Enter');

            // A new e-mail address: the password is asked for, beside it.
            await fiche.getByRole('button', { name: 'Modifier : Coordonnées et adresse' })
                .press('Enter');
            const coordonnees = fiche.locator('[data-bloc="coordonnees"]');
            const mdp = coordonnees.getByLabel('Mot de passe actuel');
            assert.ok(await mdp.isHidden(), 'not asked while the address stays');
            const nouvelle = `elise.${suffixe}@exemple-nantes.fr`;
            await coordonnees.getByLabel('Adresse électronique').fill(nouvelle);
            await mdp.waitFor();
            await coordonnees.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            assert.match(await erreurDe(page, '#fiche-coordonnees-current_password'),
                         /Saisissez votre mot de passe actuel pour changer d’adresse électronique/);
            assert.equal(await focus(page), 'fiche-coordonnees-current_password');
            await mdp.fill(RUN.password);
            await coordonnees.getByRole('button', { name: 'Enregistrer' }).press('Enter');
            assert.match(await message(page, '#fiche-message-coordonnees'),
                         /nouvelle adresse électronique est enregistrée/);
            const ancienneAdresse = RUN.email;
            RUN.email = nouvelle;
            await waitForMail({ to: ancienneAdresse, match: /vient d.être changée/ });

            // Marc leaves the household: asked by name, then gone.
            const retirer = page.getByRole('button', { name: `Retirer du foyer : Marc ${RUN.nom}` });
            await retirer.press('Enter');
            const dialogue = page.getByRole('dialog', { name: `Retirer Marc ${RUN.nom} du foyer ?` });
            await dialogue.waitFor();
            assert.match(await dialogue.innerText(), new RegExp(`Marc ${RUN.nom} ne fera plus partie`));
            await page.keyboard.press('Tab');
            assert.equal(await focus(page), `Retirer Marc ${RUN.nom}`);
            await page.keyboard.press('Enter');
            assert.equal(await message(page, '#foyer-message'),
                         `Marc ${RUN.nom} ne fait plus partie de votre foyer.`);
            assert.equal(await focus(page), 'adultes-titre');
            assert.equal(await page.locator('#liste-adultes').getByText(`Marc ${RUN.nom}`).count(), 0);

            const me = await (await page.request.get(url('/api/me'))).json();
            assert.equal(me.contact_mode, 'phone');
            assert.equal(me.holder.email, nouvelle);
            assert.deepEqual(me.members.map((m) => m.first_name).sort(), ['Hugues', 'Léa']);

            await sansViolation(page, '/compte.html, the household and a file open');
            await page.screenshot({ path: screenshotPath('compte-foyer.png'), fullPage: true });
            await page.setViewportSize(TELEPHONE);
            await sansDepasser(page, '/compte.html validated, 375 px');
            await sansViolation(page, '/compte.html validated, 375 px');
            await page.screenshot({ path: screenshotPath('compte-foyer-mobile.png'), fullPage: true });
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('lost password: the security question, a temporary password by mail, '
         + '"Choisissez un nouveau mot de passe"', { timeout: 120000 }, async (t) => {
        if (!besoinDuCompte(t)) {
            return;
        }
        const { context, page, erreurs } = await nouvellePage();
        try {
            await page.goto(url('/'));
            await waitReady(page);
            await page.fill('#identifiant', RUN.login);
            await page.getByRole('link', { name: 'Mot de passe oublié ?' }).press('Enter');
            const cadre = page.locator('#mot-de-passe-oublie');
            await cadre.getByRole('heading', { name: 'Répondez à votre question' }).waitFor();
            const reponse = page.getByLabel(RUN.question, { exact: true });
            await reponse.waitFor();
            assert.equal(await focus(page), 'oubli-reponse');
            await sansViolation(page, '/ lost password, the question');
            await page.screenshot({ path: screenshotPath('mot-de-passe-oublie.png') });

            const depuis = Date.now();
            await reponse.fill('  medor ');     // case, accents, spaces do not count
            await reponse.press('Enter');
            const dit = await message(page, '#connexion-message');
            assert.match(dit, /mot de passe temporaire/);
            assert.match(dit, /courriers indésirables \(spam\).*recommencez.*contactez la Mairie/,
                         'what to do when no mail comes');
            assert.equal(await focus(page), 'mot-de-passe');
            const mail = await waitForMail({ to: RUN.email, since: depuis,
                                             match: /mot de passe temporaire\s*:\s*(\S+)/i });
            t.diagnostic(`temporary password mail: ${mail.file}`);
            const provisoire = mail.match[1];

            assert.match(await seConnecter(page, RUN.login, provisoire), /temporaire/);
            const carte = page.locator('[data-si-changement-mdp]');
            await carte.getByRole('heading', { name: 'Choisissez un nouveau mot de passe' }).waitFor();
            assert.ok(await page.locator('#form-connexion').isHidden());
            assert.equal(await focus(page), 'nouveau-mdp');
            await sansViolation(page, '/ "Choisissez un nouveau mot de passe"');
            await page.screenshot({ path: screenshotPath('nouveau-mot-de-passe.png') });

            // The server's rules, on the page: too short, then too common.
            const champ = carte.getByLabel('Nouveau mot de passe', { exact: true });
            const confirmation = carte.getByLabel('Confirmez le nouveau mot de passe', { exact: true });
            await champ.fill('court');
            await confirmation.fill('court');
            await confirmation.press('Enter');
            assert.match(await erreurDe(page, '#nouveau-mdp'), /au moins 12 caractères/);
            await champ.fill('Azerty123456');
            await confirmation.fill('Azerty123456');
            await confirmation.press('Enter');
            assert.match(await erreurDe(page, '#nouveau-mdp'), /fait partie des plus courants/);

            const nouveau = `un autre jardin fleuri ${suffixe}`;
            await champ.fill(nouveau);
            await confirmation.fill(nouveau);
            await confirmation.press('Enter');
            await page.getByRole('heading', { name: 'Mon espace' }).waitFor({ timeout: 30000 });
            assert.match(await message(page, '#espace-message'), /nouveau mot de passe est enregistré/);
            const s = await (await page.request.get(url('/api/session'))).json();
            assert.equal(s.authenticated, true);
            assert.equal(s.password_change_required, false);

            await page.locator('header').getByRole('button', { name: 'Se déconnecter' }).press('Enter');
            await page.locator('#form-connexion').waitFor();
            assert.equal(await seConnecter(page, RUN.login, nouveau), 'Vous êtes connecté.');
            RUN.password = nouveau;
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });
});
