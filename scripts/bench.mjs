#!/usr/bin/env node
// `npm run bench`: runs every benchmark (test/bench/*.bench.ts) one after the other, each in its own
// process, so one's memory and engines never skew another's figures. Each prints a table and writes
// JSON under bench-results/. BENCH_ONLY=pipeline,trino picks some.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const files = readdirSync(path.join(root, 'test/bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(f.replace('.bench.ts', '')))
  .sort((a, b) => (a === 'pipeline.bench.ts' ? -1 : b === 'pipeline.bench.ts' ? 1 : a.localeCompare(b)));
const failed = [];
for (const f of files) {
  process.stdout.write(`\n===== ${f} =====\n`);
  const r = spawnSync(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', path.join('test/bench', f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
if (failed.length) {
  process.stderr.write(`benchmarks that did not complete: ${failed.join(', ')}\n`);
  process.exit(1);
}
