// Online procedures, end to end, in Chromium against the real server (no
// stand-in API), with the keyboard: the catalogue of "Services en ligne";
// a birth certificate asked without an account (flow B), its fields
// checked by the page in the server's words and, when the request is
// altered on its way, by the server, whose messages land beside the fields
// while the captcha stays unspent; flow B with the follow-up, the account
// created with the request, logged in at once, the draft then sent; a
// draft of an account made, its documents sent with their progress bar
// (or refused by the server beside the field: not a PDF, JPEG or PNG, too
// large), left, reopened from the "Demandes" tab, completed and sent; the
// home page's "Dernières demandes"; a request the town hall has in hand,
// read as a PDF. Each new state axe-core clean, at
// 1280 px or 375 px, nothing wider than a phone, and screenshotted.
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
    sansDebordement, ClientApi, creerCompteApi,
} from './lib.mjs';
import { createHash } from 'node:crypto';

const suffixe = uniqueLetters(8);

// The flow B applicant of the birth certificate.
const ANONYME = {
    prenom: 'Gaëlle',
    nom: `Le Gall${suffixe}`,
    email: `gaelle.${suffixe}@example.org`,
};

// The flow B applicant who asks for an account with the request.
const SUIVI = {
    prenom: 'Hervé',
    nom: `Kerjean${suffixe}`,
    email: `herve.${suffixe}@example.org`,
    password: `le phare de la pointe ${suffixe}`,
    login: null,
};

// An account made through the API, with a child: the draft's household.
const FOYER = {
    prenom: 'Inès',
    nom: `Moreau${suffixe}`,
    email: `ines.${suffixe}@example.org`,
    password: `trois pommes sur la table ${suffixe}`,
    answer: 'Nantes',
    login: null,
    enfant: 'Léa',
    demande: null,      // the draft's id, then the sent request's
};

let browser;

before(async () => {
    try {
        const r = await fetch(url('/api/catalog'));
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

// axe, nothing wider than the window, a screenshot: at this width, then
// at the other one.
async function etat(page, nom, label) {
    const large = page.viewportSize().width > 600;
    await sansViolation(page, label);
    await sansDepasser(page, label);
    await page.screenshot({ path: screenshotPath(`${nom}${large ? '' : '-mobile'}.png`),
                            fullPage: true });
    await page.setViewportSize(large ? TELEPHONE : BUREAU);
    await sansViolation(page, `${label} (${large ? 375 : 1280} px)`);
    await sansDepasser(page, `${label} (${large ? 375 : 1280} px)`);
    await page.screenshot({ path: screenshotPath(`${nom}${large ? '-mobile' : ''}.png`),
                            fullPage: true });
    await page.setViewportSize(large ? BUREAU : TELEPHONE);
}

// The text of a live region once it says something final.
async function message(page, selecteur) {
    await page.waitForFunction((s) => {
        const t = document.querySelector(s).textContent.trim();
        return t && !t.endsWith('…');
    }, selecteur, { timeout: 30000 });
    return (await page.locator(selecteur).textContent()).replace(/\s+/g, ' ').trim();
}

// The text beside a field (the error tied to it by aria-describedby).
async function erreurDe(page, selecteur) {
    return page.evaluate((s) => {
        const c = document.querySelector(s);
        return (c.getAttribute('aria-describedby') || '').split(/\s+/)
            .map((id) => document.getElementById(id))
            .filter((el) => el && el.classList.contains('champ__erreur'))
            .map((el) => el.textContent.replace(/\s+/g, ' ').replace(/^Erreur : /, '').trim())
            .join(' | ');
    }, selecteur);
}

async function attendreFocus(page, id) {
    await page.waitForFunction((i) => document.activeElement
                                      && document.activeElement.id === i,
                               id, { timeout: 30000 });
}

async function captchaPret(page, prefixe = 'dm-captcha') {
    await page.waitForFunction((p) => {
        const img = document.querySelector(`#${p}-image`);
        return img && img.getAttribute('data-captcha-id') && img.complete
               && img.naturalWidth > 0;
    }, prefixe, { timeout: 20000 });
    return page.locator(`#${prefixe}-image`).getAttribute('data-captcha-id');
}

// A day from today (UTC, as the server counts), as YYYY-MM-DD.
function jourDans(n) {
    return new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
}

function courte(iso) {
    return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
}

// A one-page PDF that says `texte` (ASCII), its cross-reference table
// pointing at each object, as a scanner would make it (only smaller).
function petitPdf(texte) {
    const contenu = `BT /F1 18 Tf 72 770 Td (${texte}) Tj ET`;
    const objets = [
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] '
            + '/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
        `<< /Length ${contenu.length} >>\nstream\n${contenu}\nendstream`,
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ];
    let pdf = '%PDF-1.4\n';
    const positions = objets.map((o, i) => {
        const position = pdf.length;
        pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
        return position;
    });
    const xref = pdf.length;
    pdf += `xref\n0 ${objets.length + 1}\n0000000000 65535 f \n`
        + positions.map((p) => `${String(p).padStart(10, '0')} 00000 n \n`).join('')
        + `trailer\n<< /Size ${objets.length + 1} /Root 1 0 R >>\n`
        + `startxref\n${xref}\n%%EOF\n`;
    return Buffer.from(pdf, 'latin1');
}

// "Envoyer la pièce" pressed with a file chosen: the server's answer, once
// the page has dealt with it (its form no longer busy).
async function envoyerPiece(page) {
    const [reponse] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'
                             && /^\/api\/requests\/[0-9a-f-]{36}\/documents$/
                                 .test(new URL(r.url()).pathname),
                             { timeout: 60000 }),
        page.locator('#form-document').getByRole('button', { name: 'Envoyer la pièce' })
            .press('Enter'),
    ]);
    await page.waitForFunction(() => document.querySelector('#form-document')
        .getAttribute('aria-busy') === 'false', null, { timeout: 30000 });
    return reponse;
}

// A PDF link followed with the page's cookies (its context's requests): the
// request drawn as a PDF, to be shown in the browser.
async function lirePdf(page, lien, reference) {
    const r = await page.request.get(await lien.getAttribute('href'));
    assert.equal(r.status(), 200, await r.text());
    assert.equal(r.headers()['content-type'], 'application/pdf');
    assert.equal(r.headers()['content-disposition'],
                 `inline; filename="demande-${reference}.pdf"`);
    assert.equal((await r.body()).subarray(0, 5).toString('latin1'), '%PDF-');
}

// GET requests/{id} from the page, with its cookies.
async function demandeLue(page, id) {
    return page.evaluate(async (i) => {
        const r = await fetch(`/api/requests/${i}`, { headers: { Accept: 'application/json' } });
        return { status: r.status, data: await r.json() };
    }, id);
}

// Flow B's "Vos informations".
async function remplirDemandeur(page, p, telephone) {
    await page.locator('#dm-civilite-mme').check();
    await page.locator('#dm-prenom').fill(p.prenom);
    await page.locator('#dm-nom').fill(p.nom);
    await page.locator('#dm-naissance').fill('1981-06-14');
    await page.locator('#dm-courriel').fill(p.email);
    if (telephone) {
        await page.locator('#dm-telephone').fill(telephone);
    }
    await page.locator('#dm-adresse').fill('12 rue des Lilas');
    await page.locator('#dm-code-postal').fill('29200');
    await page.locator('#dm-commune').fill('Brest');
}

// The access box's login; past the failure limits of this address (other
// runs), with the captcha it then shows.
async function connexionAcces(page, login, password) {
    await page.locator('#acces-identifiant').fill(login);
    await page.locator('#acces-mdp').fill(password);
    await page.locator('#acces-mdp').press('Enter');
    await page.waitForFunction(() => {
        const t = document.querySelector('#acces-message').textContent;
        return document.documentElement.getAttribute('data-connecte') === 'oui'
               || (/image|tentatives/.test(t) && !/en cours/.test(t));
    }, null, { timeout: 30000 });
    if (await page.locator('#acces-captcha').isVisible()) {
        const id = await captchaPret(page, 'acces-captcha');
        await page.locator('#acces-captcha-reponse').fill(captchaAnswer(id));
        await page.locator('#acces-captcha-reponse').press('Enter');
    }
}

describe('online procedures, against the real API', () => {
    test('"Services en ligne": the themes, then each theme\'s procedures, a link '
         + 'to its page, saying whether it needs an account', { timeout: 60000 },
    async () => {
        const { context, page, erreurs } = await nouvellePage();
        try {
            await page.goto(url('/services.html'));
            await waitReady(page);
            await page.waitForSelector('html[data-catalogue="pret"]', { state: 'attached' });
            const catalogue = await (await fetch(url('/api/catalog'))).json();
            const sommaire = page.getByRole('navigation', { name: 'Thèmes des démarches' });
            assert.deepEqual(await sommaire.getByRole('link').allInnerTexts(),
                             catalogue.map((t) => t.title));
            const themes = await page.locator('.theme__titre').allInnerTexts();
            assert.deepEqual(themes, catalogue.map((t) => t.title));

            const naissance = page.getByRole('link', { name: 'Demande d’acte de naissance' });
            assert.match(await naissance.getAttribute('href'),
                         /^demarche\.html\?p=acte-naissance$/);
            const ligne = page.locator('.demarche', { has: naissance });
            assert.match(await ligne.innerText(), /Possible sans compte/);
            const ecole = page.locator('.demarche', {
                has: page.getByRole('link', { name: 'Inscription scolaire', exact: true }),
            });
            assert.match(await ecole.innerText(), /Compte nécessaire/);

            // A theme of the summary, with the keyboard: its procedures.
            await sommaire.getByRole('link', { name: 'Cadre de vie' }).press('Enter');
            await page.waitForURL(/#theme-cadre-de-vie$/);
            await etat(page, 'services-catalogue', '/services.html, the catalogue');

            // Enter on a procedure: its page.
            await naissance.press('Enter');
            await page.waitForURL(/demarche\.html\?p=acte-naissance$/);
            await page.getByRole('heading', { level: 1, name: 'Demande d’acte de naissance' })
                .waitFor();
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('a birth certificate without an account (flow B, 375 px): the page\'s '
         + 'checks, then the server\'s beside the fields with the captcha unspent, '
         + 'then sent at once and acknowledged by mail', { timeout: 180000 },
    async (t) => {
        const { context, page, erreurs } = await nouvellePage(TELEPHONE);
        try {
            const envois = [];
            page.on('request', (r) => {
                if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/requests') {
                    envois.push({ cle: r.headers()['idempotency-key'], corps: r.postDataJSON() });
                }
            });
            await page.goto(url('/demarche.html?p=acte-naissance'));
            await waitReady(page);
            const acces = page.locator('#acces');
            await acces.waitFor();
            assert.equal(await page.title(),
                         'Demande d’acte de naissance – Mon Compte Citoyen – Mairie');
            assert.ok(await page.locator('#acces-compte-requis').isHidden(),
                      'a civil-status certificate needs no account');
            await acces.getByRole('heading', {
                name: 'Utiliser mon compte pour effectuer cette demande' }).waitFor();
            await acces.getByRole('heading', { name: 'Je n’ai pas de compte' }).waitFor();
            assert.match(await page.locator('#pieces-demandees').innerText(),
                         /Pièce d’identité du demandeur \(si vous l’avez\)/);
            // On a phone, the procedure comes before the login box.
            const h1 = await page.locator('h1').boundingBox();
            const boite = await page.locator('#connexion').boundingBox();
            assert.ok(h1.y < boite.y);
            await etat(page, 'demarche-acces', '/demarche.html, the two ways in');

            // "Commencer": the form, the focus on its heading.
            const commencer = page.getByRole('button', { name: 'Commencer' });
            await commencer.press('Enter');
            await attendreFocus(page, 'demande-titre');
            assert.equal(await commencer.getAttribute('aria-expanded'), 'true');
            for (const id of ['groupe-demandeur', 'groupe-formulaire', 'groupe-contact',
                              'groupe-suivi', 'groupe-captcha']) {
                assert.ok(await page.locator(`#${id}`).isVisible(), `${id} is shown`);
            }
            assert.ok(await page.locator('#dm-d-jeune').count() === 0);
            assert.ok(await page.locator('[data-action="brouillon"]').isHidden(),
                      'no draft without an account');
            const envoyer = page.locator('#demande-actions [data-action="envoyer"]');
            assert.equal((await envoyer.textContent()).trim(), 'Envoyer la demande');
            const id1 = await captchaPret(page);

            // Everything empty: the summary, the messages beside the fields
            // in the server's words, the focus on the first one.
            await envoyer.press('Enter');
            const recap = page.locator('#form-demarche .recap-erreurs');
            await recap.waitFor();
            assert.equal(await recap.getAttribute('role'), 'alert');
            await attendreFocus(page, 'dm-civilite-mme');
            assert.equal(await erreurDe(page, '#dm-civilite-mme'),
                         'Choisissez « Madame » ou « Monsieur ».');
            assert.equal(await erreurDe(page, '#dm-d-type_acte'),
                         'Choisissez une réponse dans la liste.');
            assert.equal(await erreurDe(page, '#dm-d-exemplaires'), 'Saisissez un nombre.');
            assert.equal(await erreurDe(page, '#dm-d-nom'),
                         'Remplissez ce champ (100 caractères au plus).');
            assert.equal(await erreurDe(page, '#dm-d-date_naissance'), 'Saisissez une date.');
            assert.equal(await erreurDe(page, '#dm-suivi-oui'),
                         'Indiquez si vous souhaitez un compte pour suivre votre demande.');
            assert.equal(await erreurDe(page, '#dm-captcha-reponse'),
                         'Recopiez le texte de l’image.');
            assert.equal(await erreurDe(page, '#dm-d-motif'), '', 'an optional field');
            assert.deepEqual(envois, [], 'nothing was sent');
            await etat(page, 'demarche-erreurs', '/demarche.html, the empty form refused');

            // The applicant fills what the form asks of them: the name,
            // the birth date, the address to send the certificate to.
            await remplirDemandeur(page, ANONYME);
            assert.equal(await page.inputValue('#dm-d-nom'), ANONYME.nom);
            assert.equal(await page.inputValue('#dm-d-prenoms'), ANONYME.prenom);
            assert.equal(await page.inputValue('#dm-d-date_naissance'), '1981-06-14');
            assert.equal(await page.inputValue('#dm-d-adresse_envoi'),
                         '12 rue des Lilas, 29200 Brest');
            // ... which the citizen may change: it then stays as typed.
            await page.locator('#dm-d-prenoms').fill(`${ANONYME.prenom} Anne`);
            await page.locator('#dm-prenom').fill(ANONYME.prenom);
            assert.equal(await page.inputValue('#dm-d-prenoms'), `${ANONYME.prenom} Anne`);

            await page.locator('#dm-d-type_acte').selectOption('copie_integrale');
            await page.locator('#dm-d-qualite').selectOption('interesse');
            await page.locator('#dm-d-exemplaires').fill('9');
            await page.locator('#dm-d-date_naissance').fill(jourDans(3));
            await page.locator('#dm-suivi-non').check();
            await page.locator('#dm-captcha-reponse').fill(captchaAnswer(id1));
            await envoyer.press('Enter');
            await attendreFocus(page, 'dm-d-date_naissance');
            assert.equal(await erreurDe(page, '#dm-d-date_naissance'),
                         'La date ne peut pas être dans le futur.');
            assert.equal(await erreurDe(page, '#dm-d-exemplaires'),
                         'Saisissez un nombre entre 1 et 5.');
            assert.equal(await erreurDe(page, '#dm-civilite-mme'), '');
            assert.deepEqual(envois, [], 'still nothing sent');

            // The server's own check: the number altered on its way. Its
            // message lands beside the field; the captcha is not spent.
            await page.locator('#dm-d-date_naissance').fill('1981-06-14');
            await page.locator('#dm-d-exemplaires').fill('2');
            await page.route('**/api/requests', async (route) => {
                const corps = route.request().postDataJSON();
                corps.data.exemplaires = 9;
                await route.continue({ postData: JSON.stringify(corps) });
            }, { times: 1 });
            await envoyer.press('Enter');
            await page.waitForFunction(() => document.querySelector('#dm-d-exemplaires')
                .getAttribute('aria-invalid') === 'true', null, { timeout: 30000 });
            assert.equal(await erreurDe(page, '#dm-d-exemplaires'),
                         'Saisissez un nombre entre 1 et 5.');
            await attendreFocus(page, 'dm-d-exemplaires');
            assert.equal(envois.length, 1);
            assert.equal(await page.locator('#dm-captcha-image').getAttribute('data-captcha-id'),
                         id1, 'the same captcha: it was not spent');
            assert.equal(await page.inputValue('#dm-captcha-reponse'), captchaAnswer(id1));

            // Sent: at once, without an account.
            await envoyer.press('Enter');
            await attendreFocus(page, 'envoyee-titre');
            assert.equal(envois.length, 2);
            assert.match(envois[1].cle, /^[0-9a-f-]{36}$/, 'an Idempotency-Key');
            assert.notEqual(envois[1].cle, envois[0].cle,
                            'a new key once the first attempt was answered');
            assert.deepEqual(envois[1].corps.data, {
                type_acte: 'copie_integrale', qualite: 'interesse', nom: ANONYME.nom,
                prenoms: `${ANONYME.prenom} Anne`, date_naissance: '1981-06-14',
                exemplaires: '2', adresse_envoi: '12 rue des Lilas, 29200 Brest',
            });
            assert.equal(envois[1].corps.follow_up, false);
            const reference = (await page.locator('#envoyee-reference').textContent()).trim();
            assert.match(reference, /^\d{4}-\d{6}$/);
            assert.equal((await page.locator('#envoyee-etat').textContent()).trim(),
                         'en attente');
            assert.equal((await page.locator('#envoyee-adresse').textContent()).trim(),
                         ANONYME.email);
            assert.ok(await page.locator('#envoyee-sans-compte').isVisible());
            assert.ok(await page.locator('#documents').isHidden(),
                      'no documents without an account');
            assert.ok(await page.locator('#demande').isHidden(), 'no form left below');
            const mail = await waitForMail({ to: ANONYME.email,
                                             match: new RegExp(`référence ${reference}`) });
            t.diagnostic(`acknowledgement: ${mail.file}`);
            assert.match(mail.body, /sans compte citoyen/);
            await etat(page, 'demarche-envoyee', '/demarche.html, sent without an account');
            assert.deepEqual(erreurs, []);
        } finally {
            await context.close();
        }
    });

    test('flow B with the follow-up (1280 px): a procedure that needs an account '
         + 'says so before anything is typed; the account is created with the '
         + 'request, the citizen logged in, the draft then sent', { timeout: 180000 },
    async (t) => {
        const { context, page, erreurs } = await nouvellePage();
        try {
            await page.goto(url('/demarche.html?p=encombrants'));
            await waitReady(page);
            await page.locator('#acces').waitFor();
            const requis = page.locator('#acces-compte-requis');
            assert.ok(await requis.isVisible(), 'said before the citizen types');
            assert.match(await requis.innerText(), /Cette démarche demande un compte/);

            await page.getByRole('button', { name: 'Commencer' }).press('Enter');
            await attendreFocus(page, 'demande-titre');
            assert.ok(await page.locator('#dm-suivi').isHidden(), 'no question: it is yes');
            assert.ok(await page.locator('#dm-suivi-obligatoire').isVisible());
            assert.ok(await page.locator('#dm-mdp').isVisible());
            const envoyer = page.locator('#demande-actions [data-action="envoyer"]');
            assert.equal((await envoyer.textContent()).trim(), 'Commencer la demande');
            const id = await captchaPret(page);

            await remplirDemandeur(page, SUIVI, '06 12 34 56 78');
            assert.equal(await page.inputValue('#dm-d-telephone'), '06 12 34 56 78');
            assert.equal(await page.inputValue('#dm-d-adresse'), '12 rue des Lilas, 29200 Brest');
            const date = jourDans(10);
            await page.locator('#dm-d-date_souhaitee').fill(jourDans(2));
            await page.locator('#dm-d-volume').fill('2,5');
            await page.locator('#dm-d-objets').fill('Une armoire et un sommier.');
            await page.locator('#dm-d-emplacement').selectOption('trottoir');
            await page.locator('#dm-mdp').fill('motdepasse123');
            await page.locator('#dm-mdp-confirmation').fill('motdepasse123');
            await page.locator('#dm-reponse').fill('Brest');
            await page.locator('#dm-captcha-reponse').fill(captchaAnswer(id));
            await envoyer.press('Enter');
            await attendreFocus(page, 'dm-d-date_souhaitee');
            assert.equal(await erreurDe(page, '#dm-d-date_souhaitee'),
                         `Choisissez une date entre le ${courte(jourDans(7))} et le `
                         + `${courte(jourDans(60))}.`);
            assert.equal(await erreurDe(page, '#dm-mdp'),
                         'Ce mot de passe fait partie des plus courants : choisissez-en un autre.');
            assert.equal(await erreurDe(page, '#dm-question'),
                         'Choisissez une question dans la liste.');
            assert.equal(await erreurDe(page, '#dm-d-volume'), '', '2,5 is a number');

            await page.locator('#dm-d-date_souhaitee').fill(date);
            await page.locator('#dm-mdp').fill(SUIVI.password);
            await page.locator('#dm-mdp-confirmation').fill(SUIVI.password);
            await page.locator('#dm-question').selectOption({ index: 1 });
            await envoyer.press('Enter');

            // The account is created and this page is logged in to it.
            await attendreFocus(page, 'compte-cree-titre');
            const login = (await page.locator('#compte-cree-login').textContent()).trim();
            const mail = await waitForMail({ to: SUIVI.email,
                                             match: /identifiant\s*:\s*([a-z0-9.-]+)/i });
            assert.equal(login, mail.match[1], 'the login of the mail');
            SUIVI.login = login;
            const reference = (await page.locator('#compte-cree-reference').textContent()).trim();
            assert.match(reference, /^\d{4}-\d{6}$/);
            assert.equal((await page.locator('header [data-login]').textContent()).trim(), login);
            assert.match(page.url(), /demarche\.html\?demande=[0-9a-f-]{36}$/);
            assert.ok(await page.locator('#groupe-demandeur').isHidden());
            assert.ok(await page.locator('#groupe-captcha').isHidden());
            assert.match(await page.locator('#demande-etat').innerText(),
                         new RegExp(`${reference}[\\s\\S]*brouillon`));
            assert.equal(await page.inputValue('#dm-d-volume'), '2,5');
            assert.equal(await page.inputValue('#dm-d-date_souhaitee'), date);
            // Its documents may now be added.
            assert.ok(await page.locator('#documents').isVisible());
            assert.deepEqual(await page.locator('#document-type option').allInnerTexts(),
                             ['Photo des objets', 'Autre pièce']);
            assert.ok(await page.locator('#envoi').isHidden());
            assert.equal((await envoyer.textContent()).trim(), 'Envoyer la demande');
            await etat(page, 'demarche-compte-cree', '/demarche.html, the account created');

            await envoyer.press('Enter');
            await attendreFocus(page, 'envoyee-titre');
            assert.equal((await page.locator('#envoyee-reference').textContent()).trim(),
                         reference);
            assert.equal((await page.locator('#envoyee-etat').textContent()).trim(),
                         'en attente');
            assert.ok(await page.locator('#envoyee-suivi').isVisible());
            await waitForMail({ to: SUIVI.email, match: new RegExp(`${reference}`) });

            // The "Demandes" tab: that request, waiting, still to be changed.
            await page.goto(url('/demandes.html'));
            await waitReady(page);
            const tableau = page.getByRole('table', { name: 'Toutes mes demandes' });
            await tableau.locator('tbody tr').first().waitFor();
            const ligne = await tableau.locator('tbody tr').first().innerText();
            assert.match(ligne, /Enlèvement des encombrants[\s\S]*Compléter \/ modifier/);
            assert.match(ligne, /en attente[\s\S]*un agent va la prendre en charge/);
            const lien = await tableau.locator('tbody tr').first().getByRole('link')
                .getAttribute('href');

            // Logged out, the request's page asks to log in, here; then it
            // may be changed (en attente), no longer sent again.
            await page.getByRole('button', { name: 'Se déconnecter' }).press('Enter');
            await page.locator('#form-connexion').waitFor();
            await page.goto(lien);
            await waitReady(page);
            assert.equal(await message(page, '#demarche-message'),
                         'Connectez-vous pour reprendre votre demande.');
            assert.ok(await page.locator('#acces-compte-titre').isVisible());
            assert.ok(await page.locator('#sans-compte-titre').isHidden(),
                      'no "Je n’ai pas de compte" for a request of an account');
            await connexionAcces(page, login, SUIVI.password);
            await attendreFocus(page, 'demande-titre');
            assert.match(await page.locator('#demande-etat').innerText(),
                         new RegExp(`${reference}[\\s\\S]*en attente`));
            assert.equal(await page.inputValue('#dm-d-objets'), 'Une armoire et un sommier.');
            const actions = page.locator('#demande-actions');
            assert.deepEqual((await actions.getByRole('button').allInnerTexts())
                .map((x) => x.trim()), ['Enregistrer les modifications']);
            await etat(page, 'demarche-en-attente', '/demarche.html, a request waiting');
            assert.deepEqual(erreurs, []);
            t.diagnostic(`account ${login}, request ${reference}`);
        } finally {
            await context.close();
        }
    });

    test('a draft of an account (1280 px then 375 px): logged in on the procedure\'s '
         + 'page, the household\'s child chosen, saved, reopened from "Demandes", '
         + 'completed and sent; then read as a PDF once in hand', { timeout: 180000 },
    async (t) => {
        // The account, validated, with a child (as the town hall would).
        const compte = await creerCompteApi({
            prenom: FOYER.prenom, nom: FOYER.nom, email: FOYER.email,
            password: FOYER.password, answer: FOYER.answer,
        });
        FOYER.login = compte.login;
        assert.equal(psql('SELECT portal.validate_account(id) FROM portal.accounts '
                          + `WHERE login = '${FOYER.login}'`), 't');
        const api = new ClientApi();
        const s = await api.appel('POST', 'session', { login: FOYER.login,
                                                       password: FOYER.password });
        assert.equal(s.status, 200, JSON.stringify(s.data));
        const m = await api.appel('POST', 'me/members', {
            kind: 'child', civility: 'Mme', first_name: FOYER.enfant, birth_date: '2019-04-02',
        });
        assert.equal(m.status, 201, JSON.stringify(m.data));

        const { context, page, erreurs } = await nouvellePage();
        try {
            const appels = [];
            page.on('request', (r) => {
                const u = new URL(r.url());
                if (u.pathname.startsWith('/api/requests') && r.method() !== 'GET') {
                    appels.push(`${r.method()} ${u.pathname.replace(/[0-9a-f-]{36}/, '{id}')}`
                                + (r.headers()['idempotency-key'] ? ' (clé)' : ''));
                }
            });
            await page.goto(url('/demarche.html?p=inscription-scolaire'));
            await waitReady(page);
            await page.locator('#acces').waitFor();
            assert.ok(await page.locator('#acces-compte-requis').isVisible());
            await connexionAcces(page, FOYER.login, FOYER.password);
            await attendreFocus(page, 'demande-titre');
            assert.ok(await page.locator('#acces').isHidden());
            assert.ok(await page.locator('#groupe-demandeur').isHidden());

            // The household's child; what the account knows, filled in.
            const membre = page.locator('#dm-d-enfant');
            assert.deepEqual(await membre.locator('option').allInnerTexts(),
                             ['Aucune : je saisis ses informations ci-dessous',
                              `${FOYER.enfant} ${FOYER.nom}`]);
            assert.equal(await page.inputValue('#dm-d-telephone'), '02 40 11 22 33');
            assert.equal(await page.inputValue('#dm-d-nom'), '');
            await membre.selectOption({ label: `${FOYER.enfant} ${FOYER.nom}` });
            assert.equal(await page.inputValue('#dm-d-nom'), FOYER.nom);
            assert.equal(await page.inputValue('#dm-d-prenoms'), FOYER.enfant);
            assert.equal(await page.inputValue('#dm-d-date_naissance'), '2019-04-02');
            assert.equal(await page.locator('#dm-contact-email').isChecked(), true,
                         'the account\'s contact mode');
            // The date of entry, required, left for later: a draft is
            // saved incomplete.
            await page.locator('#dm-d-niveau').selectOption('cp');
            assert.equal(await page.inputValue('#dm-d-date_entree'), '');

            const brouillon = page.locator('#demande-actions [data-action="brouillon"]');
            assert.equal((await brouillon.textContent()).trim(), 'Enregistrer le brouillon');
            await brouillon.press('Enter');
            const dit = await message(page, '#demarche-form-message');
            assert.match(dit, /^Votre brouillon est enregistré sous la référence \d{4}-\d{6}\./);
            assert.equal(await page.evaluate(() => document.activeElement.closest(
                '#demarche-form-message') !== null), true, 'the focus on the message');
            const id = /demande=([0-9a-f-]{36})$/.exec(page.url())[1];
            FOYER.demande = id;
            assert.match(await page.locator('#demande-etat').innerText(), /brouillon/);
            assert.ok(await page.locator('#documents').isVisible());
            assert.ok(await page.locator('[data-action="supprimer"]').isVisible());
            await etat(page, 'demarche-brouillon', '/demarche.html, a draft saved');
            assert.equal(await page.getByRole('link', { name: /PDF/ }).count(), 0,
                         'a draft is not read as a PDF');

            // Its documents, the kinds the procedure asks for first.
            assert.deepEqual(await page.locator('#document-type option').allInnerTexts(), [
                'Livret de famille ou acte de naissance de l’enfant',
                'Justificatif de domicile de moins de trois mois',
                'Pages des vaccinations du carnet de santé', 'Autre pièce']);
            assert.match(await page.locator('#liste-documents').innerText(),
                         /Aucune pièce déposée/);
            await page.locator('#form-document').getByRole('button', { name: 'Envoyer la pièce' })
                .press('Enter');
            await attendreFocus(page, 'document-fichier');
            assert.equal(await erreurDe(page, '#document-fichier'),
                         'Joignez le document (PDF, JPEG ou PNG).');

            // A PDF as the family record book: stored, the bar at 100 %,
            // said, listed with the focus on it; the API lists it too.
            const livret = petitPdf(`Livret de famille ${FOYER.nom}`);
            await page.locator('#document-type').selectOption('livret_famille');
            await page.locator('#document-fichier').setInputFiles({
                name: 'livret-famille.pdf', mimeType: 'application/pdf', buffer: livret,
            });
            let reponse = await envoyerPiece(page);
            assert.equal(reponse.status(), 201);
            assert.match(reponse.request().headers()['content-type'],
                         /^multipart\/form-data; boundary=/);
            assert.equal(await message(page, '#documents-message'),
                         'La pièce « livret-famille.pdf » (Livret de famille ou acte de '
                         + 'naissance de l’enfant) est déposée.');
            let lue = await demandeLue(page, id);
            assert.equal(lue.status, 200, JSON.stringify(lue.data));
            assert.equal(lue.data.documents.length, 1, JSON.stringify(lue.data.documents));
            const piece = lue.data.documents[0];
            assert.deepEqual({ ...piece, id: null, created_at: null }, {
                id: null, created_at: null, kind: 'livret_famille',
                label: 'Livret de famille ou acte de naissance de l’enfant',
                filename: 'livret-famille.pdf', content_type: 'application/pdf',
                size: livret.length, sha256: createHash('sha256').update(livret).digest('hex'),
            });
            await attendreFocus(page, `piece-${piece.id}`);
            assert.equal(await page.locator('#envoi-progression').evaluate((p) => p.value), 100);
            assert.equal((await page.locator('#envoi-pourcentage').textContent()).trim(),
                         '100\u00a0%');
            assert.match(await page.locator('#liste-documents').innerText(),
                         new RegExp('^livret-famille\\.pdf\\s+Livret de famille ou acte de '
                                    + `naissance de l’enfant – ${livret.length} octets – `
                                    + 'déposé le '));
            assert.equal(await erreurDe(page, '#document-fichier'), '');
            await etat(page, 'demarche-pieces', '/demarche.html, a document sent');

            // On a phone: a text file, refused by the server (415) beside
            // the field, with the focus on it.
            await page.setViewportSize(TELEPHONE);
            await page.locator('#document-type').selectOption('autre');
            await page.locator('#document-fichier').setInputFiles({
                name: 'notes.txt', mimeType: 'text/plain',
                buffer: Buffer.from('Ceci n’est pas un justificatif.\n'),
            });
            reponse = await envoyerPiece(page);
            assert.equal(reponse.status(), 415);
            assert.equal(await erreurDe(page, '#document-fichier'),
                         'Le document doit être un PDF, une image JPEG ou PNG.');
            await attendreFocus(page, 'document-fichier');
            assert.ok(await page.locator('#envoi').isHidden());
            assert.equal(await page.locator('#documents-message').textContent(),
                         '', 'the last upload\'s confirmation cleared, '
                         + 'notes.txt not said to be deposited');

            // A PDF above the size the page states, which is the server's
            // (portal_upload_max_size): 413 beside the field. One byte
            // above, found once read; half a megabyte above, refused from
            // its announced length while the browser still sends it.
            const aide = await page.locator('#document-fichier-aide').textContent();
            const mo = Number(/de (\d+)\s*Mo au plus/.exec(aide)[1]);
            for (const taille of [mo * 1024 * 1024 + 1, (mo + 0.5) * 1024 * 1024]) {
                const gros = Buffer.alloc(taille, ' ');
                gros.write('%PDF-1.4\n');
                await page.locator('#document-fichier').setInputFiles({
                    name: 'scan-complet.pdf', mimeType: 'application/pdf', buffer: gros,
                });
                reponse = await envoyerPiece(page);
                assert.equal(reponse.status(), 413, `${taille} bytes`);
                assert.equal(await erreurDe(page, '#document-fichier'),
                             `Le document dépasse la taille maximale de ${mo} Mo.`);
                await attendreFocus(page, 'document-fichier');
                assert.ok(await page.locator('#envoi').isHidden());
            }
            await etat(page, 'demarche-piece-refusee', '/demarche.html, a document refused');
            lue = await demandeLue(page, id);
            assert.deepEqual(lue.data.documents.map((d) => d.id), [piece.id],
                             'nothing kept of the refused files');

            // Later, on a phone: the "Demandes" tab, the draft, its link.
            await page.setViewportSize(TELEPHONE);
            await page.goto(url('/demandes.html'));
            await waitReady(page);
            const tableau = page.getByRole('table', { name: 'Toutes mes demandes' });
            await tableau.locator('tbody tr').first().waitFor();
            const ligne = tableau.locator('tbody tr').first();
            assert.match(await ligne.innerText(),
                         new RegExp(`Inscription scolaire[\\s\\S]*${FOYER.enfant} ${FOYER.nom}`
                                    + '[\\s\\S]*brouillon[\\s\\S]*pas encore envoyé'));
            assert.equal(await ligne.getByRole('link', { name: /PDF/ }).count(), 0,
                         'a draft is not read as a PDF');
            await etat(page, 'demandes-brouillon', '/demandes.html, a draft');
            const lien = ligne.getByRole('link', { name: /Inscription scolaire – Compléter/ });
            assert.equal(await lien.getAttribute('href'),
                         new URL(`/demarche.html?demande=${id}`, BASE_URL).href);
            await lien.press('Enter');
            await page.waitForURL(/demarche\.html\?demande=/);
            await waitReady(page);
            await page.locator('#demande').waitFor();
            assert.equal(await page.inputValue('#dm-d-nom'), FOYER.nom);
            assert.equal(await page.inputValue('#dm-d-niveau'), 'cp');
            assert.equal(await page.inputValue('#dm-d-enfant'), m.data.id);
            assert.match(await page.locator('#demande-etat').innerText(), /brouillon/);
            assert.match(await page.locator('#liste-documents').innerText(),
                         /^livret-famille\.pdf\s+Livret de famille/);
            assert.equal(await page.locator('#liste-documents li').count(), 1);
            assert.equal(await page.inputValue('#dm-d-date_entree'), '');

            // Completed: the school, an observation; sent without the
            // date of entry, it is not: the missing field is said beside
            // it; with it, it is.
            await page.locator('#dm-d-ecole').selectOption('louis-pasteur');
            await page.locator('#dm-d-observations').fill('Garde alternée une semaine sur deux.');
            const envoyer = page.locator('#demande-actions [data-action="envoyer"]');
            await envoyer.press('Enter');
            await page.waitForFunction(() => document.querySelector(
                '#form-demarche .recap-erreurs') !== null);
            assert.equal(await erreurDe(page, '#dm-d-date_entree'), 'Saisissez une date.');
            assert.match(await page.locator('#form-demarche .recap-erreurs').innerText(),
                         /n’est pas encore envoyée/);
            assert.match(await page.locator('#demande-etat').innerText(), /brouillon/);
            await etat(page, 'demarche-brouillon-incomplet',
                       '/demarche.html, a draft sent incomplete');
            await page.locator('#dm-d-date_entree').fill(jourDans(5));
            await envoyer.press('Enter');
            await attendreFocus(page, 'envoyee-titre');
            assert.equal((await page.locator('#envoyee-etat').textContent()).trim(),
                         'en attente');
            assert.deepEqual(appels, ['POST /api/requests (clé)',
                                      ...Array(4).fill('POST /api/requests/{id}/documents'),
                                      'PUT /api/requests/{id}',
                                      'POST /api/requests/{id}/submit (clé)']);
            const r = await api.appel('GET', `requests/${id}`);
            assert.equal(r.data.state, 'en_attente');
            assert.equal(r.data.data.ecole, 'louis-pasteur');
            assert.equal(r.data.data.observations, 'Garde alternée une semaine sur deux.');
            assert.equal(r.data.member.id, m.data.id);
            await etat(page, 'demarche-envoyee-compte', '/demarche.html, a draft sent');

            // The home page: "Dernières demandes", with its state.
            await page.goto(url('/'));
            await waitReady(page);
            const dernieres = page.locator('#dernieres-demandes');
            await dernieres.locator('tbody tr').first().waitFor();
            assert.match(await dernieres.locator('tbody tr').first().innerText(),
                         /Inscription scolaire[\s\S]*en attente/);
            await etat(page, 'accueil-dernieres-demandes', '/, the latest requests');

            // The town hall takes it in hand: a PDF to read, no form.
            assert.equal(psql('WITH e AS (INSERT INTO portal.request_events (request_id, '
                              + "from_state, to_state, actor) VALUES ('" + id + "', "
                              + "'en_attente', 'en_traitement', 'agent') RETURNING 1) "
                              + "UPDATE portal.requests SET state = 'en_traitement' "
                              + `WHERE id = '${id}' RETURNING 1`), '1');
            await page.goto(url('/demandes.html'));
            await waitReady(page);
            const pdf = page.getByRole('link', { name: /Inscription scolaire \(PDF, nouvelle fenêtre\)/ });
            await pdf.waitFor();
            assert.equal(await pdf.getAttribute('href'),
                         new URL(`/api/requests/${id}.pdf`, BASE_URL).href);
            assert.equal(await pdf.getAttribute('target'), '_blank');
            await lirePdf(page, pdf, r.data.reference);
            assert.match(await page.locator('tbody tr').first().innerText(),
                         /en traitement[\s\S]*Un agent s’occupe de votre demande/);
            await etat(page, 'demandes-en-traitement', '/demandes.html, a request in hand');
            await page.goto(url(`/demarche.html?demande=${id}`));
            await waitReady(page);
            const info = await message(page, '#demarche-message');
            assert.match(info, /est à l’état « en traitement » : elle ne peut plus être modifiée/);
            assert.ok(await page.locator('#demande').isHidden());
            const consulter = page.getByRole('link', { name: /Consulter la demande au format PDF/ });
            assert.equal(await consulter.getAttribute('href'),
                         new URL(`/api/requests/${id}.pdf`, BASE_URL).href);
            await lirePdf(page, consulter, r.data.reference);
            assert.deepEqual(erreurs, []);
            t.diagnostic(`account ${FOYER.login}, request ${id}`);
        } finally {
            await context.close();
        }
    });
});
