import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@sluice/infra';
import { requireEnv, uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import { type CliRun, cliSandbox, runCli } from '../packages/cli/test/cli-process.ts';
import { type ApiClient, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

const SECRET = `K3y-R0t-${randomBytes(6).toString('hex')}-never-leak`;
const ROLE = `dsk_${uniqueSuffix()}`;
const server = new URL(requireEnv('DATABASE_URL'));
const ROOT = path.resolve(import.meta.dirname, '..');
const ADMIN = path.join(ROOT, 'apps/standalone/src/admin.ts');
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
const ENTRY_A = `olda:${KEY_A}`;
const ENTRY_B = `newb:${KEY_B}`;
const KEY_LOST = randomBytes(32).toString('base64');
const ENTRY_LOST = `lost:${KEY_LOST}`;

interface KeyUsage {
  keyId: string;
  active: boolean;
  configured: boolean;
  records: number;
}
interface Rotation {
  activeKeyId: string;
  rewrapped: number;
  notConfigured: number;
  before: KeyUsage[];
  after: KeyUsage[];
}

const recordsOf = (keys: KeyUsage[]) => Object.fromEntries(keys.filter((k) => k.records > 0).map((k) => [k.keyId, k.records]));

describe('sluice keys rotate: re-wrapping data keys under a new master key with no downtime', () => {
  let env: TestEnv;
  const stacks: TestStack[] = [];
  const logLines: string[] = [];
  const cliOutput: string[] = [];
  const sandbox = cliSandbox();
  const log = () => createLogger({ name: 'sluice', level: 'trace', destination: { write: (line: string) => void logLines.push(line) } });

  const start = async (keys: string): Promise<TestStack> => {
    const ts = await startTestStack(env, { overrides: { SLUICE_MASTER_KEYS: keys }, log: log() });
    stacks.push(ts);
    return ts;
  };
  const stop = async (ts: TestStack) => {
    await ts.stop();
    stacks.splice(stacks.indexOf(ts), 1);
  };
  /** Runs the real `sluice` binary against a gateway. */
  const sluice = async (ts: TestStack, token: string, args: string): Promise<CliRun> => {
    const run = await runCli(`sluice ${args}`, { ...sandbox, url: ts.url, token }, 120_000);
    cliOutput.push(run.stdout, run.stderr);
    return run;
  };

  /** `npm run admin -- …` as a real process on the test database. */
  const runAdmin = (args: string[], keys: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLUICE_') && k !== 'NODE_OPTIONS') base[k] = v;
    const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', ADMIN, ...args], {
      cwd: ROOT,
      env: {
        ...base,
        DATABASE_URL: env.db.url,
        SLUICE_HOME: env.home,
        SLUICE_MASTER_KEYS: keys,
        SLUICE_QUEUE_BACKEND: 'postgres',
        SLUICE_BUS_BACKEND: 'postgres',
      },
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
    return new Promise((resolve) =>
      child.on('close', (code) => {
        cliOutput.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      }),
    );
  };

  before(async () => {
    env = await testEnv('redis');
    const su = new pg.Client({ connectionString: env.db.url });
    await su.connect();
    await su.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${SECRET}'`);
    await su.query('CREATE TABLE public.items (id int PRIMARY KEY)');
    await su.query(`GRANT SELECT ON public.items TO ${ROLE}`);
    await su.query('INSERT INTO public.items SELECT generate_series(1, 5)');
    await su.end();
  });
  after(async () => {
    for (const ts of [...stacks]) await ts.stop().catch(() => {});
    await env?.cleanup();
    rmSync(sandbox.root, { recursive: true, force: true });
    const su = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
    await su.connect();
    await su.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => {});
    await su.end();
  });

  const params = (over: Record<string, unknown> = {}) => ({
    host: server.hostname,
    port: Number(server.port || 5432),
    database: env.db.name,
    user: ROLE,
    password: SECRET,
    ...over,
  });

  it('rotates through the CLI on two gateways while jobs run, then runs with the new key alone', async () => {
    // The deployment before the rotation: one key.
    const first = await start(ENTRY_A);
    const owner = first.api(first.tokens.alice);
    for (const name of ['rot_a', 'rot_b', 'rot_c']) {
      assert.equal((await owner.request('POST', '/api/v1/datasources', { name, type: 'postgresql', params: params() })).status, 201);
      const v2 = await owner.request('PUT', `/api/v1/datasources/${name}`, {
        params: { ...params(), password: undefined, applicationName: name },
        comment: 'v2',
      });
      assert.equal(v2.status, 200, JSON.stringify(v2.body));
      assert.equal((await owner.request('POST', `/api/v1/datasources/${name}/versions/2/publish`)).status, 200);
    }
    const status0 = await sluice(first, first.tokens.admin, 'keys status --format json');
    assert.equal(status0.code, 0, status0.stderr);
    assert.deepEqual(recordsOf(JSON.parse(status0.stdout).keys), { olda: 6 });
    // Step 1 of the procedure: every gateway gets the new key first, the old one after it (here two gateways).
    await stop(first);
    const g1 = await start(`${ENTRY_B},${ENTRY_A}`);
    const g2 = await start(`${ENTRY_B},${ENTRY_A}`);
    const alice1 = g1.api(g1.tokens.alice);
    const alice2 = g2.api(g2.tokens.alice);

    // Jobs running while the rotation happens, on both gateways, plus a stream of new ones.
    const long = [
      await alice1.submit({ code: 'select pg_sleep(2), count(*) as n from items', dataSource: 'rot_a' }),
      await alice2.submit({ code: 'select pg_sleep(2), count(*) as n from items', dataSource: 'rot_b' }),
    ];
    for (const j of long) assert.equal(j.status, 201, JSON.stringify(j.body));
    let rotating = true;
    let rotationStarted = false;
    const before: { api: ApiClient; id: string }[] = [];
    const during: { api: ApiClient; id: string }[] = [];
    let warmedUp!: () => void;
    const warm = new Promise<void>((res) => {
      warmedUp = res;
    });
    const stream = (async () => {
      for (let i = 0; rotating; i++) {
        const api = i % 2 ? alice1 : alice2;
        const r = await api.submit({ code: `select ${i} as i, count(*) as n from items`, dataSource: ['rot_a', 'rot_b', 'rot_c'][i % 3] });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        (rotationStarted ? during : before).push({ api, id: r.body.id });
        // The first submit of each data source may wait for its SQL grammar: the rotation starts after them.
        if (before.length === 3) warmedUp();
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await Promise.race([warm, stream]);
    // Step 2: rotate, through both gateways at once (as two operators, or a retried run, would).
    rotationStarted = true;
    const [r1, r2] = await Promise.all([sluice(g1, g1.tokens.admin, 'keys rotate --format json'), sluice(g2, g2.tokens.admin, 'keys rotate --format json')]);
    rotating = false;
    await stream;
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    const rot1 = JSON.parse(r1.stdout) as Rotation;
    const rot2 = JSON.parse(r2.stdout) as Rotation;
    assert.equal(rot1.rewrapped + rot2.rewrapped, 6, 'each record is re-wrapped exactly once, whichever gateway gets it');
    assert.deepEqual(recordsOf(rot1.after), { newb: 6 });
    assert.deepEqual(recordsOf(rot2.after), { newb: 6 });
    assert.equal(rot1.activeKeyId, 'newb');
    assert.ok(rot1.before.some((k) => k.keyId === 'olda' && k.configured && !k.active));
    // A repeated rotation finds nothing to do.
    const again = await sluice(g1, g1.tokens.admin, 'keys rotate');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /re-wrapped 0 record\(s\) under master key newb/);
    assert.match(again.stderr, /old keys can be removed/);

    for (const j of long) assert.equal((await alice1.waitFor(j.body.id, undefined, 60_000)).state, 'Succeed');
    assert.ok(during.length >= 2, `jobs submitted during the rotation: ${during.length}`);
    for (const j of [...before, ...during]) {
      const done = await j.api.waitFor(j.id, undefined, 60_000);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    }

    // Step 3: the old key leaves the configuration; a restarted deployment still opens every secret.
    await stop(g1);
    await stop(g2);
    const g3 = await start(ENTRY_B);
    const alice3 = g3.api(g3.tokens.alice);
    for (const name of ['rot_a', 'rot_b', 'rot_c']) {
      const j = await alice3.submit({ code: 'select count(*)::int as n from items', dataSource: name });
      assert.equal(j.status, 201, JSON.stringify(j.body));
      const done = await alice3.waitFor(j.body.id, undefined, 60_000);
      assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
      const rows = await alice3.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${j.body.id}/results/0`);
      assert.deepEqual(rows.body.rows, [[5]]);
      const test = await alice3.request('POST', `/api/v1/datasources/${name}/test?version=1`);
      assert.equal(test.status, 200, `version 1 of ${name} opens too: ${JSON.stringify(test.body)}`);
    }
    const status = await sluice(g3, g3.tokens.admin, 'keys status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /active master key: newb/);
    assert.match(status.stdout, /^newb\s+6\s+yes\s+yes$/m);
    assert.doesNotMatch(status.stdout, /olda/);
  });

  it('leaves records under a key the gateway lacks alone and exits 1; with the key back, npm run admin -- keys rotate finishes', async () => {
    for (const ts of [...stacks]) await stop(ts);
    // A key removed too early: a record sealed under "lost" while this gateway only has newb.
    const withLost = await start(`${ENTRY_LOST},${ENTRY_B}`);
    const owner = withLost.api(withLost.tokens.alice);
    assert.equal((await owner.request('POST', '/api/v1/datasources', { name: 'rot_lost', type: 'postgresql', params: params() })).status, 201);
    await stop(withLost);
    const g = await start(ENTRY_B);
    const r = await sluice(g, g.tokens.admin, 'keys rotate --format json');
    assert.equal(r.code, 1, r.stderr);
    const rot = JSON.parse(r.stdout) as Rotation;
    assert.equal(rot.rewrapped, 0);
    assert.equal(rot.notConfigured, 1);
    assert.deepEqual(recordsOf(rot.after), { newb: 6, lost: 1 });
    assert.match(r.stderr, /still under other keys: lost \(1\)/);
    const status = await sluice(g, g.tokens.admin, 'keys status');
    assert.match(status.stdout, /^lost\s+1\s+NO$/m);

    // With the key back, the admin command (straight on the database, same code) finishes the job.
    const admin = await runAdmin(['keys', 'rotate'], `${ENTRY_B},${ENTRY_LOST}`);
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stdout, /re-wrapped 1 record\(s\) under master key newb/);
    assert.match(admin.stdout, /old keys can be removed/);
    const after = await runAdmin(['keys', 'status'], ENTRY_B);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /newb: 7 record\(s\), active/);
    assert.doesNotMatch(after.stdout, /lost/);
  });

  it('refuses non-admins with a structured 403, over REST and in the CLI', async () => {
    const ts = stacks[0] ?? (await start(ENTRY_B));
    const alice = ts.api(ts.tokens.alice);
    for (const [method, p] of [
      ['GET', '/api/v1/admin/keys'],
      ['POST', '/api/v1/admin/keys/rotate'],
    ] as const) {
      const r = await alice.request<{ code: string; message: string; details: Record<string, unknown> }>(method, p);
      assert.equal(r.status, 403, `${method} ${p}`);
      assert.equal(r.body.code, 'SLUICE_AUTH_FORBIDDEN');
      assert.equal(typeof r.body.message, 'string');
      assert.equal(typeof r.body.details, 'object');
    }
    const cli = await sluice(ts, ts.tokens.alice, 'keys rotate');
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(cli.stderr, /SLUICE_AUTH_FORBIDDEN/);
    const bad = await sluice(ts, ts.tokens.admin, 'keys spin');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /keys takes rotate or status/);
  });

  it('never shows a secret or master-key material in logs or CLI output', () => {
    assert.ok(logLines.length > 0, 'logs were captured');
    for (const text of [...logLines, ...cliOutput]) {
      for (const s of [SECRET, KEY_A, KEY_B, KEY_LOST]) assert.ok(!text.includes(s), `leaked: ${text.slice(0, 200)}`);
    }
  });
});
