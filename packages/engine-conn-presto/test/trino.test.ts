import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Engine, type EngineConnector, type EngineEvent, SluiceError } from '@sluice/core';
import { createTrinoConnector, PROTOCOL_VERSION, type TrinoEngine } from '../src/index.ts';
import { liveHeapBytes } from './heap-probe.ts';
import { queryIdOf, queryRows, rejectionOf, runTask, task } from './task-runner.ts';
import { ensureTrino, queryInfo, type TrinoServer, trinoDataSource } from './trino-server.ts';

let server: TrinoServer;
let connector: EngineConnector;
const engines: Engine[] = [];
let engineSeq = 0;

async function launch(user = 'alice', params: Record<string, unknown> = {}, labels: Record<string, string> = {}): Promise<TrinoEngine> {
  engineSeq += 1;
  const engine = await connector.launch({
    engineId: `trino-test-${engineSeq}`,
    user,
    version: PROTOCOL_VERSION,
    workDir: '/nonexistent',
    params,
    dataSource: trinoDataSource(server),
    labels,
  });
  engines.push(engine);
  return engine as TrinoEngine;
}

/** Waits until the server's record of a query reaches a final state. */
async function finalQueryInfo(queryId: string): Promise<Awaited<ReturnType<typeof queryInfo>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await queryInfo(server, queryId);
    if (['FINISHED', 'FAILED'].includes(info.state)) return info;
    assert.ok(Date.now() < deadline, `query ${queryId} is still ${info.state}`);
    await sleep(100);
  }
}

before(async () => {
  server = await ensureTrino();
  connector = createTrinoConnector();
});

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
});

describe('trino: TPC-H answers', () => {
  it('counts the rows of every tpch.tiny table', async () => {
    const engine = await launch();
    const tables = ['nation', 'region', 'customer', 'orders', 'lineitem', 'part', 'partsupp', 'supplier'];
    const sql = tables.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM tpch.tiny.${t}`).join(' UNION ALL ');
    const out = await runTask(engine, sql);
    const set = out.resultSets[0];
    assert.ok(set);
    assert.deepEqual(set.columns, [
      { name: 't', type: 'VARCHAR(8)' },
      { name: 'n', type: 'BIGINT' },
    ]);
    // count(*) is BIGINT, which travels as a decimal string.
    assert.deepEqual(Object.fromEntries(set.rows.map((r) => [r[0], r[1]])), {
      nation: '25',
      region: '5',
      customer: '1500',
      orders: '15000',
      lineitem: '60175',
      part: '2000',
      partsupp: '8000',
      supplier: '100',
    });
  });

  it('answers known aggregates: five nations per region, nation keys summing to 300, the four groups of Q1', async () => {
    const engine = await launch();
    const perRegion = await queryRows(
      engine,
      'SELECT r.name, count(*) AS nations, sum(n.nationkey) AS keys FROM tpch.tiny.nation n JOIN tpch.tiny.region r ON n.regionkey = r.regionkey GROUP BY r.name ORDER BY r.name',
    );
    assert.deepEqual(
      perRegion.map((r) => [r[0], r[1]]),
      [
        ['AFRICA', '5'],
        ['AMERICA', '5'],
        ['ASIA', '5'],
        ['EUROPE', '5'],
        ['MIDDLE EAST', '5'],
      ],
    );
    assert.equal(
      perRegion.reduce((s, r) => s + Number(r[2]), 0),
      300,
    );
    // TPC-H Q1 (pricing summary): always exactly these four (returnflag, linestatus) groups.
    const q1 = await queryRows(
      engine,
      `SELECT returnflag, linestatus, count(*) AS count_order, sum(quantity) AS sum_qty
         FROM tpch.tiny.lineitem WHERE shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY
        GROUP BY returnflag, linestatus ORDER BY returnflag, linestatus`,
    );
    assert.deepEqual(
      q1.map((r) => `${r[0]}${r[1]}`),
      ['AF', 'NF', 'NO', 'RF'],
    );
    const [{ 0: total }] = (await queryRows(engine, `SELECT count(*) FROM tpch.tiny.lineitem WHERE shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY`)) as [
      [string],
    ];
    assert.equal(
      q1.reduce((s, r) => s + Number(r[2]), 0),
      Number(total),
    );
    // The same quantity summed along two paths (lineitem alone, and joined to its orders) agrees.
    const [[direct, joined]] = (await queryRows(
      engine,
      'SELECT (SELECT sum(quantity) FROM tpch.tiny.lineitem), (SELECT sum(l.quantity) FROM tpch.tiny.orders o JOIN tpch.tiny.lineitem l ON o.orderkey = l.orderkey)',
    )) as [[number, number]];
    assert.equal(direct, joined);
    assert.ok(direct > 60_175, 'every line item has a quantity of at least 1');
  });
});

describe('trino: DDL and DML on the memory catalog', () => {
  it('creates, fills, reads, changes and drops a table; DDL and DML give log lines, not result sets', async () => {
    const engine = await launch();
    const table = `memory.default.sluice_t_${randomBytes(4).toString('hex')}`;
    const created = await runTask(engine, `CREATE TABLE ${table} (id BIGINT, name VARCHAR, amount DECIMAL(12,2))`);
    assert.equal(created.resultSets.length, 0);
    assert.ok(
      created.logs.some((l) => l.startsWith('CREATE TABLE')),
      created.logs.join('\n'),
    );
    const inserted = await runTask(engine, `INSERT INTO ${table} VALUES (1, 'one', 1.50), (2, 'two', 20.25), (9007199254740993, 'big', 1234567890.99)`);
    assert.equal(inserted.resultSets.length, 0);
    assert.ok(
      inserted.logs.some((l) => /^INSERT: 3 rows/.test(l)),
      inserted.logs.join('\n'),
    );
    const ctas = await runTask(engine, `CREATE TABLE ${table}_copy AS SELECT * FROM ${table} WHERE id < 3`);
    assert.ok(ctas.logs.some((l) => /^CREATE TABLE: 2 rows/.test(l)));
    const out = await runTask(engine, `SELECT id, name, amount FROM ${table} ORDER BY id`);
    assert.deepEqual(out.resultSets[0]?.columns, [
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'VARCHAR' },
      { name: 'amount', type: 'DECIMAL(12,2)' },
    ]);
    assert.deepEqual(out.resultSets[0]?.rows, [
      ['1', 'one', '1.50'],
      ['2', 'two', '20.25'],
      ['9007199254740993', 'big', '1234567890.99'],
    ]);
    assert.deepEqual(await queryRows(engine, `SELECT count(*) FROM ${table}_copy`), [['2']]);
    await runTask(engine, `ALTER TABLE ${table} RENAME TO ${table}_renamed`);
    await runTask(engine, `DROP TABLE ${table}_renamed; DROP TABLE ${table}_copy`);
    const err = await rejectionOf(runTask(engine, `SELECT * FROM ${table}_renamed`));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.details.errorName, 'TABLE_NOT_FOUND');
  });
});

describe('trino: session state', () => {
  it('carries SET SESSION, USE, PREPARE and a transaction across the statements and tasks of one engine', async () => {
    const engine = await launch();
    // Within one task: the second statement already runs with the first one's property.
    const same = await runTask(engine, "SET SESSION query_max_run_time = '77m'; SHOW SESSION LIKE 'query_max_run_time'");
    assert.equal(same.resultSets[0]?.rows[0]?.[1], '77m');
    // In a later task.
    const later = await queryRows(engine, "SHOW SESSION LIKE 'query_max_run_time'");
    assert.equal(later[0]?.[1], '77m');
    assert.equal(engine.session.properties.query_max_run_time, '77m');
    // RESET SESSION arrives as X-Trino-Clear-Session.
    await runTask(engine, 'RESET SESSION query_max_run_time');
    assert.equal(engine.session.properties.query_max_run_time, undefined);
    assert.notEqual((await queryRows(engine, "SHOW SESSION LIKE 'query_max_run_time'"))[0]?.[1], '77m');

    await runTask(engine, 'USE tpch.sf1');
    assert.deepEqual(await queryRows(engine, 'SELECT current_catalog, current_schema'), [['tpch', 'sf1']]);
    assert.deepEqual(await queryRows(engine, 'SELECT count(*) FROM customer'), [['150000']], 'an unqualified table is read from tpch.sf1');

    await runTask(engine, "PREPARE by_region FROM SELECT count(*) FROM tpch.tiny.nation WHERE regionkey = ? AND name <> 'it''s'");
    assert.deepEqual(await queryRows(engine, 'EXECUTE by_region USING 3'), [['5']]);
    await runTask(engine, 'DEALLOCATE PREPARE by_region');
    assert.equal(engine.session.preparedStatements.by_region, undefined);

    await runTask(engine, 'START TRANSACTION READ ONLY');
    const tx = engine.session.transactionId;
    assert.match(tx ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(await queryRows(engine, 'SELECT count(*) FROM tpch.tiny.region'), [['5']]);
    await runTask(engine, 'COMMIT');
    assert.equal(engine.session.transactionId, undefined);
  });

  it('keeps two users’ engines apart, even when they run at the same time', async () => {
    const [alice, bob] = await Promise.all([launch('alice'), launch('bob')]);
    await Promise.all([
      runTask(alice, "SET SESSION query_max_run_time = '11m'; USE memory.default; PREPARE mine FROM SELECT 1"),
      runTask(bob, "SET SESSION query_max_run_time = '22m'"),
    ]);
    const [a, b] = await Promise.all([
      queryRows(alice, 'SELECT current_user, current_catalog, current_schema'),
      queryRows(bob, 'SELECT current_user, current_catalog, current_schema'),
    ]);
    assert.deepEqual(b, [['bob', 'tpch', 'tiny']]);
    assert.deepEqual(a, [['alice', 'memory', 'default']]);
    assert.equal((await queryRows(alice, "SHOW SESSION LIKE 'query_max_run_time'"))[0]?.[1], '11m');
    assert.equal((await queryRows(bob, "SHOW SESSION LIKE 'query_max_run_time'"))[0]?.[1], '22m');
    assert.match(alice.session.preparedStatements.mine ?? '', /^SELECT 1\s*$/);
    assert.deepEqual(bob.session.preparedStatements, {});
    const err = await rejectionOf(runTask(bob, 'EXECUTE mine'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.details.errorName, 'NOT_FOUND');
  });

  it('forwards the Sluice user, the source sluice, the creator as a client tag and the task as client info', async () => {
    const engine = await launch('carol', { sessionProperties: { query_max_run_time: '33m' } }, { creator: 'IDE', jobId: 'j1' });
    const out = await runTask(engine, 'SELECT current_user');
    assert.deepEqual(out.resultSets[0]?.rows, [['carol']]);
    const queryId = out.events.map(queryIdOf).find(Boolean);
    assert.ok(queryId, 'progress events carry the query id');
    const info = (await queryInfo(server, queryId)) as unknown as {
      session: { user: string; source: string; clientTags: string[]; clientInfo: string; traceToken: string; systemProperties: Record<string, string> };
    };
    assert.equal(info.session.user, 'carol');
    assert.equal(info.session.source, 'sluice');
    assert.deepEqual(info.session.clientTags, ['IDE']);
    assert.equal(JSON.parse(info.session.clientInfo).sluiceEngine, engine.id);
    assert.match(info.session.traceToken, /^trino-test-\d+$/);
    assert.equal(info.session.systemProperties.query_max_run_time, '33m');
  });
});

describe('trino: errors', () => {
  it('reports a failing statement with its error name, code and position in the script', async () => {
    const engine = await launch();
    const err = await rejectionOf(runTask(engine, 'SELECT 1;\nSELECT name,\n       nope\n  FROM tpch.tiny.nation'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assert.equal(err.details.errorName, 'COLUMN_NOT_FOUND');
    assert.equal(err.details.errorCode, 47);
    assert.equal(err.details.errorType, 'USER_ERROR');
    // Line 2 of the statement, which starts on line 2 of the script.
    assert.equal(err.details.line, 3);
    assert.equal(err.details.column, 8);
    assert.equal(err.details.statement, 2);
    assert.match(err.message, /^trino: line 2:8: Column 'nope' cannot be resolved/);

    const syntax = await rejectionOf(runTask(engine, '  SELEC 1'));
    assert.ok(syntax instanceof SluiceError);
    assert.equal(syntax.details.errorName, 'SYNTAX_ERROR');
    assert.deepEqual([syntax.details.line, syntax.details.column], [1, 3]);
  });
});

describe('trino: cancel', () => {
  it('cancels a long query on the server: it ends FAILED with USER_CANCELED', async () => {
    const engine = await launch();
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    let sawQuery!: () => void;
    const queryStarted = new Promise<void>((resolve) => {
      sawQuery = resolve;
    });
    const running = (async () => {
      for await (const event of engine.execute(task('SELECT sum(quantity) FROM tpch.sf1000.lineitem', controller.signal))) {
        events.push(event);
        if (queryIdOf(event)) sawQuery();
      }
    })();
    await queryStarted;
    const queryId = events.map(queryIdOf).find(Boolean) as string;
    await sleep(500);
    assert.equal((await queryInfo(server, queryId)).state, 'RUNNING');
    const abortedAt = Date.now();
    controller.abort();
    const err = await rejectionOf(running);
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_JOB_CANCELLED');
    // Far below the query's own run (a scan of sf1000), with room for a loaded CI host.
    assert.ok(Date.now() - abortedAt < 30_000);
    const info = await finalQueryInfo(queryId);
    assert.equal(info.state, 'FAILED');
    assert.equal(info.errorCode?.name, 'USER_CANCELED');
    assert.deepEqual(await queryRows(engine, 'SELECT 1'), [[1]], 'the engine stays usable');
  });

  it('cancels the query on the server when the consumer stops pulling', async () => {
    const engine = await launch();
    const iterator = engine.execute(task('SELECT * FROM tpch.sf1.lineitem'))[Symbol.asyncIterator]();
    let queryId: string | undefined;
    for (;;) {
      const { value, done } = await iterator.next();
      assert.equal(done, false);
      queryId ??= queryIdOf(value as EngineEvent);
      if ((value as EngineEvent).type === 'rows') break;
    }
    assert.ok(queryId);
    await iterator.return?.(undefined);
    const info = await finalQueryInfo(queryId);
    assert.equal(info.state, 'FAILED');
    assert.equal(info.errorCode?.name, 'USER_CANCELED');
  });
});

describe('trino: streaming', () => {
  it('streams 1,000,000 rows page by page while the live heap stays bounded', async (t) => {
    const engine = await launch();
    const baselineHeap = liveHeapBytes();
    const baselineRss = process.memoryUsage().rss;
    let rows = 0;
    let batches = 0;
    let jsonBytes = 0;
    let peakHeap = 0;
    let peakRss = 0;
    let lastKey = '';
    for await (const event of engine.execute(
      task(
        'SELECT orderkey, linenumber, partkey, suppkey, quantity, extendedprice, discount, tax, shipdate, commitdate, receiptdate, shipinstruct, shipmode, comment FROM tpch.sf1.lineitem LIMIT 1000000',
      ),
    )) {
      if (event.type !== 'rows') continue;
      batches += 1;
      rows += event.rows.length;
      // Sampling every batch would make the test slow: every 20th is plenty to see growth.
      if (batches % 20 === 1) {
        jsonBytes += JSON.stringify(event.rows).length * 20;
        peakHeap = Math.max(peakHeap, liveHeapBytes() - baselineHeap);
        peakRss = Math.max(peakRss, process.memoryUsage().rss - baselineRss);
      }
      lastKey = String(event.rows[event.rows.length - 1]?.[0]);
    }
    assert.equal(rows, 1_000_000);
    assert.ok(batches > 50, `a million rows arrive in many pages, got ${batches}`);
    assert.match(lastKey, /^\d+$/, 'BIGINT keys arrive as decimal strings');
    const mib = (n: number) => Math.round(n / 1024 / 1024);
    t.diagnostic(`${batches} pages, ~${mib(jsonBytes)} MiB of rows; live heap +${mib(peakHeap)} MiB, RSS +${mib(peakRss)} MiB at most`);
    // The result is far larger than what the process ever holds of it.
    assert.ok(jsonBytes > 100 * 1024 * 1024, `the result is about ${mib(jsonBytes)} MiB of JSON`);
    assert.ok(peakHeap < jsonBytes / 4 && peakHeap < 48 * 1024 * 1024, `live heap grew by ${mib(peakHeap)} MiB while streaming ${mib(jsonBytes)} MiB`);
    assert.ok(peakRss < 256 * 1024 * 1024, `RSS grew by ${mib(peakRss)} MiB while streaming`);
  });

  it('reports progress between 0 and 1, never going back, with the query id', async () => {
    const engine = await launch();
    const out = await runTask(engine, 'SELECT count(*), sum(extendedprice) FROM tpch.sf1.lineitem');
    const progress = out.events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');
    assert.ok(progress.length >= 2, `got ${progress.length} progress events`);
    let previous = 0;
    for (const p of progress) {
      assert.ok(p.progress >= previous && p.progress <= 1, `progress ${p.progress} after ${previous}`);
      previous = p.progress;
    }
    assert.equal(progress[progress.length - 1]?.progress, 1);
    assert.equal(out.resultSets[0]?.rows[0]?.[0], '6001215');
  });
});

describe('trino: values without loss', () => {
  it('keeps BIGINT beyond 2^53, DECIMAL, TIMESTAMP(6) and zoned timestamps exact, with their SQL types', async () => {
    const engine = await launch();
    const out = await runTask(
      engine,
      `SELECT BIGINT '9223372036854775807' AS max_big, BIGINT '-9223372036854775808' AS min_big, BIGINT '9007199254740993' AS past_2_53,
              BIGINT '42' AS small_big, 2147483647 AS int_max,
              DECIMAL '12345678901234567890.123456789' AS dec, CAST('99999999999999999999999999999999999999' AS DECIMAL(38,0)) AS dec38,
              TIMESTAMP '2024-01-02 03:04:05.123456' AS ts6, TIMESTAMP '2024-01-02 03:04:05.123456789' AS ts9,
              TIMESTAMP '2024-01-02 03:04:05.123456 +05:30' AS tsoff, TIMESTAMP '2024-01-02 03:04:05.5 UTC' AS tsutc,
              TIMESTAMP '2024-01-02 03:04:05.123 Europe/Paris' AS tszone, DATE '2024-02-29' AS d, TIME '23:59:59.999999' AS t6,
              ARRAY[BIGINT '9223372036854775806', NULL] AS arr, MAP(ARRAY['k'], ARRAY[BIGINT '9007199254740995']) AS m,
              CAST(ROW(BIGINT '9007199254740997', 'x') AS ROW(id BIGINT, tag VARCHAR(3))) AS r,
              '12345678901234567890' AS digits_text, 1.5E300 AS dbl, nan() AS not_a_number, X'CAFE' AS bin, CAST(NULL AS BIGINT) AS nothing`,
    );
    const set = out.resultSets[0];
    assert.ok(set);
    assert.deepEqual(
      set.columns.map((c) => `${c.name} ${c.type}`),
      [
        'max_big BIGINT',
        'min_big BIGINT',
        'past_2_53 BIGINT',
        'small_big BIGINT',
        'int_max INTEGER',
        'dec DECIMAL(29,9)',
        'dec38 DECIMAL(38,0)',
        'ts6 TIMESTAMP(6)',
        'ts9 TIMESTAMP(9)',
        'tsoff TIMESTAMP(6) WITH TIME ZONE',
        'tsutc TIMESTAMP(1) WITH TIME ZONE',
        'tszone TIMESTAMP(3) WITH TIME ZONE',
        'd DATE',
        't6 TIME(6)',
        'arr ARRAY(BIGINT)',
        'm MAP(VARCHAR(1), BIGINT)',
        'r ROW(id BIGINT, tag VARCHAR(3))',
        'digits_text VARCHAR(20)',
        'dbl DOUBLE',
        'not_a_number DOUBLE',
        'bin VARBINARY',
        'nothing BIGINT',
      ],
    );
    assert.deepEqual(set.rows, [
      [
        '9223372036854775807',
        '-9223372036854775808',
        '9007199254740993',
        '42',
        2147483647,
        '12345678901234567890.123456789',
        '99999999999999999999999999999999999999',
        '2024-01-02T03:04:05.123456',
        '2024-01-02T03:04:05.123456789',
        '2024-01-02T03:04:05.123456+05:30',
        '2024-01-02T03:04:05.5Z',
        '2024-01-02T03:04:05.123[Europe/Paris]',
        '2024-02-29',
        '23:59:59.999999',
        ['9223372036854775806', null],
        { k: '9007199254740995' },
        { id: '9007199254740997', tag: 'x' },
        '12345678901234567890',
        1.5e300,
        'NaN',
        'yv4=',
        null,
      ],
    ]);
  });
});
