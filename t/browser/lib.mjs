// Shared helpers for the browser tests: where the portal is, how Chromium is
// started, how axe-core is injected and how its findings are printed.

import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const BASE_URL = (process.env.PORTAL_BASE_URL || 'http://127.0.0.1:8080')
    .replace(/\/+$/, '');

// The repository: t/browser/../..
export const REPO = path.resolve(here, '..', '..');

// Where `make run` writes mail, one RFC 5322 file per message.
export const MAILDIR = process.env.PORTAL_MAILDIR
    || path.join(REPO, 'var', 'mail', 'new');

export const CHROMIUM = process.env.PORTAL_CHROMIUM || '/usr/lib/chromium/chromium';

export const SCREENSHOT_DIR = process.env.PORTAL_SCREENSHOT_DIR
    || path.resolve(here, '..', 'servroot', 'browser');

// The policy the portal is meant to live under (DESIGN.md: nothing from a
// third party). Tests that check the pages against it add it themselves when
// the server under test does not send one.
export const CSP = "default-src 'self'; img-src 'self' data:; "
    + "style-src 'self'; script-src 'self'; frame-ancestors 'none'";

// WCAG 2.1 levels A and AA, plus axe's best practices (landmarks, heading
// order, skip links), which the pages meet too.
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export function url(chemin) {
    return BASE_URL + chemin;
}

// Debian's Chromium, headless, with everything that would reach the network
// on its own switched off. Playwright gives each launch a fresh temporary
// profile (--user-data-dir) and removes it on close.
export function launch() {
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-default-apps',
            '--disable-extensions',
            '--metrics-recording-only',
            '--no-default-browser-check',
        ],
    });
}

// Waits until portal.js has asked the API for the session, whatever it got.
export async function waitReady(page) {
    await page.waitForSelector('html[data-portail="pret"]', {
        state: 'attached',
        timeout: 15000,
    });
}

export async function injectAxe(page) {
    const present = await page.evaluate(() => typeof window.axe === 'object');
    if (!present) {
        await page.addScriptTag({ content: AXE_SOURCE });
    }
}

export async function runAxe(page, tags = AXE_TAGS) {
    await injectAxe(page);
    return page.evaluate(async (values) => {
        const r = await window.axe.run(document, {
            runOnly: { type: 'tag', values },
            resultTypes: ['violations'],
        });
        return r.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({
                target: n.target.join(' '),
                html: n.html,
                summary: n.failureSummary,
            })),
        }));
    }, tags);
}

export function formatViolations(label, violations) {
    const lines = [`${label}: ${violations.length} axe violation(s)`];
    for (const v of violations) {
        lines.push(`  [${v.impact}] ${v.id}: ${v.help}`);
        lines.push(`    ${v.helpUrl}`);
        for (const n of v.nodes) {
            lines.push(`    - ${n.target}`);
            lines.push(`      ${n.html.replace(/\s+/g, ' ').slice(0, 200)}`);
            for (const s of (n.summary || '').split('\n')) {
                if (s.trim()) {
                    lines.push(`        ${s.trim()}`);
                }
            }
        }
    }
    return lines.join('\n');
}

export function screenshotPath(nom) {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    return path.join(SCREENSHOT_DIR, nom);
}

// A stand-in for the citizen or agent API, for the tests that need a given
// answer (a logged-in session, a list of requests) whatever the server has.
// Records every call so that tests can check method, headers and body.
export async function fakeApi(page, prefix, handlers) {
    const calls = [];
    await page.route((u) => u.pathname.startsWith(prefix), async (route) => {
        const req = route.request();
        const u = new URL(req.url());
        const key = `${req.method()} ${u.pathname.slice(prefix.length)}${u.search}`;
        let body = null;
        try {
            body = req.postDataJSON();
        } catch {
            body = req.postData();
        }
        calls.push({ key, headers: req.headers(), body });
        const handler = handlers[key] || handlers[key.replace(/\?.*$/, '')];
        const answer = typeof handler === 'function'
            ? handler({ body, headers: req.headers(), calls })
            : handler;
        const { status = 200, json } = answer || {
            status: 404,
            json: { error: { code: 'not_found', message: 'Ressource introuvable.' } },
        };
        await route.fulfill({
            status,
            contentType: 'application/json; charset=utf-8',
            body: json === undefined ? '' : JSON.stringify(json),
        });
    });
    return calls;
}

// ------------------------------------------------------ the real server

// Letters only (names may hold nothing else), different at every run so
// that reruns never meet the accounts of the previous ones.
export function uniqueLetters(n = 8) {
    const a = 'abcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < n; i++) {
        s += a[randomInt(a.length)];
    }
    return s;
}

// Runs one SQL statement on the portal's database as the superuser:
// $PORTAL_PSQL (a command and its arguments, split on spaces, run from the
// repository) or <repo>/ci/pg psql <repo>/var/pg portal; -qtAc SQL is added.
export function psql(sql) {
    const cmd = process.env.PORTAL_PSQL
        ? process.env.PORTAL_PSQL.trim().split(/\s+/)
        : [path.join(REPO, 'ci', 'pg'), 'psql', path.join(REPO, 'var', 'pg'), 'portal'];
    return execFileSync(cmd[0], [...cmd.slice(1), '-qtAc', sql], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30000,
    }).trim();
}

// The answer of a captcha: $PORTAL_CAPTCHA_ANSWER when the server runs with
// portal_captcha_test_answer (make test), else read from the database.
export function captchaAnswer(id) {
    if (process.env.PORTAL_CAPTCHA_ANSWER) {
        return process.env.PORTAL_CAPTCHA_ANSWER;
    }
    if (!/^[0-9a-f-]{36}$/i.test(id || '')) {
        throw new Error(`not a captcha id: ${id}`);
    }
    return psql(`SELECT answer FROM portal.captchas WHERE id = '${id}'`);
}

function decodeBody(headers, body) {
    const cte = (headers['content-transfer-encoding'] || '').toLowerCase();
    if (cte === 'base64') {
        return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    if (cte === 'quoted-printable') {
        const bytes = Buffer.from(body.replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/gi, (m, h) => String.fromCharCode(parseInt(h, 16))),
        'latin1');
        return bytes.toString('utf8');
    }
    return body;
}

// One message file: its headers (lower-case names, unfolded) and its body.
export function parseMail(file) {
    const text = readFileSync(file, 'utf8');
    const m = /\r?\n\r?\n/.exec(text);
    const head = m ? text.slice(0, m.index) : text;
    const body = m ? text.slice(m.index + m[0].length) : '';
    const headers = {};
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) {
            headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
    }
    return { file, headers, body: decodeBody(headers, body) };
}

// Waits for the newest message to `to` (written at `since` or later) whose
// body matches `match`; answers {file, headers, body, match}.
export async function waitForMail({ to, match, since = 0, timeout = 30000 }) {
    const limite = Date.now() + timeout;
    const adresse = to.toLowerCase();
    for (;;) {
        let fichiers = [];
        try {
            fichiers = readdirSync(MAILDIR).map((nom) => {
                const p = path.join(MAILDIR, nom);
                return { p, nom, t: statSync(p).mtimeMs };
            }).filter((f) => f.t >= since - 1000);
        } catch (e) {
            if (e.code !== 'ENOENT') {
                throw e;
            }
        }
        fichiers.sort((a, b) => b.t - a.t || (b.nom < a.nom ? -1 : 1));
        for (const f of fichiers) {
            const mail = parseMail(f.p);
            const dest = (mail.headers.to || '').toLowerCase();
            if (!dest.split(/[,\s<>]+/).includes(adresse)) {
                continue;
            }
            const r = match.exec(mail.body);
            if (r) {
                return { ...mail, match: r };
            }
        }
        if (Date.now() > limite) {
            throw new Error(`no mail to ${to} matching ${match} in ${MAILDIR} `
                            + `after ${timeout} ms`);
        }
        await new Promise((r) => setTimeout(r, 300));
    }
}

// ------------------------------------------- widths, overflow, keyboard

// The two widths every page is checked at: a desktop and a small phone.
export const BUREAU = { width: 1280, height: 900 };
export const TELEPHONE = { width: 375, height: 812 };

// Nothing wider than the window: no sideways scrolling on a phone.
export async function sansDebordement(page) {
    return page.evaluate(() => {
        const racine = document.documentElement;
        const larges = Array.from(document.querySelectorAll('body *'))
            .filter((el) => {
                const r = el.getBoundingClientRect();
                return r.width > 0 && r.right > racine.clientWidth + 1;
            })
            .slice(0, 5)
            .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`
                         + `.${String(el.className).split(' ')[0]}`);
        return { scrollWidth: racine.scrollWidth, clientWidth: racine.clientWidth,
                 larges };
    });
}

// The element that has the keyboard focus: its id, else its text.
export async function focus(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        return el ? (el.id || el.textContent.replace(/\s+/g, ' ').trim()) : null;
    });
}

// ------------------------------------------------- the API, from Node

// A client of the citizen API (or another, see prefixe) with its own
// cookies (the anti-CSRF token and the session), for setting up a state the
// page then meets: an account, failed logins, wrong answers.
export class ClientApi {
    // prefixe: the API's place, /admin/api/ for the agents'.
    constructor(prefixe = '/api/') {
        this.prefixe = prefixe;
        this.cookies = new Map();
        this.jeton = null;
    }

    garder(reponse) {
        const brut = typeof reponse.headers.getSetCookie === 'function'
            ? reponse.headers.getSetCookie()
            : (reponse.headers.get('set-cookie') || '').split(/,(?=\s*[^;=\s]+=)/);
        for (const c of brut) {
            const [paire] = c.split(';');
            const i = paire.indexOf('=');
            if (i > 0) {
                const nom = paire.slice(0, i).trim();
                const valeur = paire.slice(i + 1).trim();
                if (valeur && !/max-age=0/i.test(c)) {
                    this.cookies.set(nom, valeur);
                } else {
                    this.cookies.delete(nom);
                }
            }
        }
    }

    async appel(methode, chemin, corps) {
        if (!this.jeton && methode !== 'GET') {
            await this.appel('GET', 'session');
        }
        const entetes = { Accept: 'application/json' };
        if (this.cookies.size) {
            entetes.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        }
        if (methode !== 'GET') {
            entetes['X-CSRF-Token'] = this.jeton;
        }
        if (corps !== undefined) {
            entetes['Content-Type'] = 'application/json';
        }
        const options = {
            method: methode, headers: entetes,
            body: corps === undefined ? undefined : JSON.stringify(corps),
        };
        let r;
        try {
            r = await fetch(url(`${this.prefixe}${chemin}`), options);
        } catch (e) {
            // A kept-alive connection to a worker that is gone (the shared
            // server restarted): nothing was sent, once more on a new one.
            if (!e.cause || e.cause.code !== 'UND_ERR_SOCKET') {
                throw e;
            }
            r = await fetch(url(`${this.prefixe}${chemin}`), options);
        }
        this.garder(r);
        const texte = await r.text();
        const data = texte ? JSON.parse(texte) : null;
        if (data && typeof data.csrf_token === 'string') {
            this.jeton = data.csrf_token;
        }
        return { status: r.status, data };
    }
}

// An account created through the API (its captcha answered), as the page
// would: answers its login.
export async function creerCompteApi(c) {
    const client = new ClientApi();
    const captcha = await client.appel('POST', 'captcha');
    const questions = await client.appel('GET', 'security-questions');
    const r = await client.appel('POST', 'accounts', {
        holder: {
            civility: 'Mme', first_name: c.prenom, last_name: c.nom,
            birth_date: '1979-05-03', email: c.email, phone: '02 40 11 22 33',
            address: { line: '3 place du Marché', postcode: '44000', city: 'Nantes' },
        },
        password: c.password, password_confirm: c.password,
        security_question_id: questions.data[0].id, security_answer: c.answer,
        contact_mode: 'email',
        captcha_id: captcha.data.captcha_id,
        captcha_answer: captchaAnswer(captcha.data.captcha_id),
    });
    if (r.status !== 201) {
        throw new Error(`POST accounts: ${r.status} ${JSON.stringify(r.data)}`);
    }
    return { login: r.data.login, question: questions.data[0].label };
}

// n failed logins of a login (from another client than the page's); fewer
// when the server asks for a captcha before (the limit is reached already).
export async function echouerConnexions(login, n) {
    const client = new ClientApi();
    for (let i = 0; i < n; i++) {
        const r = await client.appel('POST', 'session',
                                     { login, password: `pas le bon ${i} !` });
        if (r.status === 429 && r.data.error.code === 'captcha_required') {
            return;
        }
        if (r.status !== 401) {
            throw new Error(`failed login ${i + 1}: ${r.status} ${JSON.stringify(r.data)}`);
        }
    }
}

// n wrong answers to a login's security question (the same way).
export async function echouerReponses(login, n) {
    const client = new ClientApi();
    for (let i = 0; i < n; i++) {
        const r = await client.appel('POST', 'password/reset',
                                     { login, answer: `mauvaise réponse ${i}` });
        if (r.status === 429 && r.data.error.code === 'captcha_required') {
            return;
        }
        if (r.status !== 202) {
            throw new Error(`wrong answer ${i + 1}: ${r.status} ${JSON.stringify(r.data)}`);
        }
    }
}

// The client address the server sees from these tests (its failure limits
// are counted per address).
export function adresseDesTests() {
    const hote = new URL(BASE_URL).hostname;
    return /^[0-9.]+$/.test(hote) ? hote : '127.0.0.1';
}

// A context of its own whose pages run under the strict CSP: the server's,
// or ours where an answer comes without one; every violation is kept in
// window.__violations. cspDuServeur(): the server sent it on every answer.
export async function contexteCsp(browser) {
    const context = await browser.newContext({ locale: 'fr-FR' });
    let serveurEnvoieCsp = true;
    await context.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = response.headers();
        if (!headers['content-security-policy']) {
            serveurEnvoieCsp = false;
            headers['content-security-policy'] = CSP;
        }
        await route.fulfill({ response, headers });
    });
    await context.addInitScript(() => {
        window.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
            window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
    });
    return { context, cspDuServeur: () => serveurEnvoieCsp };
}

// The page's script errors and its requests to another origin than the
// portal's, pushed into problemes as they happen.
export function surveillerPage(page, problemes) {
    const origine = new URL(BASE_URL).origin;
    page.on('pageerror', (e) => problemes.push(`script error: ${e.message}`));
    page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.protocol !== 'data:' && u.origin !== origine) {
            problemes.push(`request to another origin: ${r.url()}`);
        }
    });
}

// The text of the element that has the keyboard focus.
export async function texteFocus(page) {
    return page.evaluate(() => (document.activeElement
        ? document.activeElement.textContent.replace(/\s+/g, ' ').trim() : null));
}
