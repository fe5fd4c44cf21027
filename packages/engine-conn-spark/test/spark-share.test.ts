import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import { type ApiClient, type JobBody, startTestStack, type TestEnv, type TestStack, testEnv } from '../../../test/support/test-stack.ts';
import { ensureSparkCluster, type TestSparkCluster, testSparkSettings } from './spark-home.ts';
import { alive } from './task-runner.ts';

const JOB_TIMEOUT_MS = 300_000;
const SERVICE_USER = 'sluice_spark';

/**
 * Share levels and a standalone master, through the whole of Sluice as a deployment runs it: the
 * catalog builds the spark connector from the SLUICE_SPARK_* settings, and the data source is
 * registered and published through the REST API.
 */
describe('Spark through Sluice: share levels and a standalone cluster', () => {
  let env: TestEnv;
  let t: TestStack;
  let alice: ApiClient;
  let bob: ApiClient;
  let sparkCluster: TestSparkCluster;

  async function run(api: ApiClient, job: Record<string, unknown>): Promise<JobBody> {
    const sub = await api.submit({ engineType: 'spark', creator: 'spark-test', ...job });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    return api.waitFor(sub.body.id, undefined, JOB_TIMEOUT_MS);
  }

  async function rows(api: ApiClient, jobId: string, index = 0): Promise<unknown[][]> {
    const page = await api.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${jobId}/results/${index}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    return page.body.rows;
  }

  function pooled(engineId: string | null) {
    const e = t.stack.manager?.engines.list().find((x) => x.id === engineId);
    assert.ok(e, `engine ${engineId} is in the pool`);
    return e;
  }

  /** An environment variable of a running process, from /proc. */
  function envOf(pid: number, name: string): string | undefined {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return entries.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
  }

  async function registryUser(engineId: string | null): Promise<string | undefined> {
    const r = await t.stack.infra.db.query<{ username: string }>('SELECT username FROM sluice_engines WHERE id = $1', [engineId]);
    return r.rows[0]?.username;
  }

  before(async () => {
    sparkCluster = await ensureSparkCluster();
    env = await testEnv('postgres');
    t = await startTestStack(env, {
      overrides: {
        ...(await testSparkSettings()),
        SLUICE_SPARK_SERVICE_USER: SERVICE_USER,
        SLUICE_ENGINE_IDLE_SECONDS: '600',
        SLUICE_ENGINE_CONCURRENCY: '4',
        SLUICE_QUEUE_TIMEOUT_SECONDS: '900',
        SLUICE_RUN_TIMEOUT_SECONDS: '900',
        SLUICE_LEASE_MS: '10000',
        SLUICE_MAX_RETRIES: '0',
      },
    });
    alice = t.api(t.tokens.alice);
    bob = t.api(t.tokens.bob);
  });

  after(async () => {
    await t?.stop();
    await env?.cleanup();
  });

  it('refuses an unknown share level as a user error, before any engine starts', async () => {
    const done = await run(alice, { code: 'SELECT 1', startupParams: { shareLevel: 'CLUSTER' } });
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_REQUEST_INVALID');
    assert.match(done.error?.message ?? '', /shareLevel must be one of CONNECTION, USER, GROUP, SERVER/);
    assert.equal(done.engineId, null);
  });

  it('SERVER: alice and bob share one engine run as the service identity, each in a session of their own', async () => {
    const server = { startupParams: { shareLevel: 'SERVER' } };
    const made = await run(alice, { ...server, code: "CREATE OR REPLACE TEMPORARY VIEW mine AS SELECT 'alice' AS owner" });
    assert.equal(made.state, 'Succeed', JSON.stringify(made.error));
    const who = await run(bob, { ...server, code: 'SELECT current_user() AS who' });
    assert.equal(who.state, 'Succeed', JSON.stringify(who.error));
    assert.equal(who.engineId, made.engineId, 'the same engine for both users');
    assert.equal(who.user, 'bob', 'the job records its submitting user');
    assert.deepEqual(await rows(bob, who.id), [[SERVICE_USER]], 'the driver runs as the service identity');
    const engine = pooled(made.engineId);
    assert.equal(engine.user, 'server:*');
    assert.equal(await registryUser(made.engineId), 'server:*', 'the engine counts against the server owner, not alice');
    assert.ok(engine.engine.pid);
    assert.equal(envOf(engine.engine.pid, 'SPARK_USER'), SERVICE_USER);
    // Sessions are per submitting user: bob cannot see alice's temporary view, alice still can.
    const peek = await run(bob, { ...server, code: 'SELECT * FROM mine' });
    assert.equal(peek.error?.details.errorClass, 'TABLE_OR_VIEW_NOT_FOUND', JSON.stringify(peek.error));
    assert.equal(peek.engineId, made.engineId);
    const own = await run(alice, { ...server, code: 'SELECT owner FROM mine' });
    assert.equal(own.state, 'Succeed', JSON.stringify(own.error));
    assert.equal(own.engineId, made.engineId);
    assert.deepEqual(await rows(alice, own.id), [['alice']]);
    // A per-user job of alice does not land on the shared engine.
    const mineOnly = await run(alice, { code: 'SELECT current_user() AS who' });
    assert.equal(mineOnly.state, 'Succeed', JSON.stringify(mineOnly.error));
    assert.notEqual(mineOnly.engineId, made.engineId);
    assert.deepEqual(await rows(alice, mineOnly.id), [['alice']]);
    assert.equal(pooled(mineOnly.engineId).user, 'alice');
  });

  it('GROUP: jobs of one group label share an engine across users; another group gets another', async () => {
    const group = (name: string) => ({ startupParams: { shareLevel: 'group' }, labels: { group: name } });
    const a = await run(alice, { ...group('etl'), code: 'SELECT 1 AS n' });
    assert.equal(a.state, 'Succeed', JSON.stringify(a.error));
    const b = await run(bob, { ...group('etl'), code: 'SELECT 2 AS n' });
    assert.equal(b.state, 'Succeed', JSON.stringify(b.error));
    assert.equal(b.engineId, a.engineId, 'one engine for the etl group');
    assert.equal(pooled(a.engineId).user, 'group:etl');
    const other = await run(bob, { ...group('bi'), code: 'SELECT 3 AS n' });
    assert.equal(other.state, 'Succeed', JSON.stringify(other.error));
    assert.notEqual(other.engineId, a.engineId, 'the bi group has its own engine');
    assert.equal(pooled(other.engineId).user, 'group:bi');
    assert.deepEqual(await rows(bob, other.id), [[3]]);
  });

  it('CONNECTION: each job gets a fresh engine, stopped after the job', async () => {
    const once = { startupParams: { shareLevel: 'CONNECTION' } };
    const first = await run(alice, { ...once, code: 'SELECT 1 AS n' });
    assert.equal(first.state, 'Succeed', JSON.stringify(first.error));
    await waitFor(() => !t.stack.manager?.engines.list().some((e) => e.id === first.engineId), { timeoutMs: 60_000, what: 'the engine to stop' });
    const second = await run(alice, { ...once, code: 'SELECT 2 AS n' });
    assert.equal(second.state, 'Succeed', JSON.stringify(second.error));
    assert.notEqual(second.engineId, first.engineId);
    assert.deepEqual(await rows(alice, second.id), [[2]]);
  });

  it('runs SQL on the standalone cluster a spark data source names: the driver’s master, and executors on the Worker', async () => {
    const created = await alice.request('POST', '/api/v1/datasources', {
      name: 'spark_local_cluster',
      type: 'spark',
      params: { master: sparkCluster.masterUrl },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await alice.request('POST', '/api/v1/datasources/spark_local_cluster/versions/1/publish')).status, 200);
    const onCluster = { dataSource: 'spark_local_cluster', startupParams: { executorMemory: '512m', executorCores: 1 } };
    const master = await run(alice, { ...onCluster, code: 'SET spark.master' });
    assert.equal(master.state, 'Succeed', JSON.stringify(master.error));
    assert.deepEqual(await rows(alice, master.id), [['spark.master', sparkCluster.masterUrl]]);
    const sum = await run(alice, { ...onCluster, code: 'SELECT count(*) AS n, sum(id) AS s FROM range(0, 2000000, 1, 4)' });
    assert.equal(sum.state, 'Succeed', JSON.stringify(sum.error));
    assert.equal(sum.engineId, master.engineId);
    assert.deepEqual(await rows(alice, sum.id), [['2000000', '1999999000000']]);
    // The Master lists the engine's application, running with cores granted on the Worker.
    const state = (await (await fetch(`${sparkCluster.masterWebUi}/json/`)).json()) as {
      activeapps: { name: string; state: string; cores: number }[];
    };
    const app = state.activeapps.find((a) => a.name === `sluice-alice-${(master.engineId ?? '').slice(0, 8)}`);
    assert.ok(app, `the Master runs the engine's application: ${JSON.stringify(state.activeapps)}`);
    assert.equal(app.state, 'RUNNING');
    assert.ok(app.cores >= 1, `executor cores granted: ${app.cores}`);
    const pid = pooled(master.engineId).engine.pid;
    assert.ok(pid && alive(pid));
  });
});
