// The citizen's account, end to end, in Chromium against the real server
// (no stand-in API): create an account (seed flow A) with its captcha, read
// the login from the mail, log in, be refused a change before validation,
// validate the account as the town hall would (SQL), add a child, change a
// block of a file, upload a document with its progress bar, recover a lost
// password through the security question and the temporary password sent
// by mail. axe-core finds nothing on any of these screens.
//
//   PORTAL_BASE_URL=http://127.0.0.1:8080 node --test t/browser/
//
// Environment (see README.md): PORTAL_MAILDIR, PORTAL_PSQL,
// PORTAL_CAPTCHA_ANSWER.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE_URL, url, launch, waitReady, runAxe, formatViolations, screenshotPath,
    uniqueLetters, psql, captchaAnswer, waitForMail,
} from './lib.mjs';

const ATTENTE = 'Votre compte est en attente de validation par la mairie\u00a0: '
    + 'vous ne pouvez pas encore le modifier\u00a0; vos démarches restent possibles.';

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

async function nouvellePage(options = {}) {
    const context = await browser.newContext({
        bypassCSP: true,            // axe is injected as a script
        locale: 'fr-FR',
        viewport: { width: 1280, height: 900 },
        ...options,
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

async function messageConnexion(page) {
    await page.waitForFunction(() => {
        const t = document.querySelector('#connexion-message').textContent.trim();
        return t && !t.endsWith('…');
    }, null, { timeout: 30000 });
    return (await page.locator('#connexion-message').textContent()).trim();
}

async function seConnecter(page, login, password) {
    await page.goto(url('/'));
    await waitReady(page);
    await page.fill('#identifiant', login);
    await page.fill('#mot-de-passe', password);
    await page.getByRole('button', { name: 'Connexion', exact: true }).click();
    return messageConnexion(page);
}

async function captchaId(page) {
    await page.waitForFunction(
        () => document.querySelector('#cr-captcha-image').getAttribute('data-captcha-id'),
        null, { timeout: 20000 });
    return page.locator('#cr-captcha-image').getAttribute('data-captcha-id');
}

async function compteCharge(page) {
    await page.waitForSelector('html[data-compte="pret"]', { state: 'attached',
                                                            timeout: 30000 });
}

function besoinDuCompte(t) {
    if (!RUN.login) {
        t.skip('the account of the first test was not created');
        return false;
    }
    return true;
}

describe('the citizen\'s account, against the real API', () => {
    test('create an account ("Je souhaite créer un compte"): errors beside each '
         + 'field, the captcha with its sound and "Nouvelle image", the login '
         + 'shown and mailed, a document uploaded', { timeout: 180000 }, async (t) => {
        const { context, page, erreurs } = await nouvellePage();
        try {
            const questions = await (await fetch(url('/api/security-questions'))).json();
            assert.ok(Array.isArray(questions) && questions.length > 0,
                      'GET /api/security-questions gives a list');
            RUN.question = questions[0].label;

            await page.goto(url('/compte.html#creer-un-compte'));
            await waitReady(page);
            await page.getByRole('heading', { name: 'Je souhaite créer un compte' }).waitFor();

            // The captcha: an image whose alt says what it is, its spoken
            // version, and another one on demand.
            const premier = await captchaId(page);
            const image = page.locator('#cr-captcha-image');
            const alt = await image.getAttribute('alt');
            assert.ok(alt && alt.length > 10, `a text alternative: ${alt}`);
            assert.ok(!alt.includes(captchaAnswer(premier)), 'the alt does not give the answer');
            // drawn on the server's thread pool: await the picture
            await page.waitForFunction(() => {
                const img = document.querySelector('#cr-captcha-image');
                return img && img.complete && img.naturalWidth > 0;
            }, null, { timeout: 15000 });
            assert.ok(await image.evaluate((img) => img.complete && img.naturalWidth > 0),
                      'the image is displayed');
            const son = await page.locator('#cr-captcha-audio').getAttribute('src');
            assert.match(son, /\.wav$/);
            const wav = await page.request.get(son);
            assert.equal(wav.status(), 200);
            assert.match(wav.headers()['content-type'], /^audio\//);
            await page.getByRole('button', { name: 'Nouvelle image' }).click();
            await page.waitForFunction((id) => document.querySelector('#cr-captcha-image')
                .getAttribute('data-captcha-id') !== id, premier);
            assert.match(await page.locator('#cr-captcha-message').textContent(),
                         /nouvelle image/i);
            await page.getByLabel('Saisir le texte de l’image').waitFor();
            await sansViolation(page, '/compte.html, the empty form');

            // Nothing typed: a summary at the top, the message beside each
            // field, the focus on the first one.
            await page.getByRole('button', { name: 'Confirmer et continuer' }).click();
            const recap = page.locator('#form-creation .recap-erreurs');
            await recap.waitFor();
            assert.equal(await recap.getAttribute('role'), 'alert');
            assert.match(await recap.innerText(), /Prénom : Saisissez le prénom\./);
            assert.equal(await page.evaluate(() => document.activeElement.id), 'cr-civilite-mme',
                         'the focus is on the first field in error');
            const prenom = page.locator('#cr-prenom');
            assert.equal(await prenom.getAttribute('aria-invalid'), 'true');
            const decrit = await prenom.getAttribute('aria-describedby');
            assert.match(await page.locator(`#${decrit.split(' ').pop()}`).textContent(),
                         /Saisissez le prénom\./);
            await sansViolation(page, '/compte.html, the form with its errors');
            await page.screenshot({ path: screenshotPath('creation-erreurs.png'), fullPage: true });

            // The form, filled in, with a child declared at once.
            await page.getByLabel('Madame').check();
            await prenom.fill(RUN.prenom);
            await page.fill('#cr-nom', RUN.nom);
            await page.fill('#cr-naissance', '1984-06-21');
            await page.fill('#cr-courriel', RUN.email);
            await page.fill('#cr-telephone', '01 23 45 67 89');
            await page.fill('#cr-adresse', '12 rue des Lilas');
            await page.fill('#cr-code-postal', '44000');
            await page.fill('#cr-commune', 'Nantes');
            await page.fill('#cr-mdp', RUN.password);
            await page.fill('#cr-mdp-confirmation', RUN.password);
            await page.locator('#cr-question').selectOption({ label: RUN.question });
            await page.fill('#cr-reponse', RUN.answer);
            await page.getByLabel('Par courriel').check();
            await page.getByRole('button', { name: 'Ajouter un enfant' }).click();
            const enfant = page.getByRole('group', { name: 'Enfant 1' });
            await enfant.getByLabel('Prénom').fill('Léa');
            await enfant.getByLabel('Date de naissance').fill('2016-03-02');
            assert.equal(await prenom.getAttribute('aria-invalid'), 'true',
                         'the errors stay until the next try');

            // A wrong captcha: the API's message beside the field, a new image.
            const avant = await captchaId(page);
            const faux = captchaAnswer(avant) === 'ZZZZZZ' ? 'AAAAAA' : 'ZZZZZZ';
            await page.fill('#cr-captcha-reponse', faux);
            await page.getByRole('button', { name: 'Confirmer et continuer' }).click();
            // The API answers, then a new captcha comes: wait for both.
            await page.waitForFunction((id) => {
                const v = document.querySelector('#cr-captcha-image').getAttribute('data-captcha-id');
                return v && v !== id;
            }, avant, { timeout: 30000 });
            assert.equal(await page.getAttribute('#cr-captcha-reponse', 'aria-invalid'), 'true');
            assert.equal(await prenom.getAttribute('aria-invalid'), null,
                         'the fields now right are no longer marked');
            assert.match(await recap.innerText(), /Saisir le texte de l’image : .*image/);
            assert.equal(await page.evaluate(() => document.activeElement.id),
                         'cr-captcha-reponse');
            assert.equal(await page.inputValue('#cr-captcha-reponse'), '',
                         'the spent answer is cleared');

            // The right one.
            await page.fill('#cr-captcha-reponse', captchaAnswer(await captchaId(page)));
            await page.getByRole('button', { name: 'Confirmer et continuer' }).click();
            const reussite = page.locator('#creation-reussie');
            await reussite.waitFor({ timeout: 60000 });
            const affiche = (await page.locator('#creation-login').textContent()).trim();

            const mail = await waitForMail({ to: RUN.email, match: /identifiant\s*:\s*(\S+)/i });
            t.diagnostic(`login mail: ${mail.file}`);
            const login = mail.match[1];
            assert.equal(affiche, login, 'the page shows the login of the mail');
            assert.match(login, new RegExp(`^elise\\.durand${suffixe}\\d*$`),
                         `prénom.nom: ${JSON.stringify(login)}`);
            assert.match(mail.body, new RegExp(`Votre identifiant : ${login}\\s`));
            RUN.login = login;
            assert.match(await reussite.innerText(), /envoyé par courriel/);
            // The focus moves there once the new session is open (Argon2id).
            await page.waitForFunction(
                () => document.activeElement
                      && document.activeElement.id === 'creation-reussie-titre',
                null, { timeout: 15000 });

            // Logged in at once: the household and the documents are there.
            await compteCharge(page);
            const entete = page.locator('header .entete__session');
            assert.equal((await entete.locator('[data-login]').textContent()).trim(), login);
            assert.ok(await entete.getByRole('button', { name: 'Se déconnecter' }).isVisible());
            assert.equal((await page.locator('#etat-compte [data-si-non-valide]').innerText())
                .replace(/\s+/g, ' ').includes(ATTENTE.replace(/\s+/g, ' ')), true);
            await page.locator('#liste-adultes').getByText(`${RUN.prenom} ${RUN.nom}`, { exact: true }).waitFor();
            await page.locator('#liste-enfants').getByText(`Léa ${RUN.nom}`, { exact: true }).waitFor();
            await reussite.getByRole('link', { name: /déposez les pièces justificatives/ }).waitFor();

            // Not a PDF, JPEG or PNG: the API's 415 message beside the field.
            await page.setInputFiles('#document-fichier', {
                name: 'notes.txt', mimeType: 'application/pdf',
                buffer: Buffer.from('du texte, pas un PDF\n'),
            });
            await page.getByRole('button', { name: 'Envoyer le document' }).click();
            await page.waitForFunction(() => document.querySelector('#document-fichier')
                .getAttribute('aria-invalid') === 'true', null, { timeout: 30000 });
            assert.match(await page.locator('#form-document .champ__erreur').innerText(),
                         /PDF.*JPEG.*PNG/);
            await sansViolation(page, '/compte.html, a document refused');

            // A document, with the upload's progress bar.
            const pdf = Buffer.concat([
                Buffer.from('%PDF-1.4\n% justificatif de test\n'),
                Buffer.alloc(600 * 1024, 0x20),
                Buffer.from('\n%%EOF\n'),
            ]);
            await page.locator('#document-type').selectOption({ label: 'Justificatif de domicile' });
            await page.setInputFiles('#document-fichier', {
                name: 'facture-électricité.pdf', mimeType: 'application/pdf', buffer: pdf,
            });
            await page.evaluate(() => {
                window.__progression = [];
                const p = document.querySelector('#envoi-progression');
                new MutationObserver(() => window.__progression.push(p.value))
                    .observe(p, { attributes: true, childList: true });
            });
            await page.getByRole('button', { name: 'Envoyer le document' }).click();
            const ligne = page.locator('#liste-documents tbody tr',
                                       { hasText: 'facture-électricité.pdf' });
            await ligne.waitFor({ timeout: 60000 });
            assert.match(await ligne.innerText(), /Justificatif de domicile[\s\S]*600,\d Ko/);
            // Role and label apart: playwright-core 1.61 (the newest for
            // Node.js 18) gives a <progress> no name from its <label for>,
            // though Chromium does.
            const barre = page.getByRole('progressbar')
                .and(page.getByLabel(/Envoi du document/));
            assert.equal(await barre.getAttribute('value'), '100');
            assert.equal(await barre.getAttribute('max'), '100');
            const valeurs = await page.evaluate(() => window.__progression);
            assert.ok(valeurs.length >= 2 && valeurs.includes(100),
                      `the bar moved: ${valeurs.join(', ')}`);
            assert.match(await page.locator('#document-message').textContent(), /est déposé/);

            const docs = await page.request.get(url('/api/me/documents'));
            const liste = await docs.json();
            assert.ok(liste.some((d) => d.filename === 'facture-électricité.pdf'
                                        && d.kind === 'justificatif_domicile'
                                        && d.size === pdf.length));

            // The export link gives the whole account.
            const lien = page.getByRole('link', { name: /Télécharger toutes les données/ });
            const exporte = await page.request.get(new URL(await lien.getAttribute('href'),
                                                           page.url()).toString());
            assert.equal(exporte.status(), 200);
            assert.match(exporte.headers()['content-disposition'] || '', /attachment/);
            const donnees = await exporte.json();
            assert.equal((donnees.account || donnees).login, login);

            await sansViolation(page, '/compte.html, the account just created');
            await page.screenshot({ path: screenshotPath('compte-cree.png'), fullPage: true });

            await entete.getByRole('button', { name: 'Se déconnecter' }).click();
            await page.locator('#form-connexion').waitFor();
            assert.equal(await page.locator('#creation-reussie').isHidden(), true);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('log in with the login of the mail; before validation every change is '
         + 'refused with the API\'s message', { timeout: 120000 }, async (t) => {
        if (!besoinDuCompte(t)) {
            return;
        }
        const { context, page, erreurs } = await nouvellePage();
        try {
            assert.equal(await seConnecter(page, RUN.login, RUN.password), 'Vous êtes connecté.');
            await page.getByRole('heading', { name: 'Mon espace' }).waitFor();
            assert.equal((await page.locator('header [data-login]').textContent()).trim(),
                         RUN.login);
            assert.ok(await page.locator('#connexion [data-si-non-valide]').isVisible());

            await page.getByRole('navigation', { name: 'Navigation principale' })
                .getByRole('link', { name: 'Compte' }).click();
            await waitReady(page);
            await compteCharge(page);
            assert.ok(await page.locator('#etat-compte').getByText(ATTENTE).isVisible());

            // "Voir la fiche", then "Modifier" beside the contact block.
            await page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` }).click();
            const fiche = page.locator('#fiche');
            await fiche.getByRole('heading', { name: `Fiche de ${RUN.prenom} ${RUN.nom}` }).waitFor();
            assert.deepEqual(await fiche.locator('h3').allInnerTexts(),
                             ['Identité', 'Coordonnées et adresse', 'Mode de contact']);
            await fiche.getByRole('button', { name: 'Modifier : Coordonnées et adresse' }).click();
            const bloc = fiche.locator('[data-bloc="coordonnees"]');
            assert.equal(await bloc.getByLabel('Commune').inputValue(), 'Nantes');
            await bloc.getByLabel(/Téléphone/).fill('02 40 00 00 00');
            await bloc.getByRole('button', { name: 'Enregistrer' }).click();
            const refus = bloc.locator('.recap-erreurs');
            await refus.waitFor({ timeout: 30000 });
            assert.match(await refus.innerText(), /pas encore validé/);
            await sansViolation(page, '/compte.html, a change refused');
            await page.screenshot({ path: screenshotPath('compte-refus.png'), fullPage: true });
            await bloc.getByRole('button', { name: 'Annuler' }).click();
            assert.match(await bloc.innerText(), /01 23 45 67 89/);

            // "Ajouter un enfant": pre-filled, and refused too.
            await page.getByRole('button', { name: 'Ajouter un enfant' }).click();
            const ajout = page.locator('#ajout-membre');
            await ajout.getByRole('heading', { name: 'Ajouter un enfant' }).waitFor();
            assert.equal(await ajout.getByLabel('Nom', { exact: true }).inputValue(), RUN.nom);
            assert.equal(await ajout.getByLabel('Numéro et rue').inputValue(), '12 rue des Lilas');
            await ajout.getByLabel('Prénom').fill('Hugo');
            await ajout.getByLabel('Date de naissance').fill('2019-07-14');
            await ajout.getByRole('button', { name: 'Enregistrer' }).click();
            await ajout.locator('.recap-erreurs').waitFor({ timeout: 30000 });
            assert.match(await ajout.locator('.recap-erreurs').innerText(), /pas encore validé/);
            assert.equal(await page.locator('#liste-enfants .personne').count(), 1);

            const me = await (await page.request.get(url('/api/me'))).json();
            assert.equal(me.holder.phone.replace(/\D/g, ''), '0123456789');
            assert.equal(me.members.length, 1);
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('once the town hall has validated the account: add a child (pre-filled '
         + 'with the holder\'s name and address), change a block, add an adult',
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
            assert.ok(await page.locator('#etat-compte').getByText(ATTENTE).isHidden());

            // With the keyboard: "Voir la fiche", then "Modifier", "Annuler",
            // "Fermer la fiche", the focus following each step.
            const voir = page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` });
            await voir.focus();
            await page.keyboard.press('Enter');
            const actif = () => page.evaluate(() => document.activeElement.id
                                              || document.activeElement.textContent);
            assert.equal(await actif(), 'fiche-titre');
            await page.keyboard.press('Tab');
            assert.equal(await actif(), 'Fermer la fiche');
            await page.keyboard.press('Tab');
            assert.equal(await actif(), 'Modifier : Identité');
            await page.keyboard.press('Enter');
            assert.equal(await actif(), 'fiche-identite-civility-Mme',
                         'the focus goes to the first field of the block');
            assert.ok(await page.locator('#fiche-identite-civility-Mme').isChecked());
            await page.locator('#fiche [data-bloc="identite"]')
                .getByRole('button', { name: 'Annuler' }).press('Enter');
            assert.equal(await actif(), 'Modifier : Identité');
            await page.getByRole('button', { name: 'Fermer la fiche' }).press('Enter');
            assert.equal(await actif(), `Voir la fiche : ${RUN.prenom} ${RUN.nom}`);
            assert.ok(await page.locator('#fiche').isHidden());

            await page.getByRole('button', { name: 'Ajouter un enfant' }).click();
            const ajout = page.locator('#ajout-membre');
            assert.equal(await ajout.getByLabel('Nom', { exact: true }).inputValue(), RUN.nom);
            assert.equal(await ajout.getByLabel('Code postal').inputValue(), '44000');
            assert.equal(await ajout.getByLabel('Commune').inputValue(), 'Nantes');
            await ajout.getByLabel('Prénom').fill('Hugo');
            await ajout.getByLabel('Date de naissance').fill('2019-07-14');
            await sansViolation(page, '/compte.html, "Ajouter un enfant"');
            await ajout.getByRole('button', { name: 'Enregistrer' }).click();
            const carte = page.locator('#liste-enfants .personne', { hasText: `Hugo ${RUN.nom}` });
            await carte.waitFor({ timeout: 30000 });
            assert.ok(await ajout.isHidden());
            assert.match(await page.locator('#compte-message').textContent(),
                         /Hugo .* fait maintenant partie de votre foyer/);
            assert.equal(await page.evaluate(() => document.activeElement.textContent),
                         `Voir la fiche : Hugo ${RUN.nom}`);

            // The file of the child: "Modifier" beside its identity.
            await carte.getByRole('button', { name: /Voir la fiche/ }).click();
            const fiche = page.locator('#fiche');
            await fiche.getByRole('heading', { name: `Fiche de Hugo ${RUN.nom}` }).waitFor();
            assert.deepEqual(await fiche.locator('h3').allInnerTexts(), ['Identité', 'Adresse']);
            assert.match(await fiche.locator('[data-bloc="adresse"]').innerText(),
                         /12 rue des Lilas, 44000 Nantes/);
            await fiche.getByRole('button', { name: 'Modifier : Identité' }).click();
            await fiche.getByLabel('Prénom').fill('Hugues');
            await fiche.getByRole('button', { name: 'Enregistrer' }).click();
            await fiche.getByRole('heading', { name: `Fiche de Hugues ${RUN.nom}` })
                .waitFor({ timeout: 30000 });
            await page.locator('#liste-enfants').getByText(`Hugues ${RUN.nom}`, { exact: true }).waitFor();

            // An adult, on the left; the children on the right.
            await page.getByRole('button', { name: 'Ajouter un adulte' }).click();
            await ajout.getByRole('heading', { name: 'Ajouter un adulte' }).waitFor();
            await ajout.getByLabel('Monsieur').check();
            await ajout.getByLabel('Prénom').fill('Marc');
            await ajout.getByLabel('Date de naissance').fill('1982-02-11');
            await ajout.getByRole('button', { name: 'Enregistrer' }).click();
            await page.locator('#liste-adultes').getByText(`Marc ${RUN.nom}`, { exact: true })
                .waitFor({ timeout: 30000 });
            const adultes = await page.locator('#liste-adultes').boundingBox();
            const enfants = await page.locator('#liste-enfants').boundingBox();
            assert.ok(adultes.x + adultes.width <= enfants.x,
                      'the adults on the left, the children on the right');

            // The holder's contact block.
            await page.getByRole('button', { name: `Voir la fiche : ${RUN.prenom} ${RUN.nom}` }).click();
            await fiche.getByRole('button', { name: 'Modifier : Mode de contact' }).click();
            await fiche.getByLabel('Par téléphone').check();
            await fiche.getByRole('button', { name: 'Enregistrer' }).click();
            await page.waitForFunction(() => /Mode de contact.*enregistrées/
                .test(document.querySelector('#compte-message').textContent));
            assert.match(await fiche.locator('[data-bloc="contact"]').innerText(), /Par téléphone/);

            const me = await (await page.request.get(url('/api/me'))).json();
            assert.equal(me.contact_mode, 'phone');
            const hugues = me.members.find((m) => m.first_name === 'Hugues');
            assert.equal(hugues.kind, 'child');
            assert.equal(hugues.last_name, RUN.nom);
            assert.deepEqual(hugues.address, me.holder.address);
            assert.equal(me.members.find((m) => m.first_name === 'Marc').kind, 'adult');

            await sansViolation(page, '/compte.html, the household and a file open');
            await page.screenshot({ path: screenshotPath('compte-foyer.png'), fullPage: true });
            await page.setViewportSize({ width: 390, height: 844 });
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
            await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
            const cadre = page.locator('#mot-de-passe-oublie');
            await cadre.getByRole('heading', { name: 'Répondez à votre question' }).waitFor();
            const reponse = page.getByLabel(RUN.question, { exact: true });
            await reponse.waitFor();
            assert.ok(await reponse.evaluate((el) => el === document.activeElement));
            await sansViolation(page, '/ lost password, the question');
            await page.screenshot({ path: screenshotPath('mot-de-passe-oublie.png') });

            const depuis = Date.now();
            await reponse.fill('  medor ');     // case, accents, spaces do not count
            await cadre.getByRole('button', { name: 'Confirmer' }).click();
            assert.match(await messageConnexion(page), /mot de passe temporaire/);
            const mail = await waitForMail({ to: RUN.email, since: depuis,
                                             match: /mot de passe temporaire\s*:\s*(\S+)/i });
            t.diagnostic(`temporary password mail: ${mail.file}`);
            const provisoire = mail.match[1];

            assert.match(await seConnecter(page, RUN.login, provisoire), /temporaire/);
            const carte = page.locator('[data-si-changement-mdp]');
            await carte.getByRole('heading', { name: 'Choisissez un nouveau mot de passe' }).waitFor();
            assert.ok(await page.locator('#form-connexion').isHidden());
            assert.equal(await page.evaluate(() => document.activeElement.id), 'nouveau-mdp');
            assert.ok(await page.locator('header').getByRole('button', { name: 'Se déconnecter' })
                .isVisible());
            await sansViolation(page, '/ "Choisissez un nouveau mot de passe"');
            await page.screenshot({ path: screenshotPath('nouveau-mot-de-passe.png') });

            // Too short first: the message beside the field.
            await carte.getByLabel('Nouveau mot de passe', { exact: true }).fill('court');
            await carte.getByLabel('Confirmez le nouveau mot de passe', { exact: true }).fill('court');
            await carte.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
            assert.equal(await page.getAttribute('#nouveau-mdp', 'aria-invalid'), 'true');

            const nouveau = `un autre jardin fleuri ${suffixe}`;
            await carte.getByLabel('Nouveau mot de passe', { exact: true }).fill(nouveau);
            await carte.getByLabel('Confirmez le nouveau mot de passe', { exact: true }).fill(nouveau);
            await carte.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
            await page.getByRole('heading', { name: 'Mon espace' }).waitFor({ timeout: 30000 });
            assert.match(await messageConnexion(page), /nouveau mot de passe est enregistré/);
            const s = await (await page.request.get(url('/api/session'))).json();
            assert.equal(s.authenticated, true);
            assert.equal(s.password_change_required, false);

            await page.locator('header').getByRole('button', { name: 'Se déconnecter' }).click();
            await page.locator('#form-connexion').waitFor();
            assert.equal(await seConnecter(page, RUN.login, nouveau), 'Vous êtes connecté.');
            RUN.password = nouveau;
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });
});
