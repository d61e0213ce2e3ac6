// Shared helpers for the browser tests: where the portal is, how Chromium is
// started, how axe-core is injected and how its findings are printed.

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const BASE_URL = (process.env.PORTAL_BASE_URL || 'http://127.0.0.1:8080')
    .replace(/\/+$/, '');

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
