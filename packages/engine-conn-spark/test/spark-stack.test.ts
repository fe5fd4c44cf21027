import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import type { ApiClient, JobBody, TestEnv } from '../../../test/support/test-stack.ts';
import { testEnv } from '../../../test/support/test-stack.ts';
import { testConnectorOptions } from './spark-home.ts';
import { type SparkStack, startSparkStack } from './support/spark-stack.ts';
import { alive } from './task-runner.ts';

/** Seconds an engine may stay idle in this stack before the pool stops it. */
const IDLE_SECONDS = 25;
const JOB_TIMEOUT_MS = 240_000;

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

async function logText(api: ApiClient, jobId: string): Promise<string[]> {
  const log = await api.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${jobId}/log?from=1&limit=1000`);
  return log.body.lines.map((l) => l.text);
}

/** The pid of the driver behind a job's engine, from the engine manager's pool. */
function driverPid(stack: SparkStack, engineId: string | null): number {
  const pooled = stack.manager.engines.list().find((e) => e.id === engineId);
  assert.ok(pooled, `engine ${engineId} is in the pool`);
  assert.ok(pooled.engine.pid, 'a Spark engine is a local driver process');
  return pooled.engine.pid;
}

describe('Spark through Sluice: per-user engines launched, reused and reaped by the engine manager', () => {
  let env: TestEnv;
  let stack: SparkStack;
  let aliceEngine: string | null = null;
  let alicePid = 0;
  let bobPid = 0;

  before(async () => {
    env = await testEnv('postgres');
    stack = await startSparkStack(env, await testConnectorOptions(), {
      SLUICE_ENGINE_IDLE_SECONDS: String(IDLE_SECONDS),
      SLUICE_QUEUE_TIMEOUT_SECONDS: '600',
      SLUICE_LEASE_MS: '10000',
      SLUICE_MAX_RETRIES: '0',
    });
  });

  after(async () => {
    await stack?.stop();
    await env?.cleanup();
  });

  it('runs a range aggregate on a Spark engine launched for alice, with checked results', async () => {
    const done = await run(stack.api('alice'), { code: 'SELECT count(*) AS n, sum(id) AS s, max(id) AS top FROM range(0, 1000000)' });
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.equal(done.engineType, 'spark-4');
    assert.deepEqual(await rows(stack.api('alice'), done.id), [['1000000', '499999500000', '999999']]);
    aliceEngine = done.engineId;
    alicePid = driverPid(stack, aliceEngine);
    assert.ok(alive(alicePid));
  });

  it('reuses alice’s engine for her next jobs: a temporary view made by one job is read by the next', async () => {
    const api = stack.api('alice');
    const make = await run(api, { code: 'CREATE OR REPLACE TEMPORARY VIEW sales AS SELECT id % 3 AS region, id AS amount FROM range(0, 30)' });
    assert.equal(make.state, 'Succeed', JSON.stringify(make.error));
    const read = await run(api, { code: 'SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region' });
    assert.equal(read.state, 'Succeed', JSON.stringify(read.error));
    assert.equal(make.engineId, aliceEngine, 'the same engine');
    assert.equal(read.engineId, aliceEngine, 'the same engine');
    assert.deepEqual(await rows(api, read.id), [
      ['0', '135'],
      ['1', '145'],
      ['2', '155'],
    ]);
  });

  it('reports a bad query as a user error with its Spark error class, not retried', async () => {
    const done = await run(stack.api('alice'), { code: 'SELECT * FROM sales_archive' });
    assert.equal(done.state, 'Failed');
    assert.equal(done.attempt, 0, 'a user error is not retried');
    assert.equal(done.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(done.error?.details.errorClass, 'TABLE_OR_VIEW_NOT_FOUND');
    assert.equal(done.error?.details.sqlState, '42P01');
    assert.equal(done.engineId, aliceEngine);
  });

  it('cancels a long query on the engine, which then runs the next job', async () => {
    const api = stack.api('alice');
    const sub = await api.submit({ engineType: 'spark', creator: 'spark-test', code: 'SELECT sum(hash(id)) FROM range(0, 1000000000000)' });
    await api.waitFor(sub.body.id, ['Running'], JOB_TIMEOUT_MS);
    // The engine logs the Spark Connect operation id once the statement is sent.
    await waitFor(async () => (await logText(api, sub.body.id)).some((l) => l.includes('Spark Connect operation')), {
      timeoutMs: 60_000,
      what: 'the query to be sent to Spark',
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const t0 = Date.now();
    const cancel = await api.request('POST', `/api/v1/jobs/${sub.body.id}/cancel`);
    assert.equal(cancel.status, 200);
    const done = await api.waitFor(sub.body.id, undefined, 30_000);
    assert.equal(done.state, 'Cancelled');
    assert.ok(Date.now() - t0 < 10_000, `cancel took ${Date.now() - t0} ms`);
    const next = await run(api, { code: 'SELECT 1 AS still_here' });
    assert.equal(next.state, 'Succeed', JSON.stringify(next.error));
    assert.equal(next.engineId, aliceEngine, 'the interrupted engine stays in use');
    assert.deepEqual(await rows(api, next.id), [[1]]);
    assert.ok(alive(alicePid));
  });

  it('runs a PySpark batch script through spark-submit: exit 0 succeeds with its output in the log', async () => {
    const api = stack.api('alice');
    const code = [
      'from pyspark.sql import SparkSession',
      'spark = SparkSession.builder.getOrCreate()',
      'print("evens:", spark.range(100).filter("id % 2 = 0").count(), flush=True)',
      'spark.stop()',
    ].join('\n');
    const done = await run(api, { code, codeType: 'pyspark' });
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.ok((await logText(api, done.id)).includes('evens: 50'));
  });

  it('fails a PySpark batch script that exits 1, with its exit code', async () => {
    const api = stack.api('alice');
    const done = await run(api, { code: 'import sys\nprint("giving up", flush=True)\nsys.exit(1)', codeType: 'pyspark' });
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_ENGINE_SCRIPT_FAILED');
    assert.equal(done.error?.details.exitCode, 1);
    assert.ok((await logText(api, done.id)).includes('giving up'));
  });

  it('notices a driver killed mid-job: the job fails as an engine error, the slot is freed, the next job gets a new engine', async () => {
    const api = stack.api('alice');
    const sub = await api.submit({ engineType: 'spark', creator: 'spark-test', code: 'SELECT sum(hash(id)) FROM range(0, 1000000000000)' });
    await api.waitFor(sub.body.id, ['Running'], JOB_TIMEOUT_MS);
    await waitFor(async () => (await logText(api, sub.body.id)).some((l) => l.includes('Spark Connect operation')), {
      timeoutMs: 60_000,
      what: 'the query to be sent to Spark',
    });
    assert.equal((await api.job(sub.body.id)).body.engineId, aliceEngine);
    process.kill(alicePid, 'SIGKILL');
    const done = await api.waitFor(sub.body.id, undefined, 60_000);
    assert.equal(done.state, 'Failed');
    // SLUICE_MAX_RETRIES is 0 here: the retryable engine error ends the job once retries are used up.
    assert.equal(done.error?.code, 'SLUICE_JOB_RETRIES_EXHAUSTED');
    assert.equal(done.error?.details.cause, 'SLUICE_ENGINE_CRASHED');
    await waitFor(() => !stack.manager.engines.list().some((e) => e.id === aliceEngine), { timeoutMs: 10_000, what: 'the dead engine to leave the pool' });
    const next = await run(api, { code: 'SELECT 2 AS again' });
    assert.equal(next.state, 'Succeed', JSON.stringify(next.error));
    assert.notEqual(next.engineId, aliceEngine, 'a new engine');
    assert.deepEqual(await rows(api, next.id), [[2]]);
    aliceEngine = next.engineId;
    alicePid = driverPid(stack, aliceEngine);
  });

  it('gives bob his own engine: another driver process, another session', async () => {
    // Alice keeps her engine busy meanwhile, so both engines exist together however long bob's launch takes.
    const alice = stack.api('alice');
    const busy = await alice.submit({ engineType: 'spark', creator: 'spark-test', code: 'SELECT sum(hash(id)) FROM range(0, 1000000000000)' });
    await waitFor(async () => (await logText(alice, busy.body.id)).some((l) => l.includes('Spark Connect operation')), {
      timeoutMs: 60_000,
      what: 'alice’s query to be sent to Spark',
    });
    const bob = stack.api('bob');
    const done = await run(bob, { code: 'SELECT current_user() AS who' });
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.deepEqual(await rows(bob, done.id), [['bob']], 'the driver runs as SPARK_USER=bob');
    assert.notEqual(done.engineId, aliceEngine);
    assert.equal((await alice.job(busy.body.id)).body.engineId, aliceEngine);
    bobPid = driverPid(stack, done.engineId);
    assert.notEqual(bobPid, alicePid);
    const sparkEngines = stack.manager.engines.list().filter((e) => e.label === 'spark-4');
    assert.deepEqual(sparkEngines.map((e) => e.user).sort(), ['alice', 'bob']);
    const peek = await run(bob, { code: 'SELECT * FROM sales' });
    assert.equal(peek.error?.details.errorClass, 'TABLE_OR_VIEW_NOT_FOUND', 'alice’s temporary view is not bob’s');
    assert.equal((await alice.request('POST', `/api/v1/jobs/${busy.body.id}/cancel`)).status, 200);
    assert.equal((await alice.waitFor(busy.body.id, undefined, 30_000)).state, 'Cancelled');
  });

  it('stops idle engines after the idle timeout: the driver processes exit', async () => {
    assert.ok(alive(alicePid) && alive(bobPid));
    await waitFor(() => stack.manager.engines.list().length === 0, {
      timeoutMs: (IDLE_SECONDS + 40) * 1000,
      intervalMs: 500,
      what: 'the idle engines to be stopped',
    });
    await waitFor(() => !alive(alicePid) && !alive(bobPid), { timeoutMs: 20_000, what: 'both drivers to exit' });
  });
});
