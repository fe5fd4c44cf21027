import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type Engine, type EngineConnector, SluiceError } from '@sluice/core';
import {
  ClusterRestClient,
  createFlinkConnector,
  FLINK_ENGINE_VERSION,
  type FlinkEngine,
  GatewayHttpError,
  RestHttp,
  SqlGatewayClient,
  untilTasksRun,
} from '../src/index.ts';
import { ensureFlink, type FlinkServer, flinkDataSource, jobState, subtaskStateSequences, waitForJobState } from './flink-server.ts';
import { cancelledWhen, jobIdIn, rejectionOf, runTask, type TaskOutput, task } from './task-runner.ts';

let server: FlinkServer;
let connector: EngineConnector;
const engines: Engine[] = [];
let engineSeq = 0;

async function launch(user = 'alice', dsParams: Record<string, unknown> = {}, startup: Record<string, unknown> = {}): Promise<FlinkEngine> {
  engineSeq += 1;
  const engine = await connector.launch({
    engineId: `flink-test-${engineSeq}`,
    user,
    version: FLINK_ENGINE_VERSION,
    workDir: '/nonexistent',
    params: startup,
    dataSource: flinkDataSource(server, dsParams),
  });
  engines.push(engine);
  return engine as FlinkEngine;
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const DATAGEN_KEYS =
  "CREATE TEMPORARY TABLE IF NOT EXISTS clicks (k INT, v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '50', 'fields.k.min' = '1', 'fields.k.max' = '4')";

before(async () => {
  server = await ensureFlink();
  connector = createFlinkConnector();
});

// A cluster that lost its TaskManager is restarted (loudly) before the next test, not failed by it too.
beforeEach(async () => {
  server = await ensureFlink();
});

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
});

describe('flink: bounded queries', () => {
  it('returns the rows of a SELECT over VALUES with exact types, led by the +I row kind in streaming mode', async () => {
    const engine = await launch();
    const out = await runTask(
      engine,
      `SELECT id, name, big, price, ts, tags
       FROM (VALUES (1, 'a', CAST(9007199254740993 AS BIGINT), CAST(12.30 AS DECIMAL(10, 2)), TIMESTAMP '2024-01-02 03:04:05.123', ARRAY['x', 'y']),
                    (2, 'b', CAST(-5 AS BIGINT), CAST(0.05 AS DECIMAL(10, 2)), TIMESTAMP '2024-12-31 23:59:59.000', ARRAY['z']))
         AS t(id, name, big, price, ts, tags)`,
      { runtimeParams: { rowKind: 'auto' } },
    );
    const set = out.resultSets[0];
    assert.ok(set);
    assert.deepEqual(
      set.columns.map((c) => `${c.name}:${c.type}`),
      ['op:CHAR(2)', 'id:INT', 'name:CHAR(1)', 'big:BIGINT', 'price:DECIMAL(10, 2)', 'ts:TIMESTAMP(3)', 'tags:ARRAY<CHAR(1) NOT NULL>'],
    );
    // BIGINT beyond 2^53 and DECIMAL stay exact as decimal strings; timestamps are ISO-8601 text.
    // (A streaming query cannot ORDER BY a non-time column: the rows are sorted here.)
    assert.deepEqual(
      set.rows.sort((x, y) => Number(x[1]) - Number(y[1])),
      [
        ['+I', 1, 'a', '9007199254740993', '12.3', '2024-01-02T03:04:05.123', ['x', 'y']],
        ['+I', 2, 'b', '-5', '0.05', '2024-12-31T23:59:59', ['z']],
      ],
    );
    assert.ok(jobIdIn(out.logs), `the log names the query's Flink job: ${out.logs.join(' | ')}`);
    assert.ok(out.logs.some((l) => l.includes('2 rows')));
  });

  it('aggregates a bounded datagen source in batch mode: final rows only, no row-kind column', async () => {
    const engine = await launch('alice', { sessionProperties: { 'execution.runtime-mode': 'batch' } });
    const out = await runTask(
      engine,
      `CREATE TEMPORARY TABLE seq (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000', 'number-of-rows' = '1000');
       SELECT MOD(id, 3) AS r, COUNT(*) AS n, SUM(id) AS s FROM seq GROUP BY MOD(id, 3) ORDER BY r`,
    );
    assert.ok(
      out.logs.some((l) => l.includes('OK (configure-session)')),
      'the DDL goes through configure-session',
    );
    const set = out.resultSets[out.resultSets.length - 1];
    assert.ok(set);
    assert.deepEqual(
      set.columns.map((c) => c.name),
      ['r', 'n', 's'],
    );
    // 1..1000: residue 0 has 333 numbers (3..999), 1 has 334 (1..1000), 2 has 333 (2..998).
    // MOD(BIGINT, INT) is an INT (a number); COUNT and SUM are BIGINT (exact decimal strings).
    assert.deepEqual(set.rows, [
      [0, '333', '166833'],
      [1, '334', '167167'],
      [2, '333', '166500'],
    ]);
  });

  it('switches between streaming and batch with SET, and the row-kind column follows', async () => {
    const engine = await launch();
    const streaming = await runTask(engine, 'SELECT 1 AS x');
    assert.deepEqual(streaming.resultSets[0]?.rows, [['+I', 1]]);
    const batch = await runTask(engine, "SET 'execution.runtime-mode' = 'batch'; SELECT 1 AS x");
    assert.deepEqual(batch.resultSets[batch.resultSets.length - 1]?.rows, [[1]]);
    const forced = await runTask(engine, 'SELECT 1 AS x', { runtimeParams: { rowKind: 'always' } });
    assert.deepEqual(forced.resultSets[0]?.rows, [['+I', 1]]);
  });
});

describe('flink: streaming queries', () => {
  it('streams the changelog of a TopN over datagen up to maxRows, then cancels its Flink job', async () => {
    const engine = await launch();
    // The two keys with the most clicks so far: every click changes a count, so the top 2 keep changing.
    const out = await runTask(
      engine,
      `${DATAGEN_KEYS};
       SELECT k, cnt, rn FROM (
         SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM (SELECT k, COUNT(*) AS cnt FROM clicks GROUP BY k)
       ) WHERE rn <= 2`,
      { runtimeParams: { maxRows: 40 } },
    );
    const set = out.resultSets[0];
    assert.ok(set);
    assert.deepEqual(
      set.columns.map((c) => c.name),
      ['op', 'k', 'cnt', 'rn'],
    );
    assert.equal(set.rows.length, 40, 'exactly maxRows changelog rows');
    const kinds = new Set(set.rows.map((r) => r[0]));
    for (const kind of kinds) assert.ok(['+I', '-U', '+U', '-D'].includes(String(kind)), `row kind ${String(kind)}`);
    assert.ok(kinds.has('+I') && (kinds.has('-U') || kinds.has('-D')), `a TopN retracts what it emitted: ${[...kinds].join(',')}`);
    // Applying the changelog in order: every retraction (-U, -D) removes a row that is there, and at
    // most two rows (the top 2) are there at any time.
    const table = new Map<string, number>();
    for (const [op, ...fields] of set.rows) {
      const key = JSON.stringify(fields);
      if (op === '+I' || op === '+U') table.set(key, (table.get(key) ?? 0) + 1);
      else {
        const n = table.get(key);
        assert.ok(n, `${String(op)} ${key} retracts a row that is in the result`);
        if (n === 1) table.delete(key);
        else table.set(key, n - 1);
      }
      assert.ok(table.size <= 2, `the top 2 hold ${table.size} rows`);
    }
    assert.ok(
      out.logs.some((l) => l.includes('row cap (maxRows 40)')),
      out.logs.join(' | '),
    );
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.equal(await waitForJobState(server, jobId, ['CANCELED']), 'CANCELED');
  });

  it('streams the changelog of a join of two datagen streams up to maxRows, then cancels its Flink job', async () => {
    const engine = await launch();
    // Each side's running aggregate per key, joined on the key: a new row on either side retracts the
    // joined row of its key (-U/+U), and a key first seen on the left is padded with NULL until the
    // right side has it (then retracted with -D).
    const out = await runTask(
      engine,
      `${DATAGEN_KEYS};
       CREATE TEMPORARY TABLE IF NOT EXISTS page_views (k INT) WITH ('connector' = 'datagen', 'rows-per-second' = '30', 'fields.k.min' = '1', 'fields.k.max' = '4');
       SELECT c.k, c.n AS clicks, v.n AS seen
         FROM (SELECT k, COUNT(*) AS n FROM clicks GROUP BY k) AS c
         LEFT JOIN (SELECT k, COUNT(*) AS n FROM page_views GROUP BY k) AS v ON c.k = v.k`,
      { runtimeParams: { maxRows: 50 } },
    );
    const set = out.resultSets[0];
    assert.ok(set);
    assert.deepEqual(
      set.columns.map((c) => c.name),
      ['op', 'k', 'clicks', 'seen'],
    );
    assert.equal(set.rows.length, 50, 'exactly maxRows changelog rows');
    const kinds = new Set(set.rows.map((r) => String(r[0])));
    assert.ok(kinds.has('+I'), [...kinds].join(','));
    assert.ok(kinds.has('-U') || kinds.has('-D'), `the join retracts what it emitted: ${[...kinds].join(',')}`);
    // Applying the changelog in order: a retraction removes exactly the row its key holds, and a key
    // never holds two rows (both sides are one row per key).
    const table = new Map<number, unknown[]>();
    for (const [op, k, ...rest] of set.rows) {
      const key = Number(k);
      if (op === '+I' || op === '+U') {
        assert.ok(!table.has(key), `${String(op)} for key ${key} while it holds ${JSON.stringify(table.get(key))}`);
        table.set(key, rest);
      } else {
        assert.ok(op === '-U' || op === '-D', `row kind ${String(op)}`);
        assert.deepEqual(table.get(key), rest, `${String(op)} retracts the row of key ${key}`);
        table.delete(key);
      }
    }
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.ok(
      out.logs.some((l) => l.includes('row cap (maxRows 50)')),
      out.logs.join(' | '),
    );
    assert.equal(await waitForJobState(server, jobId, ['CANCELED']), 'CANCELED');
  });

  it('cancels the Flink job of a query whose reader stops early (as the engine manager does at its own result limit)', async () => {
    const engine = await launch();
    // The engine manager stops reading a task when its own result limit is hit: the generator is
    // returned, not aborted. Here the reader stops at the result's columns, before any row.
    const logs: string[] = [];
    for await (const event of engine.execute(task(`${DATAGEN_KEYS}; SELECT k, v FROM clicks`))) {
      if (event.type === 'log') logs.push(event.line);
      if (event.type === 'resultSet') break;
    }
    const jobId = jobIdIn(logs);
    assert.ok(jobId, logs.join(' | '));
    assert.equal(await waitForJobState(server, jobId, ['CANCELED', 'FAILED', 'FINISHED'], 40_000), 'CANCELED');
    // The job was cancelled only once its tasks ran: Flink 2.x's collect sink cannot be torn down
    // before it opened, and the TaskManager exits on that (FLINK-39330).
    const sequences = await subtaskStateSequences(server, jobId);
    assert.ok(sequences.length > 0);
    for (const sequence of sequences) assert.match(sequence, /RUNNING>CANCELING>CANCELED$/, `a subtask went ${sequence}`);
    // The engine runs the next task.
    assert.deepEqual((await runTask(engine, 'SELECT 3 AS x')).resultSets[0]?.rows, [['+I', 3]]);
  });

  it('close() right after a query was cancelled: the job is cancelled once its tasks run, and close() waited for that', async () => {
    const engine = await launch();
    const { err, out } = await cancelledWhen(
      engine,
      `${DATAGEN_KEYS}; SELECT k, v FROM clicks`,
      (e) => e.type === 'log' && /^Flink job [0-9a-f]{32} runs the query$/.test(e.line),
    );
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_JOB_CANCELLED', String(err));
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId, out.logs.join(' | '));
    await engine.close();
    assert.equal(await waitForJobState(server, jobId, ['CANCELED', 'FAILED', 'FINISHED'], 20_000), 'CANCELED');
    for (const sequence of await subtaskStateSequences(server, jobId)) assert.match(sequence, /RUNNING>CANCELING>CANCELED$/, `a subtask went ${sequence}`);
  });

  it('stops reading a streaming query after maxSeconds and succeeds', async () => {
    const engine = await launch();
    const started = Date.now();
    const out = await runTask(engine, `${DATAGEN_KEYS}; SELECT k FROM clicks`, { runtimeParams: { maxSeconds: 4, maxRows: 1_000_000 } });
    const took = Date.now() - started;
    assert.ok(took >= 4000 && took < 30_000, `took ${took} ms`);
    assert.ok((out.resultSets[0]?.rows.length ?? 0) > 0, 'rows arrived before the time cap');
    assert.ok(out.logs.some((l) => l.includes('maxSeconds 4 passed')));
  });

  it('stops the Flink job of a query cut short by maxSeconds', async () => {
    const engine = await launch();
    const name = `sluice-deadline-${Date.now()}`;
    // The job is found by its pipeline name: a query stopped this early may not have logged its id.
    const out = await runTask(engine, `${DATAGEN_KEYS}; SELECT k, v FROM clicks`, {
      runtimeParams: { maxSeconds: 2, executionConfig: { 'pipeline.name': name } },
    });
    assert.ok(
      out.logs.some((l) => l.includes('maxSeconds 2 passed')),
      out.logs.join(' | '),
    );
    // The job was submitted all the same; it must not run on once the task is over.
    const deadline = Date.now() + 40_000;
    let states: string[] = [];
    for (;;) {
      const overview = (await (await fetch(`${server.restUrl}/jobs/overview`)).json()) as { jobs: { name: string; state: string }[] };
      states = overview.jobs.filter((j) => j.name === name).map((j) => j.state);
      if ((states.length > 0 && states.every((s) => s === 'CANCELED')) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(states, ['CANCELED'], `the query's job on the cluster: ${states.join(',') || 'none'}`);
  });

  it('cancels a streaming query through task.signal: SLUICE_JOB_CANCELLED, and the cluster cancels the job', async () => {
    const engine = await launch();
    const { err, out } = await cancelledWhen(engine, `${DATAGEN_KEYS}; SELECT k, v FROM clicks`, (e) => e.type === 'rows');
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_JOB_CANCELLED');
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.equal(await waitForJobState(server, jobId, ['CANCELED']), 'CANCELED');
  });
});

describe('flink: untilTasksRun (waiting before a query is cancelled)', () => {
  const rest = () => new ClusterRestClient(new RestHttp({ baseUrl: server.restUrl, timeoutMs: 5000 }));
  const unknownJob = () => randomBytes(16).toString('hex');

  it('waits out its budget for a job that may still appear, and keeps the process alive meanwhile', async () => {
    const started = Date.now();
    const outcome = await untilTasksRun(rest(), unknownJob(), { waitMs: 1200, pollIntervalMs: 100, mayAppear: async () => true });
    assert.equal(outcome, 'timed-out');
    assert.ok(Date.now() - started >= 1200);
  });

  it('stops at once for a job that will never be submitted', async () => {
    let asked = 0;
    const outcome = await untilTasksRun(rest(), unknownJob(), {
      waitMs: 10_000,
      pollIntervalMs: 100,
      mayAppear: async () => {
        asked += 1;
        return false;
      },
    });
    assert.equal(outcome, 'never-submitted');
    assert.equal(asked, 1);
  });

  it('reports a running query as running, and its job once cancelled as ended', async () => {
    const engine = await launch();
    const { out } = await cancelledWhen(engine, `${DATAGEN_KEYS}; SELECT k, v FROM clicks`, (e) => e.type === 'rows');
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    // Rows came, so every subtask ran; the job may already be on its way to CANCELED.
    const first = await untilTasksRun(rest(), jobId, { waitMs: 5000, pollIntervalMs: 100, mayAppear: async () => true });
    assert.ok(first === 'running' || first === 'ended', first);
    assert.equal(await waitForJobState(server, jobId, ['CANCELED']), 'CANCELED');
    assert.equal(await untilTasksRun(rest(), jobId, { waitMs: 5000, pollIntervalMs: 100, mayAppear: async () => true }), 'ended');
  });

  it('gives up at once when the REST API cannot be reached', async () => {
    const nowhere = new ClusterRestClient(new RestHttp({ baseUrl: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 2000 }));
    assert.equal(await untilTasksRun(nowhere, unknownJob(), { waitMs: 10_000, pollIntervalMs: 100, mayAppear: async () => true }), 'unreachable');
  });
});

describe('flink: INSERT jobs', () => {
  it('keeps an INSERT INTO blackhole running as a Flink job until the task is cancelled, which cancels the job', async () => {
    const engine = await launch();
    const controller = new AbortController();
    const out: TaskOutput = { events: [], logs: [], resultSets: [] };
    let running = false;
    const task = runTask(
      engine,
      `${DATAGEN_KEYS};
       CREATE TEMPORARY TABLE IF NOT EXISTS sink (k INT, v INT) WITH ('connector' = 'blackhole');
       INSERT INTO sink SELECT k, v FROM clicks`,
      {
        signal: controller.signal,
        out,
        onEvent: (e) => {
          if (e.type === 'log' && /^Flink job [0-9a-f]{32}: RUNNING$/.test(e.line)) running = true;
        },
      },
    );
    const outcome = rejectionOf(task);
    const deadline = Date.now() + 60_000;
    while (!running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(running, `the job reached RUNNING: ${out.logs.join(' | ')}`);
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.equal(await jobState(server, jobId), 'RUNNING');
    // The task stays running while the job runs.
    const early = await Promise.race([outcome.then(() => 'ended'), new Promise((r) => setTimeout(() => r('running'), 1500))]);
    assert.equal(early, 'running');
    controller.abort();
    const err = await outcome;
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_JOB_CANCELLED');
    assert.equal(err.details.flinkJobId, jobId);
    assert.equal(await waitForJobState(server, jobId, ['CANCELED'], 5000), 'CANCELED');
    // The job log shows the statements and the job id.
    assert.ok(out.logs.some((l) => l.startsWith('Statement 3 of 3: INSERT INTO sink')));
    assert.ok(out.logs.some((l) => l === `Flink job ${jobId}: RUNNING`));
    assert.deepEqual(out.resultSets[out.resultSets.length - 1]?.rows, [[jobId]], 'the submitted job id is the result');
  });

  it('ends a bounded INSERT when its Flink job FINISHED', async () => {
    const engine = await launch();
    const out = await runTask(
      engine,
      `CREATE TEMPORARY TABLE small (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '500');
       CREATE TEMPORARY TABLE sink2 (id BIGINT) WITH ('connector' = 'blackhole');
       INSERT INTO sink2 SELECT id FROM small`,
    );
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.ok(out.logs.includes(`Flink job ${jobId}: FINISHED`), out.logs.join(' | '));
    assert.equal(await jobState(server, jobId), 'FINISHED');
    const last = out.events.filter((e) => e.type === 'progress').pop();
    assert.equal(last?.type === 'progress' ? last.progress : undefined, 1);
  });

  it('fails the task when its Flink job fails, with the job’s root cause', async () => {
    const engine = await launch();
    const err = await rejectionOf(
      runTask(
        engine,
        `CREATE TEMPORARY TABLE small3 (id INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.id.min' = '0', 'fields.id.max' = '0');
         CREATE TEMPORARY TABLE sink3 (id INT) WITH ('connector' = 'blackhole');
         INSERT INTO sink3 SELECT 10 / id FROM small3`,
        { runtimeParams: {} },
      ),
    );
    assert.ok(err instanceof SluiceError, String(err));
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /Flink job [0-9a-f]{32} failed: .*ArithmeticException/);
  });

  it('submits and returns at once when the task is detached', async () => {
    const engine = await launch();
    const out = await runTask(
      engine,
      `${DATAGEN_KEYS}; CREATE TEMPORARY TABLE IF NOT EXISTS sink4 (k INT) WITH ('connector' = 'blackhole'); INSERT INTO sink4 SELECT k FROM clicks`,
      { runtimeParams: { detach: true } },
    );
    const jobId = jobIdIn(out.logs);
    assert.ok(jobId);
    assert.ok(out.logs.some((l) => l.includes('it is not followed because the task is detached')));
    assert.notEqual(await waitForJobState(server, jobId, ['RUNNING']), 'CANCELED');
    await fetch(`${server.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    assert.equal(await waitForJobState(server, jobId, ['CANCELED']), 'CANCELED');
  });
});

describe('flink: errors', () => {
  it('fails a validation error as a user error that keeps Flink’s message and points into the script', async () => {
    const engine = await launch();
    const err = await rejectionOf(runTask(engine, 'SELECT 1 AS ok;\nSELECT *\n  FROM no_such_table'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assert.match(err.message, /ValidationException: .*Object 'no_such_table' not found/);
    assert.equal(err.details.statement, 2);
    assert.equal(err.details.line, 3, 'line 2 of the statement is line 3 of the script');
    // The engine still works after the user's error.
    assert.deepEqual((await runTask(engine, 'SELECT 2 AS x')).resultSets[0]?.rows, [['+I', 2]]);
  });

  it('fails a parse error with Flink’s parser message', async () => {
    const engine = await launch();
    const err = await rejectionOf(runTask(engine, 'SELEC 1'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /SqlParserException|Encountered/);
  });

  it('fails a DDL error from configure-session as a user error', async () => {
    const engine = await launch();
    const err = await rejectionOf(runTask(engine, "CREATE TEMPORARY TABLE bad (x INT) WITH ('connector' = 'no-such-connector'); SELECT * FROM bad"));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /no-such-connector/);
  });

  it('reports an unreachable gateway as SLUICE_DATASOURCE_UNAVAILABLE, retryable', async () => {
    const port = await closedPort();
    const err = await rejectionOf(
      connector.launch({
        engineId: 'flink-unreachable',
        user: 'alice',
        version: FLINK_ENGINE_VERSION,
        workDir: '/nonexistent',
        params: {},
        dataSource: flinkDataSource(server, { gatewayUrl: `http://127.0.0.1:${port}` }),
      }),
    );
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(err.retryable, true);
    assert.match(err.message, /ECONNREFUSED|refused/);
  });
});

describe('flink: the SQL Gateway client', () => {
  it('reports, cancels and closes an operation', async () => {
    const http = new RestHttp({ baseUrl: server.gatewayUrl, timeoutMs: 10_000 });
    const client = await SqlGatewayClient.connect(http);
    assert.equal(client.version, 'v4');
    const session = await client.openSession({}, 'sluice:client-test');
    try {
      await client.configureSession(session, "CREATE TEMPORARY TABLE ops (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '5')");
      const operation = await client.executeStatement(session, 'SELECT x FROM ops');
      const first = await client.operationStatus(session, operation);
      assert.ok(['INITIALIZED', 'PENDING', 'RUNNING', 'FINISHED'].includes(first), first);
      // A streaming query never finishes: its first page is NOT_READY or a PAYLOAD, never EOS.
      const page = await client.fetchResults(client.firstResultUri(session, operation));
      assert.ok(page.resultType === 'NOT_READY' || page.resultType === 'PAYLOAD', page.resultType);
      assert.equal(await client.cancelOperation(session, operation), 'CANCELED');
      assert.equal(await client.operationStatus(session, operation), 'CANCELED');
      assert.equal(await client.closeOperation(session, operation), 'CLOSED');
      const gone = await rejectionOf(client.operationStatus(session, operation));
      assert.ok(gone instanceof GatewayHttpError, String(gone));
    } finally {
      await client.closeSession(session);
    }
  });
});

describe('flink: sessions', () => {
  it('keeps a temporary view created by one task for the next task on the same engine, and only there', async () => {
    const a = await launch('alice');
    const b = await launch('alice');
    await runTask(a, "CREATE TEMPORARY VIEW recent AS SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS t(id, tag)");
    const seen = await runTask(a, 'SELECT tag FROM recent WHERE id = 2');
    assert.deepEqual(seen.resultSets[0]?.rows, [['+I', 'y']]);
    const err = await rejectionOf(runTask(b, 'SELECT tag FROM recent'));
    assert.ok(err instanceof SluiceError);
    assert.match(err.message, /recent/);
  });

  it('opens the session with the data source and start-up properties, and the job’s catalog and database', async () => {
    const engine = await launch(
      'bob',
      { sessionProperties: { 'table.local-time-zone': 'Asia/Shanghai' } },
      { sessionProperties: { 'pipeline.name': 'nightly' } },
    );
    const out = await runTask(engine, 'SET');
    const config = Object.fromEntries((out.resultSets[0]?.rows ?? []).map((r) => [r[0], r[1]]));
    assert.equal(config['table.local-time-zone'], 'Asia/Shanghai');
    assert.equal(config['pipeline.name'], 'nightly');
    const current = await runTask(engine, 'SHOW CURRENT DATABASE');
    assert.deepEqual(current.resultSets[0]?.rows, [['default_database']]);
  });

  it('closes the session on close(): the gateway forgets it', async () => {
    const engine = await launch();
    const handle = engine.sessionHandle;
    const url = `${server.gatewayUrl}/${engine.server.apiVersion}/sessions/${handle}`;
    assert.equal((await fetch(url)).status, 200);
    await engine.close();
    const res = await fetch(url);
    assert.notEqual(res.status, 200);
    assert.match(await res.text(), /does not exist/);
  });

  it('reports a session the gateway lost: health() fails, onExit fires once, tasks fail retryably', async () => {
    const engine = await launch();
    const exits: string[] = [];
    engine.onExit((reason) => exits.push(reason));
    // Someone else closes the session (as an idle timeout or a gateway restart would).
    await fetch(`${server.gatewayUrl}/${engine.server.apiVersion}/sessions/${engine.sessionHandle}`, { method: 'DELETE' });
    const health = await engine.health();
    assert.equal(health.ok, false);
    assert.equal(exits.length, 1);
    const err = await rejectionOf(runTask(engine, 'SELECT 1'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_CRASHED');
    assert.equal(err.retryable, true);
    assert.equal(exits.length, 1);
  });

  it('sends heartbeats to keep its session (seen through a counting relay in front of the real gateway)', async () => {
    const seen: string[] = [];
    const relay = http.createServer(async (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const upstream = await fetch(`${server.gatewayUrl}${req.url}`, {
        method: req.method,
        headers: { 'content-type': 'application/json' },
        body: body.length > 0 ? body : undefined,
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = relay.address() as net.AddressInfo;
      const engine = await launch('alice', { gatewayUrl: `http://127.0.0.1:${port}`, heartbeatIntervalMs: 1000 });
      await new Promise((r) => setTimeout(r, 2600));
      const beats = seen.filter((l) => l === `POST /v4/sessions/${engine.sessionHandle}/heartbeat`).length;
      assert.ok(beats >= 2, `heartbeats: ${beats}`);
      await engine.close();
      const after = seen.length;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(seen.length, after, 'no heartbeat after close()');
      assert.ok(seen.includes(`DELETE /v4/sessions/${engine.sessionHandle}`), 'close() deleted the session');
    } finally {
      relay.closeAllConnections();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  for (const version of ['v1', 'v2', 'v3', 'v4'] as const) {
    it(`runs DDL and a query on API ${version} when pinned to it`, async () => {
      const engine = await launch('alice', { apiVersion: version });
      assert.equal(engine.server.apiVersion, version);
      // v1 has no configure-session (the DDL runs as a statement) and no rowFormat (its rows are JSON all the same).
      const out = await runTask(
        engine,
        `CREATE TEMPORARY VIEW api_${version} AS SELECT '${version}' AS api, CAST(7 AS BIGINT) AS n; SELECT api, n FROM api_${version}`,
      );
      assert.deepEqual(out.resultSets[out.resultSets.length - 1]?.rows, [['+I', version, '7']]);
      const how = version === 'v1' ? 'OK (a statement: API v1 has no configure-session)' : 'OK (configure-session)';
      assert.ok(
        out.logs.some((l) => l.startsWith(how)),
        out.logs.join(' | '),
      );
    });
  }

  it('negotiates the newest API version, and honours a pinned one', async () => {
    const newest = await launch();
    assert.equal(newest.server.apiVersion, 'v4');
    assert.match(newest.server.flinkVersion, /^2\./);
    const pinned = await launch('alice', { apiVersion: 'v2' });
    assert.equal(pinned.server.apiVersion, 'v2');
    const out = await runTask(pinned, "CREATE TEMPORARY VIEW pv AS SELECT 'v2' AS api; SELECT api FROM pv");
    assert.deepEqual(out.resultSets[0]?.rows, [['+I', 'v2']]);
  });
});
