import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { version as duckdbVersion } from '@duckdb/node-api';
import type { Engine, EngineEvent, EngineTask } from '@sluice/core';
import { SluiceError } from '@sluice/core';
import { createDuckdbConnector, DUCKDB_VERSION, type DuckdbConnectorOptions } from './duckdb-connector.ts';
import { type DuckdbEngine, ROW_BATCH_CREDITS, workerPath } from './duckdb-engine.ts';

const dirs: string[] = [];
const engines: Engine[] = [];

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function newDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sluice-duckdb-test-'));
  dirs.push(dir);
  return dir;
}

async function launch(params: Record<string, unknown> = {}, options: DuckdbConnectorOptions = {}, workDir?: string): Promise<DuckdbEngine> {
  const engine = await createDuckdbConnector(options).launch({
    engineId: `e${engines.length + 1}`,
    user: 'test',
    version: '1.5',
    workDir: workDir ?? (await newDir()),
    params,
  });
  engines.push(engine);
  return engine as DuckdbEngine;
}

let seq = 0;
function task(code: string, signal: AbortSignal = new AbortController().signal, codeType = 'sql'): EngineTask {
  seq += 1;
  return { taskId: `t${seq}`, code, codeType, runtimeParams: {}, signal };
}

async function collect(engine: Engine, code: string): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for await (const event of engine.execute(task(code))) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('duckdb engine', () => {
  it('runs a multi-statement script: one result set per row-returning statement, log lines for the rest', async () => {
    const engine = await launch();
    const events = await collect(
      engine,
      `SELECT 1 AS a;
       CREATE TABLE t (id INTEGER, name VARCHAR);
       INSERT INTO t VALUES (1, 'one'), (2, 'two');
       UPDATE t SET name = 'uno' WHERE id = 1;
       FROM t ORDER BY id;
       VALUES (10), (20);
       DESCRIBE t;
       SET threads = 1;
       WITH x AS (SELECT 5 AS five) SELECT five FROM x;
       PRAGMA version;`,
    );
    const sets = events.filter((e) => e.type === 'resultSet').map((e) => (e.type === 'resultSet' ? e.columns.map((c) => c.name) : []));
    assert.deepEqual(sets, [
      ['a'],
      ['id', 'name'],
      ['col0'],
      ['column_name', 'column_type', 'null', 'key', 'default', 'extra'],
      ['five'],
      ['library_version', 'source_id', 'codename'],
    ]);
    const logs = events.filter((e) => e.type === 'log').map((e) => (e.type === 'log' ? e.line : ''));
    assert.ok(logs.includes('2 rows affected'), JSON.stringify(logs));
    assert.ok(logs.includes('1 row affected'), JSON.stringify(logs));
    assert.ok(logs.includes('Statement 1/10: SELECT'));
    assert.ok(logs.includes('Statement 8/10: SET'));
    // Rows follow their own result set.
    const afterFrom = events.slice(events.findIndex((e) => e.type === 'resultSet' && e.columns[0]?.name === 'id'));
    assert.deepEqual(afterFrom[1], {
      type: 'rows',
      rows: [
        [1, 'uno'],
        [2, 'two'],
      ],
    });
    const resultSet = events.find((e) => e.type === 'resultSet' && e.columns[0]?.name === 'id');
    assert.deepEqual(resultSet, {
      type: 'resultSet',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'VARCHAR' },
      ],
    });
  });

  it('reports column types by their SQL names and converts values across the process boundary', async () => {
    const engine = await launch();
    const events = await collect(
      engine,
      "SELECT 9007199254740993::BIGINT AS big, 12.34::DECIMAL(18,2) AS dec, DATE '2024-01-02' AS d, [1, 2]::INTEGER[] AS l, {'x': 1} AS s, '\\x01'::BLOB AS b, NULL::VARCHAR AS n",
    );
    const rs = events.find((e) => e.type === 'resultSet');
    assert.ok(rs?.type === 'resultSet');
    assert.deepEqual(
      rs.columns.map((c) => c.type),
      ['BIGINT', 'DECIMAL(18,2)', 'DATE', 'INTEGER[]', 'STRUCT("x" INTEGER)', 'BLOB', 'VARCHAR'],
    );
    const rows = events.find((e) => e.type === 'rows');
    assert.deepEqual(rows, { type: 'rows', rows: [['9007199254740993', '12.34', '2024-01-02', [1, 2], { x: 1 }, 'AQ==', null]] });
  });

  it('delivers the results of earlier statements, then fails with the statement error; earlier effects stay', async () => {
    const engine = await launch();
    const events: EngineEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const e of engine.execute(task('CREATE TABLE kept AS SELECT 1 AS v; SELECT 42 AS x; SELECT * FROM missing_table; SELECT 99')))
          events.push(e);
      })(),
    );
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.details.engine, 'duckdb');
    assert.match(String(err.details.reason), /missing_table/);
    assert.ok(events.some((e) => e.type === 'rows' && e.rows[0]?.[0] === 42));
    assert.ok(!events.some((e) => e.type === 'rows' && e.rows[0]?.[0] === 99), 'statements after the failure do not run');
    assert.deepEqual(await collect(engine, 'SELECT v FROM kept').then((ev) => ev.find((e) => e.type === 'rows')), { type: 'rows', rows: [[1]] });
  });

  it('reports a parse error as a query failure', async () => {
    const engine = await launch();
    const err = await failure(collect(engine, 'SELECT 1; SELEC 2'));
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(err.message, /syntax error/);
  });

  it('runs a script of one statement once, and reports its own errors as before', async () => {
    const engine = await launch();
    const created = await collect(engine, 'CREATE TABLE once_t AS SELECT 1 AS v');
    assert.deepEqual(created[0], { type: 'log', line: 'Statement 1/1: CREATE' });
    await collect(engine, 'INSERT INTO once_t VALUES (2);');
    const rows = (await collect(engine, 'SELECT count(*)::INTEGER AS n FROM once_t')).find((e) => e.type === 'rows');
    assert.deepEqual(rows, { type: 'rows', rows: [[2]] }, 'each statement ran exactly once');
    const missing = await failure(collect(engine, 'SELECT * FROM no_such_table'));
    assert.equal(missing.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.match(String(missing.details.reason), /no_such_table/);
    const syntax = await failure(collect(engine, 'SELEC 1'));
    assert.match(syntax.message, /syntax error/);
    const two = await collect(engine, 'INSERT INTO once_t VALUES (3); SELECT count(*)::INTEGER AS n FROM once_t');
    assert.deepEqual(
      two.filter((e) => e.type === 'log').map((e) => (e as { line: string }).line),
      ['Statement 1/2: INSERT', '1 row affected', 'Statement 2/2: SELECT'],
    );
    assert.deepEqual(
      two.find((e) => e.type === 'rows'),
      { type: 'rows', rows: [[3]] },
    );
  });

  it('runs an empty or comment-only script as a success with a log line', async () => {
    const engine = await launch();
    for (const code of ['', '  -- nothing here\n']) {
      const events = await collect(engine, code);
      assert.deepEqual(events, [{ type: 'log', line: 'No SQL statements to run.' }]);
    }
  });

  it('streams 5 million rows with at most two unconsumed batches and bounded memory', async () => {
    const engine = await launch();
    const heapBefore = process.memoryUsage().heapUsed;
    let rows = 0;
    let batches = 0;
    let maxBuffered = 0;
    let maxBatchRows = 0;
    let paused = false;
    for await (const event of engine.execute(task('SELECT * FROM range(5000000)'))) {
      if (event.type !== 'rows') continue;
      rows += event.rows.length;
      batches += 1;
      maxBatchRows = Math.max(maxBatchRows, event.rows.length);
      maxBuffered = Math.max(maxBuffered, engine.bufferedBatches);
      if (!paused && batches === 3) {
        // A slow consumer: the worker must stop at its credit instead of filling our memory.
        paused = true;
        await sleep(300);
        assert.ok(engine.bufferedBatches <= ROW_BATCH_CREDITS, `buffered ${engine.bufferedBatches} batches while paused`);
      }
    }
    assert.equal(rows, 5_000_000);
    assert.ok(maxBuffered <= ROW_BATCH_CREDITS, `at most ${ROW_BATCH_CREDITS} batches were buffered, saw ${maxBuffered}`);
    assert.ok(maxBatchRows <= 2048, `batches have at most 2048 rows, saw ${maxBatchRows}`);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(heapGrowth < 150 * 1024 * 1024, `parent heap grew by ${Math.round(heapGrowth / 1048576)} MiB`);
    const health = await engine.health();
    const rss = Number(/rss (\d+) MiB/.exec(health.detail ?? '')?.[1]);
    assert.ok(rss > 0 && rss < 600, `worker rss ${rss} MiB`);
  });

  it('splits wide rows into batches of about 1 MiB', async () => {
    const engine = await launch({}, { batchBytes: 64 * 1024 });
    const events = await collect(engine, "SELECT repeat('x', 1000) AS wide FROM range(1000)");
    const sizes = events.filter((e) => e.type === 'rows').map((e) => (e.type === 'rows' ? e.rows.length : 0));
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      1000,
    );
    assert.ok(sizes.length >= 15, `1000 rows of 1 KB in 64 KiB batches need many batches, got ${sizes.length}`);
    assert.ok(Math.max(...sizes) <= 66, `no batch is far above the byte limit: ${Math.max(...sizes)} rows`);
  });

  it('stops the worker when the consumer leaves early, and the engine runs the next task', async () => {
    const engine = await launch();
    let seen = 0;
    for await (const event of engine.execute(task('SELECT * FROM range(10000000)'))) {
      if (event.type === 'rows') seen += 1;
      if (seen === 2) break;
    }
    const events = await collect(engine, 'SELECT 7 AS seven');
    assert.deepEqual(events.at(-1), { type: 'rows', rows: [[7]] });
  });

  it('runs tasks of one engine one after another when they are started together', async () => {
    const engine = await launch();
    const [a, b] = await Promise.all([
      collect(engine, 'CREATE TEMP TABLE seq_test AS SELECT 1 AS v; SELECT count(*) AS n FROM range(3000000)'),
      collect(engine, 'SELECT 2 AS v'),
    ]);
    assert.deepEqual(a.at(-1), { type: 'rows', rows: [['3000000']] });
    assert.deepEqual(b.at(-1), { type: 'rows', rows: [[2]] });
  });

  it('reports DuckDB query progress on a long scan', async () => {
    const engine = await launch({}, { progressIntervalMs: 20 });
    await collect(engine, 'CREATE TABLE big AS SELECT range AS i FROM range(40000000)');
    // One thread makes the scan long enough to sample on any machine (and shows SET persisting).
    await collect(engine, 'SET threads = 1');
    const events = await collect(engine, 'SELECT sum(hash(i * i)) FROM big');
    const progress = events.filter((e) => e.type === 'progress');
    assert.ok(progress.length > 0, 'at least one progress event');
    for (const p of progress) {
      assert.ok(p.type === 'progress' && p.progress >= 0 && p.progress <= 1);
      assert.equal(p.type === 'progress' && p.info?.statements, 1);
    }
  });

  it('opens a database file inside the workDir that outlives the engine', async () => {
    const workDir = await newDir();
    const first = await launch({ path: 'data.duckdb' }, {}, workDir);
    await collect(first, 'CREATE TABLE kept (v INTEGER); INSERT INTO kept VALUES (5)');
    await first.close();
    assert.ok((await stat(path.join(workDir, 'data.duckdb'))).size > 0);
    const second = await launch({ path: 'data.duckdb' }, {}, workDir);
    assert.deepEqual((await collect(second, 'SELECT v FROM kept')).at(-1), { type: 'rows', rows: [[5]] });
  });

  it('refuses a database path outside the workDir, bad params, other versions and other code types', async () => {
    const connector = createDuckdbConnector();
    const workDir = await newDir();
    const spec = { engineId: 'x', user: 'test', version: '1.5', workDir };
    for (const params of [{ path: '../escape.duckdb' }, { path: '/etc/evil.duckdb' }, { threads: 0 }, { memoryLimit: 'lots' }]) {
      const err = await failure(connector.launch({ ...spec, params }));
      assert.equal(err.code, 'SLUICE_REQUEST_INVALID', JSON.stringify(params));
      assert.equal(err.category, 'user');
    }
    assert.equal((await failure(connector.launch({ ...spec, version: '0.9', params: {} }))).code, 'SLUICE_JOB_ENGINE_UNKNOWN');
    const engine = await launch();
    const err = await failure(
      (async () => {
        for await (const _ of engine.execute(task('echo hi', undefined, 'shell'))) {
          // nothing
        }
      })(),
    );
    assert.equal(err.code, 'SLUICE_JOB_CODE_TYPE_UNSUPPORTED');
  });

  it('applies launch params and connector settings to the database', async () => {
    const engine = await launch({ threads: 1, memoryLimit: '256MB' }, { settings: { default_order: 'desc' } });
    const events = await collect(engine, "SELECT current_setting('threads') AS t, current_setting('default_order') AS o, current_setting('memory_limit') AS m");
    assert.deepEqual(events.at(-1), { type: 'rows', rows: [['1', 'DESC', '244.1 MiB']] });
  });

  it('keeps the server environment away from the worker', async () => {
    process.env.SLUICE_TEST_SECRET = 'do-not-leak';
    try {
      const engine = await launch();
      const environ = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${engine.pid}/environ`, 'utf8'));
      assert.ok(!environ.includes('do-not-leak'));
      assert.ok(environ.includes('HOME='));
    } finally {
      delete process.env.SLUICE_TEST_SECRET;
    }
  });

  it('answers health with a ping and fails a launch whose worker cannot start', async () => {
    const engine = await launch();
    const health = await engine.health();
    assert.equal(health.ok, true);
    assert.match(health.detail ?? '', /DuckDB v1\.5/);
    const err = await failure(
      createDuckdbConnector({ settings: { no_such_duckdb_option: 'x' } }).launch({
        engineId: 'bad',
        user: 'test',
        version: '1.5',
        workDir: await newDir(),
        params: {},
      }),
    );
    assert.equal(err.code, 'SLUICE_ENGINE_LAUNCH_FAILED');
    assert.equal(err.retryable, true);
  });

  /** A count the engine's health detail reports, e.g. `3 tasks prepared ahead`. */
  async function healthCount(engine: Engine, what: 'prepared ahead' | 'run ahead'): Promise<number> {
    const detail = (await engine.health()).detail ?? '';
    const m = new RegExp(`(\\d+) tasks? ${what}`).exec(detail);
    assert.ok(m, detail);
    return Number(m[1]);
  }

  /** Runs a task with a given id to its end and returns its events. */
  async function run(engine: Engine, taskId: string, code: string): Promise<EngineEvent[]> {
    const events: EngineEvent[] = [];
    for await (const event of engine.execute({ taskId, code, codeType: 'sql', runtimeParams: {}, signal: new AbortController().signal })) {
      events.push(event);
    }
    return events;
  }

  describe('statements prepared ahead', () => {
    /** Tasks that ran on a statement prepared ahead, as the engine's health reports them. */
    const preparedAhead = (engine: DuckdbEngine) => healthCount(engine, 'prepared ahead');

    it('runs the expected task on the statement prepared for it, with the same events', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t AS SELECT range AS id FROM range(3)');
      const plain = await run(engine, 'plain', 'SELECT sum(id) AS s FROM t');
      engine.prepareAhead({ taskId: 'next', code: 'SELECT sum(id) AS s FROM t', codeType: 'sql' });
      const ahead = await run(engine, 'next', 'SELECT sum(id) AS s FROM t');
      assert.deepEqual(ahead, plain);
      assert.deepEqual(ahead.at(-1), { type: 'rows', rows: [['3']] }); // sum() of BIGINT is a HUGEINT, sent as text
      assert.equal(await preparedAhead(engine), 1);
    });

    it('drops the statement when another task runs first, so that task cannot change what it means', async () => {
      const engine = await launch();
      await collect(engine, "CREATE TABLE t AS SELECT 'main' AS src; CREATE SCHEMA other; CREATE TABLE other.t AS SELECT 'other' AS src");
      engine.prepareAhead({ taskId: 'expected', code: 'SELECT src FROM t', codeType: 'sql' });
      await run(engine, 'first', "SET search_path = 'other'");
      const events = await run(engine, 'expected', 'SELECT src FROM t');
      assert.deepEqual(events.at(-1), { type: 'rows', rows: [['other']] });
      assert.equal(await preparedAhead(engine), 0);
    });

    it('delivers every row of a task that runs instead of the one a statement was prepared for', async () => {
      const engine = await launch();
      // A statement that takes DuckDB a while to plan: ~16 KiB of UNION ALL branches. Whether its prepare
      // overlaps the other task is up to libuv's threads; AheadStatements' unit tests pin that order.
      const slow = Array.from({ length: 400 }, (_, i) => `SELECT ${i} AS n`).join(' UNION ALL ');
      assert.ok(slow.length < 16 * 1024);
      for (let round = 0; round < 5; round++) {
        engine.prepareAhead({ taskId: `never${round}`, code: slow, codeType: 'sql' });
        const events = await run(engine, `other${round}`, 'SELECT range AS n FROM range(300000)');
        const rows = events.reduce((n, e) => n + (e.type === 'rows' ? e.rows.length : 0), 0);
        assert.equal(rows, 300000, `round ${round}: every row of the task that ran instead`);
      }
      assert.equal(await preparedAhead(engine), 0);
    });

    it('ignores a statement prepared for other code, and one prepare refused', async () => {
      const engine = await launch();
      engine.prepareAhead({ taskId: 'a', code: 'SELECT 1 AS one', codeType: 'sql' });
      assert.deepEqual((await run(engine, 'a', 'SELECT 2 AS two')).at(-1), { type: 'rows', rows: [[2]] });
      const refusedPlain = await failure(run(engine, 'b0', 'SELEC 1'));
      engine.prepareAhead({ taskId: 'b', code: 'SELEC 1', codeType: 'sql' });
      const refused = await failure(run(engine, 'b', 'SELEC 1'));
      assert.equal(refused.code, 'SLUICE_ENGINE_QUERY_FAILED');
      assert.equal(refused.message, refusedPlain.message);
      // Two statements: prepare refuses them, and the task still runs both.
      engine.prepareAhead({ taskId: 'c', code: 'SELECT 1 AS x; SELECT 2 AS y', codeType: 'sql' });
      const both = await run(engine, 'c', 'SELECT 1 AS x; SELECT 2 AS y');
      assert.equal(both.filter((e) => e.type === 'resultSet').length, 2);
      assert.equal(await preparedAhead(engine), 0);
    });

    it('ignores the hint while a task runs', async () => {
      const engine = await launch();
      const controller = new AbortController();
      const running = (async () => {
        for await (const _ of engine.execute({
          taskId: 'long',
          code: 'SELECT count(*) FROM range(10000000000)',
          codeType: 'sql',
          runtimeParams: {},
          signal: controller.signal,
        })) {
          // drained until cancelled
        }
      })();
      await sleep(200);
      engine.prepareAhead({ taskId: 'next', code: 'SELECT 42 AS x', codeType: 'sql' });
      controller.abort();
      assert.equal((await failure(running)).code, 'SLUICE_JOB_CANCELLED');
      assert.deepEqual((await run(engine, 'next', 'SELECT 42 AS x')).at(-1), { type: 'rows', rows: [[42]] });
      assert.equal(await preparedAhead(engine), 0);
    });
  });

  describe('tasks run ahead (ADR 16)', () => {
    const ranAhead = (engine: Engine) => healthCount(engine, 'run ahead');

    function rowCount(events: EngineEvent[]): number {
      return events.reduce((n, e) => n + (e.type === 'rows' ? e.rows.length : 0), 0);
    }

    it('answers the expected SELECT from its run ahead, with the events of a plain run', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t AS SELECT range AS id FROM range(3)');
      const plain = await run(engine, 'plain', 'SELECT sum(id) AS s FROM t');
      // Whether the run ahead has reached the parent when the task starts, or the task adopts it in the
      // worker, depends on the pause; both must give the same events.
      for (const pause of [0, 1, 5, 200]) {
        engine.prepareAhead({ taskId: `next${pause}`, code: 'SELECT sum(id) AS s FROM t', codeType: 'sql' }, { mayRun: true });
        if (pause > 0) await sleep(pause);
        assert.deepEqual(await run(engine, `next${pause}`, 'SELECT sum(id) AS s FROM t'), plain, `after ${pause} ms`);
      }
      assert.equal(await ranAhead(engine), 4);
    });

    it('reports the failure of a SELECT run ahead as a plain run does', async () => {
      const engine = await launch();
      const plain = await failure(run(engine, 'plain', "SELECT error('boom') AS x"));
      engine.prepareAhead({ taskId: 'next', code: "SELECT error('boom') AS x", codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      const ahead = await failure(run(engine, 'next', "SELECT error('boom') AS x"));
      assert.equal(ahead.code, 'SLUICE_ENGINE_QUERY_FAILED');
      assert.equal(ahead.message, plain.message);
    });

    it('drops a run ahead when another task runs first, and runs the expected task afresh', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t AS SELECT range AS id FROM range(3)');
      engine.prepareAhead({ taskId: 'expected', code: 'SELECT count(*) AS n FROM t', codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      await run(engine, 'first', 'INSERT INTO t VALUES (3)');
      assert.deepEqual((await run(engine, 'expected', 'SELECT count(*) AS n FROM t')).at(-1), { type: 'rows', rows: [['4']] });
      assert.equal(await ranAhead(engine), 0);
    });

    it('never answers a task from a run ahead that another task overtook', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t (x INTEGER)');
      // The run ahead may end just before or just after the other task reaches the worker; either way
      // the expected task must see the other task's row.
      for (let round = 1; round <= 40; round++) {
        engine.prepareAhead({ taskId: `count${round}`, code: 'SELECT count(*) AS n FROM t', codeType: 'sql' }, { mayRun: true });
        const until = performance.now() + (round % 8) * 0.4;
        while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
        await run(engine, `insert${round}`, `INSERT INTO t VALUES (${round})`);
        assert.deepEqual(
          (await run(engine, `count${round}`, 'SELECT count(*) AS n FROM t')).at(-1),
          { type: 'rows', rows: [[String(round)]] },
          `round ${round}`,
        );
      }
    });

    it('streams every row of a large result run ahead, and of a task that runs instead of one', async () => {
      const engine = await launch();
      const code = 'SELECT range AS n FROM range(300000)';
      engine.prepareAhead({ taskId: 'big', code, codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      const events = await run(engine, 'big', code);
      assert.equal(rowCount(events), 300000);
      const ns = events.flatMap((e) => (e.type === 'rows' ? e.rows.map((r) => Number(r[0])) : []));
      assert.ok(
        ns.every((n, i) => n === i),
        'rows in order, none twice',
      );
      assert.equal(await ranAhead(engine), 1);
      for (let round = 0; round < 5; round++) {
        engine.prepareAhead({ taskId: `never${round}`, code, codeType: 'sql' }, { mayRun: true });
        if (round % 2 === 1) await sleep(20);
        assert.equal(rowCount(await run(engine, `other${round}`, 'SELECT range AS n FROM range(200000)')), 200000, `round ${round}`);
      }
      assert.equal(await ranAhead(engine), 1);
    });

    it('never runs ahead a statement with effects: not a SELECT, or a SELECT that calls nextval()', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t (x INTEGER); CREATE SEQUENCE s');
      engine.prepareAhead({ taskId: 'ins', code: 'INSERT INTO t VALUES (1)', codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      engine.prepareAhead({ taskId: 'seq', code: "SELECT nextval('s') AS v", codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      assert.deepEqual((await run(engine, 'check1', 'SELECT count(*) AS n FROM t')).at(-1), { type: 'rows', rows: [['0']] });
      assert.deepEqual((await run(engine, 'check2', "SELECT nextval('s') AS v")).at(-1), { type: 'rows', rows: [['1']] });
      // Prepared, not run, like a hint without permission: the INSERT runs once, when its task comes,
      // on the statement prepared for it.
      engine.prepareAhead({ taskId: 'ins2', code: 'INSERT INTO t VALUES (2)', codeType: 'sql' }, { mayRun: true });
      await sleep(50);
      await run(engine, 'ins2', 'INSERT INTO t VALUES (2)');
      assert.deepEqual((await run(engine, 'check3', 'SELECT count(*) AS n FROM t')).at(-1), { type: 'rows', rows: [['1']] });
      assert.equal(await ranAhead(engine), 0);
      assert.match((await engine.health()).detail ?? '', /\b1 task prepared ahead/);
    });

    it('runs nothing ahead once the connection may be inside a transaction the user opened', async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t (x INTEGER)');
      await collect(engine, 'BEGIN TRANSACTION');
      // Run ahead, this failure would abort the user's transaction.
      engine.prepareAhead({ taskId: 'fails', code: "SELECT error('boom') AS x", codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      await collect(engine, 'INSERT INTO t VALUES (1)');
      await collect(engine, 'COMMIT');
      assert.deepEqual((await collect(engine, 'SELECT count(*) AS n FROM t')).at(-1), { type: 'rows', rows: [['1']] });
      engine.prepareAhead({ taskId: 'later', code: 'SELECT 1 AS one', codeType: 'sql' }, { mayRun: true });
      await sleep(200);
      await run(engine, 'later', 'SELECT 1 AS one');
      assert.equal(await ranAhead(engine), 0);
    });

    it("keeps a run ahead only with the hint's permission", async () => {
      const engine = await launch();
      await collect(engine, 'CREATE TABLE t AS SELECT 1 AS x');
      engine.prepareAhead({ taskId: 'p', code: 'SELECT x FROM t', codeType: 'sql' });
      await sleep(200);
      assert.deepEqual((await run(engine, 'p', 'SELECT x FROM t')).at(-1), { type: 'rows', rows: [[1]] });
      assert.equal(await ranAhead(engine), 0);
    });
  });

  it('advertises the major.minor version of the installed DuckDB', () => {
    const connector = createDuckdbConnector();
    assert.ok(duckdbVersion().startsWith(`v${DUCKDB_VERSION}.`), `installed ${duckdbVersion()}, advertised ${DUCKDB_VERSION}`);
    assert.deepEqual(connector.versions, [DUCKDB_VERSION]);
    assert.equal(connector.defaultVersion, DUCKDB_VERSION);
    assert.deepEqual(connector.codeTypes, ['sql']);
  });

  it('resolves the worker module next to the engine module, .js when built', () => {
    assert.equal(workerPath('file:///app/dist/duckdb-engine.js'), '/app/dist/duckdb-worker.js');
    assert.equal(workerPath('file:///app/src/duckdb-engine.ts'), '/app/src/duckdb-worker.ts');
  });
});
