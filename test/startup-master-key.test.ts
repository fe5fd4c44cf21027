import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, requireEnv, type TestDatabase } from '@sluice/testkit';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'apps/standalone/src/main.ts');

/** Runs the production start-up (`npm start`, optionally one role) as a real process until it exits. */
function startSluice(env: Record<string, string>, roles: string[] = []): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLUICE_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS') base[k] = v;
  const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', MAIN, ...roles], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // A start-up that does not fail comes up and keeps running: stop it, the test then fails on the code.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    }),
  );
}

describe('production start-up without a usable master key', () => {
  let db: TestDatabase;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    db = await freshDatabase('startup');
    home = mkdtempSync(path.join(os.tmpdir(), 'sluice-startup-'));
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: requireEnv('REDIS_URL'),
      SLUICE_HOME: home,
      SLUICE_PORT: '0',
      SLUICE_PG_PORT: '0',
      SLUICE_LOG_LEVEL: 'silent',
    };
  });
  after(async () => {
    await db?.drop().catch(() => {});
    rmSync(home, { recursive: true, force: true });
  });

  /** Start-up must stop before it touches the database: no table was created. */
  const assertDatabaseUntouched = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      assert.equal(r.rows[0].n, 0, 'start-up created tables before failing');
    } finally {
      await c.end();
    }
  };

  for (const roles of [[], ['gateway'], ['engine-manager']]) {
    it(`fails clearly when SLUICE_MASTER_KEYS is missing (${roles.length ? roles.join(', ') : 'all roles'})`, async () => {
      const r = await startSluice(env, roles);
      assert.notEqual(r.code, 0, r.stderr);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /sluice: failed to start: Invalid configuration SLUICE_MASTER_KEYS: production mode \(DATABASE_URL set\) needs a master key/);
      assert.match(r.stderr, /keys generate/, 'the message says how to make a key');
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'a configuration error is one clear line, not a stack trace');
      assert.doesNotMatch(r.stdout + r.stderr, /Sluice is running/);
      await assertDatabaseUntouched();
    });
  }

  const good = randomBytes(32).toString('base64');
  const cases: [string, string, RegExp][] = [
    ['a key of 16 bytes', `k1:${randomBytes(16).toString('base64')}`, /expected id:base64 entries of 32-byte keys/],
    ['an entry without an id', good, /expected id:base64 entries of 32-byte keys/],
    ['a key that is not base64', `k1:${'!'.repeat(44)}`, /expected id:base64 entries of 32-byte keys/],
    ['the same id twice', `k1:${good},k1:${randomBytes(32).toString('base64')}`, /key id k1 appears twice/],
  ];
  for (const [what, value, reason] of cases) {
    it(`fails clearly on a malformed key entry: ${what}, without echoing it`, async () => {
      const r = await startSluice({ ...env, SLUICE_MASTER_KEYS: value });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Invalid configuration SLUICE_MASTER_KEYS: /);
      assert.match(r.stderr, reason);
      for (const part of value.split(/[,:]/)) if (part.length > 8) assert.ok(!r.stderr.includes(part), 'the key value was echoed');
      await assertDatabaseUntouched();
    });
  }
});
