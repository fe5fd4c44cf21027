#!/usr/bin/env node
// `npm run bench`: runs every benchmark (test/bench/*.bench.ts) one after the other, each in its own
// process, so one's memory and engines never skew another's figures. Each prints a table and writes
// JSON under bench-results/. BENCH_ONLY=pipeline,trino picks some.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
// Cross-app benchmarks live in test/bench; a package may keep its own in <package>/test/bench.
const dirs = ['test/bench', ...readdirSync(path.join(root, 'packages')).map((p) => path.join('packages', p, 'test/bench'))];
const files = dirs
  .flatMap((d) => {
    try {
      return readdirSync(path.join(root, d)).map((f) => path.join(d, f));
    } catch {
      return [];
    }
  })
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(path.basename(f, '.bench.ts')))
  .sort((a, b) => (a.endsWith('pipeline.bench.ts') ? -1 : b.endsWith('pipeline.bench.ts') ? 1 : a.localeCompare(b)));
const failed = [];
for (const f of files) {
  process.stdout.write(`\n===== ${f} =====\n`);
  const r = spawnSync(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', f], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
if (failed.length) {
  process.stderr.write(`benchmarks that did not complete: ${failed.join(', ')}\n`);
  process.exit(1);
}
