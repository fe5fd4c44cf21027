#!/usr/bin/env node
// Runs every test of the tree with Node's test runner. When DATABASE_URL / REDIS_URL are not set it
// starts the real PostgreSQL and Redis through scripts/services.sh first, so `npm test` works alone.
//   npm test                      all tests
//   npm test -- path/to/x.test.ts only those files
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);

if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  const out = execFileSync('bash', ['scripts/services.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of out.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m && !process.env[m[1]]) process.env[m[1]] = m[2];
  }
}

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name === 'bench') continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = process.argv.slice(2);
if (files.length === 0) {
  files = [];
  for (const top of ['packages', 'apps']) {
    for (const pkg of readdirSync(top)) {
      walk(path.join(top, pkg, 'src'), files);
      walk(path.join(top, pkg, 'test'), files);
    }
  }
  walk('test', files);
}
files.sort();
const concurrency = process.env.SLUICE_TEST_CONCURRENCY ?? '2';
const args = ['--conditions=sluice-source', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
process.exit(r.status ?? 1);
