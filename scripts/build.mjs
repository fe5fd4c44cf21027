#!/usr/bin/env node
// `npm run build`: the production build. Bundles the Sluice server (every workspace package it uses,
// from TypeScript source) into plain ES modules under apps/standalone/dist/, so it runs with `node`
// alone: no tsx, no on-the-fly transforms, no loader thread.
//
//   npm run build && npm run start:built        # = node apps/standalone/dist/main.js [role]
//
// npm dependencies stay external (loaded from node_modules, as from source). The entry points that
// Sluice starts by path sit side by side in the output directory, as their callers expect them next
// to their own module: the DuckDB child process, the lineage worker thread (and its boot module) and
// the process watchdog. Code they share goes to chunks; modules loaded with `import()` stay lazy.
// Uses esbuild (a devDependency; tsx runs on it too).
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const defaultOutdir = path.join(root, 'apps/standalone/dist');
const require = createRequire(path.join(root, 'packages/metadata-hook/package.json'));

/** Output file name (without `.js`) → source entry. */
const entries = {
  main: 'apps/standalone/src/main.ts',
  admin: 'apps/standalone/src/admin.ts',
  // What `@sluice/standalone` exports (its package.json points `default` here).
  index: 'apps/standalone/src/index.ts',
  // Started by path, beside the modules that start them.
  'duckdb-worker': 'packages/engine-conn-duckdb/src/duckdb-worker.ts',
  'lineage-worker': 'packages/metadata-hook/src/lineage-worker.ts',
  'watchdog-process': 'packages/process-watchdog/src/watchdog-process.ts',
};

/** Files read at run time relative to their module: copied as they are. */
const assets = [
  ['packages/metadata-hook/src/lineage-worker-boot.mjs', 'lineage-worker-boot.mjs'],
  ['packages/engine-conn-spark/src/generated/spark-connect.json', 'generated/spark-connect.json'],
];

/**
 * dt-sql-parser's grammars, which the lineage worker loads one at a time, on first use, with a
 * synchronous require. The package ships ES modules with extension-less relative imports, which plain
 * Node cannot load (from source tsx resolves them), so each grammar is bundled on its own, with its
 * antlr4 runtime, into `dt-sql-parser/<grammar>.cjs`. Keep in step with GRAMMARS in
 * packages/metadata-hook/src/dt-front-end.ts.
 */
const grammars = ['trino', 'flink', 'hive', 'spark', 'mysql', 'postgresql'];

/** Workspace packages (`@sluice/…`) are bundled from source; every other bare import stays external. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@sluice/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** One build into an empty `outdir`; returns esbuild's metafile of the server bundle. */
async function buildInto(outdir, quiet) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(root, file)])),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['sluice-source'],
    plugins: [externalDependencies],
    // Readable stack traces: names kept, whitespace kept; a map for `node --enable-source-maps`.
    keepNames: true,
    sourcemap: 'linked',
    // Flat: a module finds its siblings (and ../../../package.json) relative to its own URL.
    chunkNames: 'chunk-[hash]',
    logLevel: quiet ? 'error' : 'warning',
    metafile: true,
  });
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(grammars.map((g) => [g, require.resolve(`dt-sql-parser/dist/parser/${g}/index.js`)])),
    outdir: path.join(outdir, 'dt-sql-parser'),
    outExtension: { '.js': '.cjs' },
    bundle: true,
    // Smaller source text to hold in memory. Names stay: the lineage adapters read rule contexts by
    // their class names (dt-tree.ts).
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  for (const [from, to] of assets) {
    mkdirSync(path.dirname(path.join(outdir, to)), { recursive: true });
    copyFileSync(path.join(root, from), path.join(outdir, to));
  }
  return result.metafile;
}

/**
 * Builds into `outdir` (default apps/standalone/dist; another directory must also sit three levels
 * below the repository root, where the modules look for its package.json). The new output is written
 * beside it and swapped in at the end, so a process started from the old one keeps finding its files
 * until the swap, and two builds never write into the same directory.
 */
export async function buildSluice({ quiet = false, outdir: finalOutdir = defaultOutdir } = {}) {
  const started = performance.now();
  const outdir = `${finalOutdir}.new-${process.pid}-${Date.now()}`;
  let metafile;
  try {
    metafile = await buildInto(outdir, quiet);
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    throw err;
  }
  const old = `${finalOutdir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(finalOutdir)) renameSync(finalOutdir, old);
  renameSync(outdir, finalOutdir);
  rmSync(old, { recursive: true, force: true });
  if (!quiet) {
    const files = Object.keys(metafile.outputs).filter((f) => f.endsWith('.js'));
    const bytes = files.reduce((n, f) => n + metafile.outputs[f].bytes, 0);
    process.stderr.write(
      `built ${path.relative(root, finalOutdir)}/: ${Object.keys(entries).length} entries, ${files.length} JS files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, in ${Math.round(performance.now() - started)} ms\n`,
    );
  }
  return { outdir: finalOutdir, main: path.join(finalOutdir, 'main.js') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildSluice().catch((err) => {
    process.stderr.write(`build failed: ${err?.message ?? err}\n`);
    process.exit(1);
  });
}
