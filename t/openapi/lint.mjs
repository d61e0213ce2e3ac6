#!/usr/bin/env node
// Lint of html/openapi.yaml with Redocly CLI's recommended rules, as
// configured in t/openapi/redocly.yaml.  Exits with the CLI's status.
//
//     node t/openapi/lint.mjs [more redocly lint options]
//
// Needs `npm ci` in t/openapi first.  Nothing goes out to the network: no
// telemetry, no check for a newer version.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const cli = resolve(dirname(require.resolve('@redocly/cli/package.json')),
                    'bin/cli.js');

const run = spawnSync(process.execPath,
    [cli, 'lint', '--config', resolve(here, 'redocly.yaml'),
     '--format', 'stylish', ...process.argv.slice(2)],
    {
        cwd: here,
        stdio: 'inherit',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off',
               REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });

if (run.error) {
    console.error(`lint: ${run.error.message}`);
    process.exit(1);
}
process.exit(run.status ?? 1);
