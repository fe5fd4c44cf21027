import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ERROR_CODES, type ErrorCode } from '@sluice/core';
import { waitFor } from '@sluice/testkit';
import { cancelFlinkJob, ensureFlinkCluster, type FlinkCluster, flinkJobIdsIn, flinkJobState, waitForFlinkJob } from './support/flink-cluster.ts';
import { type ApiClient, type JobBody, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';
import { type Frame, WsTestClient } from './support/ws-client.ts';

/**
 * Flink SQL through the whole of Sluice: REST and WebSocket → entrance → queue → engine manager →
 * the Flink connector → a real SQL Gateway and cluster (scripts/engines/flink.sh). Every job names a
 * registered `flink-sql-gateway` data source, which is how a deployment points the flink engine at
 * its cluster.
 */

const JOB_TIMEOUT_MS = 120_000;
/** The stack's SLUICE_RESULT_MAX_ROWS: above what the capped queries keep, below what an uncapped stream sends. */
const STACK_ROW_LIMIT = 1000;
const MAX_RETRIES = 1;
const FINAL = ['Succeed', 'Failed', 'Cancelled', 'Timeout'];

/** Two unbounded datagen streams over the same four keys. */
const STREAMS = [
  "CREATE TEMPORARY TABLE IF NOT EXISTS orders (k INT, amount INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.k.min' = '1', 'fields.k.max' = '4', 'fields.amount.min' = '1', 'fields.amount.max' = '100')",
  "CREATE TEMPORARY TABLE IF NOT EXISTS page_views (k INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.k.min' = '1', 'fields.k.max' = '4')",
].join(';\n');

/** A join of the two streams' running aggregates per key: every new row of either side retracts a joined row. */
const STREAM_JOIN = `SELECT o.k, o.n AS orders, o.total, v.n AS visits
  FROM (SELECT k, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY k) AS o
  LEFT JOIN (SELECT k, COUNT(*) AS n FROM page_views GROUP BY k) AS v ON o.k = v.k`;

const isFinal = (f: Frame, jobId: string) => f.type === 'status' && f.jobId === jobId && FINAL.includes(f.state as string);

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * Applies a changelog in order and checks it: every retraction (-U, -D) removes a row that is in the
 * result, and no key is in the result twice. Returns the result it ends with.
 */
function applyChangelog(rows: unknown[][]): Map<string, unknown[]> {
  const table = new Map<string, unknown[]>();
  for (const [op, key, ...rest] of rows) {
    const k = JSON.stringify(key);
    if (op === '+I' || op === '+U') {
      assert.ok(!table.has(k), `${String(op)} of key ${k} while the result holds ${JSON.stringify(table.get(k))}`);
      table.set(k, rest);
    } else {
      assert.ok(op === '-U' || op === '-D', `row kind ${String(op)}`);
      assert.deepEqual(table.get(k), rest, `${String(op)} retracts the row the result holds for key ${k}`);
      table.delete(k);
    }
  }
  return table;
}

describe('Flink SQL through Sluice: REST, WebSocket, queue, engine manager, SQL Gateway', () => {
  let flink: FlinkCluster;
  let env: TestEnv;
  let ts: TestStack | undefined;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceEngine: string | null = null;

  async function run(api: ApiClient, job: Record<string, unknown>, timeoutMs = JOB_TIMEOUT_MS): Promise<JobBody> {
    const sub = await api.submit({ engineType: 'flink', dataSource: 'flink_local', creator: 'flink-e2e', ...job });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    return api.waitFor(sub.body.id, FINAL, timeoutMs);
  }

  async function rows(api: ApiClient, jobId: string, index = 0): Promise<unknown[][]> {
    const page = await api.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${jobId}/results/${index}?limit=10000`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    return page.body.rows;
  }

  async function resultSets(api: ApiClient, jobId: string): Promise<{ index: number; rows: number; columns: { name: string; type: string }[] }[]> {
    const r = await api.request<{ items: { index: number; rows: number; columns: { name: string; type: string }[] }[] }>(
      'GET',
      `/api/v1/jobs/${jobId}/results`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items;
  }

  async function logText(api: ApiClient, jobId: string): Promise<string[]> {
    const log = await api.request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${jobId}/log?from=1&limit=10000`);
    assert.equal(log.status, 200);
    return log.body.lines.map((l) => l.text);
  }

  // A cluster that lost its TaskManager is restarted (loudly) before the next test, not failed by it too.
  beforeEach(async () => {
    flink = await ensureFlinkCluster();
  });

  before(async () => {
    flink = await ensureFlinkCluster();
    env = await testEnv('redis');
    ts = await startTestStack(env, {
      overrides: {
        SLUICE_RESULT_MAX_ROWS: String(STACK_ROW_LIMIT),
        SLUICE_MAX_RETRIES: String(MAX_RETRIES),
        SLUICE_LEASE_MS: '10000',
        SLUICE_QUEUE_TIMEOUT_SECONDS: '600',
      },
    });
    alice = ts.api(ts.tokens.alice);
    bob = ts.api(ts.tokens.bob);
    // The data source is how the stack's flink engine finds the gateway (and the REST API it follows jobs on).
    const created = await alice.request('POST', '/api/v1/datasources', {
      name: 'flink_local',
      type: 'flink-sql-gateway',
      params: { gatewayUrl: flink.gatewayUrl, restUrl: flink.restUrl, jobPollIntervalMs: 300 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await alice.request('POST', '/api/v1/datasources/flink_local/versions/1/publish')).status, 200);
    assert.equal((await alice.request('POST', '/api/v1/datasources/flink_local/shares', { user: 'bob', permission: 'use' })).status, 200);
  });

  after(async () => {
    await ts?.stop();
    await env?.cleanup();
  });

  it('runs bounded SELECTs and returns their rows, with the changelog kinds of a streaming aggregate', async () => {
    const done = await run(alice, {
      code: `SELECT id, name FROM (VALUES (1, 'ada'), (2, 'bo')) AS t(id, name);
        CREATE TEMPORARY TABLE five (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '5', 'number-of-rows' = '5');
        SELECT COUNT(*) AS n, SUM(id) AS s FROM five`,
    });
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    assert.equal(done.engineType, 'flink-2');
    assert.equal(done.resultSets, 2, 'the DDL between the queries has no result');
    aliceEngine = done.engineId;
    const sets = await resultSets(alice, done.id);
    assert.deepEqual(
      sets[0]?.columns.map((c) => c.name),
      ['op', 'id', 'name'],
    );
    assert.deepEqual(
      sets[0]?.columns.slice(0, 2).map((c) => c.type),
      ['CHAR(2)', 'INT'],
    );
    assert.deepEqual(
      (await rows(alice, done.id, 0)).sort((a, b) => Number(a[1]) - Number(b[1])),
      [
        ['+I', 1, 'ada'],
        ['+I', 2, 'bo'],
      ],
    );
    // Streaming mode: the count over five rows arrives as a changelog, each update retracting the last.
    const agg = await rows(alice, done.id, 1);
    assert.deepEqual(
      sets[1]?.columns.map((c) => c.name),
      ['op', 'n', 's'],
    );
    assert.equal(agg.length, 9, JSON.stringify(agg));
    assert.deepEqual(
      agg.map((r) => r[0]),
      ['+I', '-U', '+U', '-U', '+U', '-U', '+U', '-U', '+U'],
    );
    assert.deepEqual(agg[8], ['+U', '5', '15'], 'BIGINT results are exact decimal strings');
    for (let i = 1; i < agg.length; i += 2) assert.deepEqual(agg[i]?.slice(1), agg[i - 1]?.slice(1), '-U retracts the row before it');
    const log = await logText(alice, done.id);
    assert.ok(log.some((l) => l.startsWith('Statement 1 of 3: SELECT id, name')));
    assert.ok(log.some((l) => l.startsWith('Statement 2 of 3: CREATE TEMPORARY TABLE five')));
    assert.equal(flinkJobIdsIn(log).length, 2, `the log names each query's Flink job: ${log.join(' | ')}`);
  });

  it('returns a TopN’s deletions (-D) among its changelog rows', async () => {
    // The two largest ids of a bounded sequence, without the rank column: each new leader pushes the
    // smallest of the two out with -D. One source task keeps the arrival order, and so the changelog, fixed.
    const done = await run(alice, {
      code: `CREATE TEMPORARY TABLE six (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '6', 'number-of-rows' = '6');
        SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) AS rn FROM six) WHERE rn <= 2`,
      runtimeParams: { executionConfig: { 'parallelism.default': '1' } },
    });
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    const changelog = await rows(alice, done.id);
    const kinds = changelog.map((r) => r[0]);
    assert.ok(kinds.includes('-D'), JSON.stringify(changelog));
    const table = applyChangelog(changelog.map(([op, id]) => [op, id]));
    assert.deepEqual([...table.keys()].sort(), ['"5"', '"6"'], JSON.stringify(changelog));
    assert.equal(kinds.filter((k) => k === '-D').length, 4, 'ids 1 to 4 each left the top 2');
  });

  it('streams a join of two datagen streams to a WebSocket subscriber and the result store, up to the row cap, then stops the Flink job', async () => {
    const ws = await WsTestClient.connect(ts?.url ?? '', ts?.tokens.alice);
    try {
      ws.send({
        type: 'submit',
        reqId: 'join',
        rows: true,
        job: { engineType: 'flink', dataSource: 'flink_local', code: `${STREAMS};\n${STREAM_JOIN}`, runtimeParams: { maxRows: '60' } },
      });
      const submitted = await ws.until((fs) => fs.find((f) => f.type === 'submitted' && f.reqId === 'join'), 30_000, 'submitted');
      const jobId = (submitted.job as { id: string }).id;
      const final = await ws.until((fs) => fs.find((f) => isFinal(f, jobId)), JOB_TIMEOUT_MS, 'final status');
      assert.equal(final.state, 'Succeed', JSON.stringify(final.error));
      const states = ws.frames.filter((f) => f.type === 'status' && f.jobId === jobId).map((f) => f.state);
      assert.ok(states.includes('Running'), states.join(','));
      const ready = ws.frames.filter((f) => f.type === 'result' && f.jobId === jobId);
      assert.equal(ready.length, 1, 'one result set');
      assert.equal(ready[0]?.rows, 60, 'exactly the row cap');
      assert.deepEqual(
        ((ready[0]?.columns ?? []) as { name: string }[]).map((c) => c.name),
        ['op', 'k', 'orders', 'total', 'visits'],
      );
      const wsLog = [...ws.logLines(jobId).values()];
      assert.ok(
        wsLog.some((l) => l.includes('row cap (maxRows 60)')),
        wsLog.join(' | '),
      );
      const [queryJob] = flinkJobIdsIn(wsLog);
      assert.ok(queryJob, `the subscriber's log names the query's Flink job: ${wsLog.join(' | ')}`);

      const changelog = await rows(alice, jobId);
      assert.equal(changelog.length, 60);
      // The subscriber asked for rows: the changelog reached it live, in order, as the store has it.
      const live = ws.frames.filter((f) => f.type === 'rows' && f.jobId === jobId).flatMap((f) => f.rows as unknown[][]);
      assert.deepEqual(live, changelog, 'the live rows are the stored changelog');
      const kinds = new Set(changelog.map((r) => r[0]));
      assert.ok(kinds.has('-U') || kinds.has('-D'), `the join retracts what it emitted: ${[...kinds].join(',')}`);
      const table = applyChangelog(changelog);
      assert.ok(table.size >= 1 && table.size <= 4, `one row per key: ${table.size}`);
      // The query was stopped at the cap: its Flink job does not run on.
      assert.equal(await waitForFlinkJob(flink, queryJob, ['CANCELED', 'FINISHED', 'FAILED'], 30_000), 'CANCELED');
    } finally {
      ws.close();
    }
  });

  it('fails a stream without a row cap at the stack’s result limit, and its Flink job is stopped', async () => {
    const done = await run(alice, {
      code: "CREATE TEMPORARY TABLE fast (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '2000'); SELECT x FROM fast",
      runtimeParams: { maxRows: 1_000_000 },
    });
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_RESULT_ROW_LIMIT');
    assert.equal(done.error?.details.limit, STACK_ROW_LIMIT);
    const [queryJob] = flinkJobIdsIn(await logText(alice, done.id));
    assert.ok(queryJob);
    assert.equal(await waitForFlinkJob(flink, queryJob, ['CANCELED', 'FINISHED', 'FAILED'], 40_000), 'CANCELED');
  });

  it('keeps the Sluice job Running while its INSERT INTO blackhole runs, and cancelling it cancels the Flink job', async () => {
    const sub = await alice.submit({
      engineType: 'flink',
      dataSource: 'flink_local',
      creator: 'flink-e2e',
      code: `${STREAMS};
        CREATE TEMPORARY TABLE IF NOT EXISTS sink (k INT, amount INT) WITH ('connector' = 'blackhole');
        INSERT INTO sink SELECT k, amount FROM orders`,
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const id = sub.body.id;
    let flinkJob: string | undefined;
    await waitFor(
      async () => {
        const log = await logText(alice, id);
        flinkJob = log.map((l) => /^Flink job ([0-9a-f]{32}): RUNNING$/.exec(l)?.[1]).find(Boolean);
        return flinkJob !== undefined;
      },
      { timeoutMs: JOB_TIMEOUT_MS, what: 'the INSERT job to run on the cluster' },
    );
    assert.ok(flinkJob);
    assert.equal(await flinkJobState(flink, flinkJob), 'RUNNING');
    const log = await logText(alice, id);
    assert.ok(log.some((l) => l.startsWith('Statement 4 of 4: INSERT INTO sink')));
    assert.ok(log.includes(`Following Flink job ${flinkJob} on ${flink.restUrl}`));
    assert.ok(log.some((l) => l.startsWith(`Flink job ${flinkJob} submitted`)));
    // The job is not done while its Flink job runs.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await alice.job(id)).body.state, 'Running');

    const cancel = await alice.request('POST', `/api/v1/jobs/${id}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    const done = await alice.waitFor(id, FINAL, 30_000);
    assert.equal(done.state, 'Cancelled');
    assert.equal(done.error?.code, 'SLUICE_JOB_CANCELLED');
    // Flink's own REST API confirms it.
    assert.equal(await flinkJobState(flink, flinkJob), 'CANCELED');
    assert.ok((await logText(alice, id)).some((l) => l === `Flink job ${flinkJob} cancelled: CANCELED`));
  });

  it('follows the Flink job: a bounded INSERT succeeds when it FINISHED, one cancelled on the cluster fails the Sluice job', async () => {
    const bounded = await run(alice, {
      code: `CREATE TEMPORARY TABLE hundred (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100');
        CREATE TEMPORARY TABLE IF NOT EXISTS sink_b (id BIGINT) WITH ('connector' = 'blackhole');
        INSERT INTO sink_b SELECT id FROM hundred`,
    });
    assert.equal(bounded.state, 'Succeed', JSON.stringify(bounded.error));
    assert.equal(bounded.progress, 1);
    const [finished] = flinkJobIdsIn(await logText(alice, bounded.id));
    assert.ok(finished);
    assert.equal(await flinkJobState(flink, finished), 'FINISHED');
    assert.ok((await logText(alice, bounded.id)).includes(`Flink job ${finished}: FINISHED`));
    assert.deepEqual(await rows(alice, bounded.id), [[finished]], 'the submitted job id is the statement’s result');

    const sub = await alice.submit({
      engineType: 'flink',
      dataSource: 'flink_local',
      code: `${STREAMS}; CREATE TEMPORARY TABLE IF NOT EXISTS sink_c (k INT) WITH ('connector' = 'blackhole'); INSERT INTO sink_c SELECT k FROM page_views`,
    });
    let flinkJob: string | undefined;
    await waitFor(
      async () => {
        flinkJob = (await logText(alice, sub.body.id)).map((l) => /^Flink job ([0-9a-f]{32}): RUNNING$/.exec(l)?.[1]).find(Boolean);
        return flinkJob !== undefined;
      },
      { timeoutMs: JOB_TIMEOUT_MS, what: 'the INSERT job to run' },
    );
    assert.ok(flinkJob);
    await cancelFlinkJob(flink, flinkJob);
    const done = await alice.waitFor(sub.body.id, FINAL, 30_000);
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(done.error?.details.flinkJobId, flinkJob);
    assert.equal(done.error?.details.flinkJobState, 'CANCELED');
    assert.match(done.error?.message ?? '', /cancelled outside Sluice/);
  });

  it('fails a validation error as a user error that keeps Flink’s message, without a retry', async () => {
    const done = await run(alice, { code: 'SELECT 1 AS fine;\nSELECT amount\n  FROM no_such_table' });
    assert.equal(done.state, 'Failed');
    assert.equal(done.attempt, 0, 'a user error is not retried');
    const code = done.error?.code as ErrorCode;
    assert.equal(code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(ERROR_CODES[code].category, 'user');
    assert.match(done.error?.message ?? '', /ValidationException: .*Object 'no_such_table' not found/);
    assert.equal(done.error?.details.statement, 2);
    assert.equal(done.error?.details.line, 3, 'the position is the script’s');
    assert.equal(done.engineId, aliceEngine, 'the engine stays in use');
  });

  it('reuses the user’s engine and session: a temporary view made by one job is read by the next, and not by another user', async () => {
    const make = await run(alice, { code: "CREATE TEMPORARY VIEW regions AS SELECT * FROM (VALUES (1, 'north'), (2, 'south')) AS t(id, region)" });
    assert.equal(make.state, 'Succeed', JSON.stringify(make.error));
    const read = await run(alice, { code: 'SELECT region FROM regions WHERE id = 2', runtimeParams: { rowKind: 'never' } });
    assert.equal(read.state, 'Succeed', JSON.stringify(read.error));
    assert.equal(make.engineId, aliceEngine);
    assert.equal(read.engineId, aliceEngine);
    assert.deepEqual(await rows(alice, read.id), [['south']]);

    const peek = await run(bob, { code: 'SELECT region FROM regions' });
    assert.equal(peek.state, 'Failed');
    assert.equal(peek.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(peek.error?.message ?? '', /regions/);
    assert.notEqual(peek.engineId, aliceEngine, 'bob has his own engine');
  });

  it('retries a job whose gateway cannot be reached, then fails it as retries exhausted', async () => {
    const port = await closedPort();
    const created = await alice.request('POST', '/api/v1/datasources', {
      name: 'flink_down',
      type: 'flink-sql-gateway',
      params: { gatewayUrl: `http://127.0.0.1:${port}` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await alice.request('POST', '/api/v1/datasources/flink_down/versions/1/publish')).status, 200);
    const done = await run(alice, { code: 'SELECT 1', dataSource: 'flink_down' }, 90_000);
    assert.equal(done.state, 'Failed');
    assert.equal(done.attempt, MAX_RETRIES, 'the unreachable gateway was retried');
    assert.equal(done.error?.code, 'SLUICE_JOB_RETRIES_EXHAUSTED');
    assert.equal(done.error?.details.cause, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.match(done.error?.message ?? '', /ECONNREFUSED|refused/);
  });

  it('closes the engines’ gateway sessions when the engine manager stops', async () => {
    const pool = ts?.stack.manager?.engines.list() ?? [];
    const handles = pool.map((e) => (e.engine as { sessionHandle?: string }).sessionHandle).filter((h): h is string => typeof h === 'string');
    assert.ok(handles.length >= 2, `alice's and bob's engines: ${handles.length}`);
    for (const h of handles) assert.equal((await fetch(`${flink.gatewayUrl}/v4/sessions/${h}`)).status, 200);
    await ts?.stop();
    ts = undefined;
    for (const h of handles) {
      const res = await fetch(`${flink.gatewayUrl}/v4/sessions/${h}`);
      assert.notEqual(res.status, 200, `session ${h} is closed`);
    }
  });
});
