#!/usr/bin/env node
// The suite's real answers against html/openapi.yaml.
//
//     node t/openapi/check-responses.mjs RECORD.jsonl [OPENAPI.yaml]
//
// RECORD.jsonl is what the harness writes with PORTAL_RECORD=FILE (see
// t/lib/Test/Portal.pm, sub record): one JSON line per complete answer of
// an API location.  Each line of the citizen API is matched to its
// operation by method (HEAD as GET) and path template, then checked:
//   - its status is documented for that operation (or `NXX`, `default`);
//   - its Content-Type is one the response documents;
//   - its JSON body validates against the response's schema, where an
//     object schema (`type: object` with `properties`) admits no key it
//     does not describe, so that a new field or error code shows here;
//   - the headers the response marks `required` are there, and every
//     recorded header (Allow, Retry-After, Content-Disposition, Location)
//     is one the response documents, with a value its schema accepts.
// A path no route matches must answer 404 `not_found`; a route's path
// with a method it does not take, 405 `method_not_allowed` with an Allow
// header naming the documented methods; both in the error envelope.
// Agent lines (/admin/api/) are checked where the description gives the
// path an /admin/api server, or writes it whole (/admin/api/...), and
// counted as skipped otherwise.
//
// Prints the answers checked per operation, then every mismatch with the
// test file it came from; exits 1 on any mismatch.

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import YAML from 'yaml';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

const here = dirname(fileURLToPath(import.meta.url));
const top = resolve(here, '../..');

const [recordFile, specFile = resolve(top, 'html/openapi.yaml')] =
    process.argv.slice(2);

if (!recordFile) {
    console.error('usage: check-responses.mjs RECORD.jsonl [openapi.yaml]');
    process.exit(2);
}

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'];
const RECORDED_HEADERS = ['allow', 'retry-after', 'content-disposition',
                          'location'];
const SCHEMAS_ID = 'urn:portail-citoyen:openapi';

const spec = YAML.parse(readFileSync(specFile, 'utf8'));


// ------------------------------------------------ references and schemas

function pointer(ref) {
    if (!ref.startsWith('#/')) {
        throw new Error(`only local references are supported: ${ref}`);
    }
    let node = spec;
    for (const part of ref.slice(2).split('/')) {
        const key = decodeURIComponent(part).replace(/~1/g, '/')
                                            .replace(/~0/g, '~');
        node = node?.[key];
    }
    if (node === undefined) {
        throw new Error(`unresolved reference ${ref}`);
    }
    return node;
}

// a Response, Header... object, following $ref until there is none
function deref(node) {
    const seen = new Set();
    while (node && typeof node === 'object' && typeof node.$ref === 'string') {
        if (seen.has(node.$ref)) {
            throw new Error(`reference loop at ${node.$ref}`);
        }
        seen.add(node.$ref);
        node = pointer(node.$ref);
    }
    return node;
}

// OpenAPI 3.0 Schema Object -> JSON Schema (2019-09)
function toJsonSchema(s) {
    if (Array.isArray(s)) {
        return s.map(toJsonSchema);
    }
    if (!s || typeof s !== 'object') {
        return s;
    }
    if (typeof s.$ref === 'string') {
        const m = /^#\/components\/schemas\/([^/]+)$/.exec(s.$ref);
        if (!m) {
            throw new Error(`schema reference outside components: ${s.$ref}`);
        }
        return { $ref: `${SCHEMAS_ID}#/$defs/${m[1]}` };
    }

    const out = {};
    for (const [k, v] of Object.entries(s)) {
        switch (k) {
        case 'nullable': case 'example': case 'xml': case 'externalDocs':
        case 'discriminator':
            break;
        case 'properties': case 'patternProperties':
            out[k] = Object.fromEntries(Object.entries(v)
                .map(([name, sub]) => [name, toJsonSchema(sub)]));
            break;
        case 'exclusiveMinimum': case 'exclusiveMaximum':
            // 3.0: a boolean beside minimum / maximum
            if (v === true) {
                const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
                out[k] = s[bound];
            }
            break;
        default:
            out[k] = k.startsWith('x-') ? undefined : toJsonSchema(v);
            if (out[k] === undefined) {
                delete out[k];
            }
        }
    }
    for (const k of ['minimum', 'maximum']) {
        const ex = k === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum';
        if (s[ex] === true) {
            delete out[k];
        }
    }

    // an object schema admits only the keys it describes
    if (s.type === 'object' && s.properties
        && s.additionalProperties === undefined)
    {
        out.unevaluatedProperties = false;
    }

    if (s.nullable === true) {
        if (s.type === undefined) {
            // 3.0 gives nullable no meaning without type (the linter says so)
            throw new Error('"nullable" without "type" in a schema');
        }
        out.type = [s.type, 'null'];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) {
            out.enum = [...out.enum, null];
        }
    }
    return out;
}

// strictTypes off: a schema that only narrows another in allOf (the error
// envelope's code) has `properties` without `type`
const ajv = new Ajv2019({ strict: true, strictTypes: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({
    $id: SCHEMAS_ID,
    $defs: Object.fromEntries(
        Object.entries(spec.components?.schemas ?? {})
            .map(([name, s]) => [name, toJsonSchema(s)])),
});

const validators = new Map();
const ERROR_ENVELOPE = { $ref: '#/components/schemas/Error' };

function validator(schema) {
    let v = validators.get(schema);
    if (!v) {
        v = ajv.compile(toJsonSchema(schema));
        validators.set(schema, v);
    }
    return v;
}

function errorsText(errors) {
    return errors.map((e) => {
        const extra = e.params?.unevaluatedProperty
            ?? e.params?.additionalProperty
            ?? (e.params?.allowedValues
                && JSON.stringify(e.params.allowedValues));
        return `${e.instancePath || '(body)'} ${e.message}`
            + (extra ? ` (${extra})` : '');
    }).join('; ');
}


// ----------------------------------------------------------- operations

const routes = [];          // { api, template, re, item }

for (const [whole, item] of Object.entries(spec.paths ?? {})) {
    // an agent's route of its own is written whole, under the server "/"
    const agentOnly = whole.startsWith('/admin/api/');
    const template = agentOnly ? whole.slice('/admin/api'.length) : whole;
    const servers = agentOnly ? ['/admin/api/']
        : (item.servers ?? spec.servers ?? [{ url: '/' }])
            .map((s) => s.url.replace(/\/?$/, '/'));
    // {name}: what the router takes for an id, 1 to 64 of [A-Za-z0-9_-]
    const source = template.replace(/^\//, '').split(/(\{[^}]+\})/)
        .map((part) => part.startsWith('{') ? '[A-Za-z0-9_-]{1,64}'
                                           : part.replace(/[.*+?^$()|[\]\\]/g,
                                                          '\\$&'))
        .join('');
    for (const [api, base] of [['citizen', '/api/'], ['agent', '/admin/api/']]) {
        if (servers.includes(base)) {
            routes.push({ api, template, re: new RegExp(`^${source}$`), item });
        }
    }
}

function allowedMethods(item) {
    const set = new Set();
    for (const m of METHODS) {
        if (item[m]) {
            set.add(m.toUpperCase());
            if (m === 'get') {
                set.add('HEAD');
            }
        }
    }
    return set;
}


// ---------------------------------------------------------- the checks

const mismatches = [];
const badLines = new Set();
const perOperation = new Map();   // "GET /me" -> { n, statuses: Map }
const unmatched = { 404: 0, 405: 0, other: 0 };
let skippedAgent = 0;
let checked = 0;
let lineNo = 0;

function mismatch(text) {
    mismatches.push(text);
    badLines.add(lineNo);
}

function mediaType(value) {
    return (value ?? '').split(';')[0].trim().toLowerCase();
}

function matchContent(content, type) {
    if (!content) {
        return null;
    }
    const keys = Object.keys(content);
    const exact = keys.find((k) => k.toLowerCase().replace(/\s+/g, '')
                                   === type.toLowerCase().replace(/\s+/g, ''));
    if (exact) {
        return exact;
    }
    const essence = mediaType(type);
    return keys.find((k) => mediaType(k) === essence)
        ?? keys.find((k) => k.endsWith('/*')
                            && essence.startsWith(k.slice(0, -1)))
        ?? keys.find((k) => k === '*/*')
        ?? null;
}

function headerValue(raw, schema) {
    const s = deref(schema);
    if ((s?.type === 'integer' || s?.type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) {
        return Number(raw);
    }
    return raw;
}

function checkAnswer(rec, where, response, label) {
    const problems = [];
    const isHead = rec.method === 'HEAD';

    // the body
    if (response.content) {
        const key = matchContent(response.content, rec.content_type ?? '');
        if (!key) {
            problems.push(`Content-Type "${rec.content_type}" is not one of`
                          + ` ${Object.keys(response.content).join(', ')}`);
        } else if (mediaType(key) === 'application/json'
                   || mediaType(key).endsWith('+json'))
        {
            const schema = response.content[key].schema;
            if (!('body' in rec)) {
                if (!isHead) {
                    problems.push('a JSON answer without a JSON body');
                }
            } else if (schema) {
                const v = validator(schema);
                if (!v(rec.body)) {
                    problems.push(`body: ${errorsText(v.errors)}`);
                }
            }
        }
    } else if (rec.content_type && !isHead && 'body' in rec) {
        problems.push(`a ${rec.content_type} body where none is documented`);
    }

    // the headers
    const documented = new Map(Object.entries(response.headers ?? {})
        .map(([name, h]) => [name.toLowerCase(), deref(h)]));
    for (const [name, h] of documented) {
        if (h.required && RECORDED_HEADERS.includes(name)
            && rec.headers?.[name] === undefined)
        {
            problems.push(`header ${name} is required and missing`);
        }
    }
    for (const [name, value] of Object.entries(rec.headers ?? {})) {
        const h = documented.get(name);
        if (!h) {
            problems.push(`header ${name}: ${value} is not documented`);
            continue;
        }
        if (h.schema) {
            const v = validator(h.schema);
            if (!v(headerValue(value, h.schema))) {
                problems.push(`header ${name}: "${value}" ${errorsText(v.errors)}`);
            }
        }
    }

    for (const p of problems) {
        mismatch(`${where}: ${label}: ${p}`);
    }
}

function envelope(rec, where, status, code, extra) {
    if (rec.status !== status) {
        return false;
    }
    const problems = [];
    const v = validator(ERROR_ENVELOPE);
    if (mediaType(rec.content_type) !== 'application/json') {
        problems.push(`Content-Type "${rec.content_type}", not application/json`);
    } else if (!('body' in rec)) {
        if (rec.method !== 'HEAD') {
            problems.push('a JSON answer without a JSON body');
        }
    } else if (!v(rec.body)) {
        problems.push(`body: ${errorsText(v.errors)}`);
    } else if (rec.body.error.code !== code) {
        problems.push(`error code "${rec.body.error.code}", not "${code}"`);
    }
    problems.push(...(extra ?? []));
    for (const p of problems) {
        mismatch(`${where}: ${p}`);
    }
    return true;
}

let text;
try {
    text = readFileSync(recordFile, 'utf8');
} catch (e) {
    console.error(`check-responses: ${e.message}`);
    process.exit(1);
}

for (const line of text.split('\n')) {
    lineNo++;
    if (line.trim() === '') {
        continue;
    }
    let rec;
    try {
        rec = JSON.parse(line);
    } catch (e) {
        mismatch(`${recordFile}:${lineNo}: not JSON: ${e.message}`);
        continue;
    }

    const file = rec.file ? relative(top, resolve(top, rec.file)) : '?';
    const where = `${file}: ${rec.method} ${rec.api === 'agent' ? '/admin/api/'
                                                                : '/api/'}${rec.path}`
                  + ` -> ${rec.status}`;
    const candidates = routes.filter((r) => r.api === rec.api
                                            && r.re.test(rec.path));

    if (rec.api !== 'citizen' && candidates.length === 0) {
        skippedAgent++;
        continue;
    }

    checked++;
    const method = rec.method === 'HEAD' ? 'get' : rec.method.toLowerCase();
    const route = candidates.find((r) => METHODS.includes(method)
                                         && r.item[method]);

    if (!route) {
        if (candidates.length) {
            const allowed = new Set();
            for (const r of candidates) {
                allowedMethods(r.item).forEach((m) => allowed.add(m));
            }
            const got = new Set((rec.headers?.allow ?? '').split(',')
                .map((m) => m.trim()).filter(Boolean));
            const same = got.size === allowed.size
                         && [...got].every((m) => allowed.has(m));
            if (envelope(rec, where, 405, 'method_not_allowed',
                         same ? [] : [`Allow "${rec.headers?.allow ?? ''}",`
                                      + ` documented: ${[...allowed].join(', ')}`]))
            {
                unmatched[405]++;
            } else {
                unmatched.other++;
                mismatch(`${where}: the path takes`
                                + ` ${[...allowed].join(', ')}, not`
                                + ` ${rec.method}: 405 expected`);
            }
        } else if (envelope(rec, where, 404, 'not_found')) {
            unmatched[404]++;
        } else {
            unmatched.other++;
            mismatch(`${where}: no documented route has this path:`
                            + ' 404 expected');
        }
        continue;
    }

    const op = route.item[method];
    const name = `${method === 'get' ? 'GET' : rec.method} ${route.api === 'agent'
                                                               ? '/admin/api' : ''}/${route.template.replace(/^\//, '')}`;
    const stats = perOperation.get(name)
        ?? { n: 0, statuses: new Map(), documented: Object.keys(op.responses ?? {}) };
    perOperation.set(name, stats);
    stats.n++;
    stats.statuses.set(rec.status, (stats.statuses.get(rec.status) ?? 0) + 1);

    const responses = op.responses ?? {};
    const status = String(rec.status);
    const key = status in responses ? status
        : `${status[0]}XX` in responses ? `${status[0]}XX`
        : 'default' in responses ? 'default' : null;
    if (!key) {
        mismatch(`${where}: status ${status} is not documented for`
                        + ` ${name} (documented: ${Object.keys(responses).join(', ')})`);
        continue;
    }
    checkAnswer(rec, where, deref(responses[key]), `${name} ${key}`);
}


// ------------------------------------------------------------- summary

const pad = Math.max(0, ...[...perOperation.keys()].map((k) => k.length));
console.log(`Answers checked against ${relative(top, specFile)}, per operation:`);
for (const [name, s] of [...perOperation].sort(([a], [b]) => a.localeCompare(b))) {
    const seen = [...s.statuses].sort(([a], [b]) => a - b)
        .map(([st, n]) => `${st}×${n}`).join(' ');
    const unseen = s.documented.filter((st) => !s.statuses.has(Number(st)));
    console.log(`  ${name.padEnd(pad)}  ${String(s.n).padStart(4)}  ${seen}`
                + (unseen.length ? `   (not seen: ${unseen.join(' ')})` : ''));
}
console.log(`  ${'no route (404), other method (405)'.padEnd(pad)}`
            + `  ${String(unmatched[404] + unmatched[405] + unmatched.other).padStart(4)}`
            + `  404×${unmatched[404]} 405×${unmatched[405]}`
            + (unmatched.other ? ` other×${unmatched.other}` : ''));
const undocumented = routes.filter((r) => r.api === 'citizen')
    .flatMap((r) => METHODS.filter((m) => r.item[m])
        .map((m) => `${m.toUpperCase()} /${r.template.replace(/^\//, '')}`))
    .filter((n) => !perOperation.has(n));
if (undocumented.length) {
    console.log(`Operations no answer reached: ${undocumented.join(', ')}`);
}
console.log(`Agent API answers skipped (not described): ${skippedAgent}`);

if (checked === 0) {
    mismatches.push(`${recordFile}: no answer of the citizen API to check`);
}

if (mismatches.length) {
    console.log(`\n${mismatches.length} mismatch(es) with the description:`);
    for (const m of mismatches) {
        console.log(`  ${m}`);
    }
    console.log(`\n${checked} answers checked, ${badLines.size} not as described`);
    process.exit(1);
}

console.log(`\n${checked} answers checked, all as described`);
