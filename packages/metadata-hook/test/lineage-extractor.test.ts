import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { clearLineageCache, type Dialect, extractLineage, LineageExtractor, type LineageExtractorEvent } from '../src/index.ts';
import { FIXTURES, NAMESPACES } from './fixtures/lineage-fixtures.ts';

const FAKE_WORKER = new URL('./fakes/fake-failing-lineage-worker.ts', import.meta.url);
const TRINO = { namespace: 'trino://t:8080' };

/** `n` distinct Trino statements with joins, aggregates and a CTE: a few milliseconds of parsing each. */
function distinctStatements(n: number, tag: string): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `INSERT INTO hive.mart.out_${tag}_${i} WITH s AS (SELECT id, amount_${i} AS amount, region FROM hive.raw.sales_${i} WHERE amount_${i} > ${i}) ` +
      `SELECT s.region, d.name, sum(s.amount) AS total, count(DISTINCT s.id) AS n, max(CASE WHEN s.amount > 10 THEN 1 ELSE 0 END) AS big ` +
      `FROM s JOIN hive.dim.region_${i % 7} d ON s.region = d.id LEFT JOIN hive.dim.extra e ON e.k = d.name GROUP BY s.region, d.name ORDER BY total DESC`,
  );
}

/** Runs `work` while sampling this thread's event-loop delay; returns the worst delay and the wall time of `work`. */
async function withLoopDelay(work: () => Promise<unknown> | unknown): Promise<{ maxDelayMs: number; wallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // The monitor records from its second tick on: give it ticks before the work starts.
  await new Promise((r) => setTimeout(r, 60));
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  // Let the monitor's timer observe a loop that was just blocked.
  await new Promise((r) => setTimeout(r, 30));
  h.disable();
  return { maxDelayMs: h.max / 1e6, wallMs };
}

describe('LineageExtractor: extraction in worker threads', () => {
  const extractors: LineageExtractor[] = [];
  const make = (opts: ConstructorParameters<typeof LineageExtractor>[0]) => {
    const x = new LineageExtractor(opts);
    extractors.push(x);
    return x;
  };
  after(async () => {
    for (const x of extractors) await x.close();
  });

  it('gives the same results as inline extraction, for grammar dialects (worker) and DuckDB (inline)', async () => {
    const pool = make({ workers: 1 });
    const picked = FIXTURES.filter((f) => f.dialect === 'trino' || f.dialect === 'postgres' || f.dialect === 'duckdb');
    assert.ok(picked.length >= 15, `only ${picked.length} fixtures`);
    for (const f of picked) {
      const ctx = { namespace: NAMESPACES[f.dialect], ...f.ctx };
      const viaPool = await pool.extract(f.sql, f.dialect, ctx, { noCache: true });
      assert.deepEqual(viaPool, extractLineage(f.sql, f.dialect, ctx, { noCache: true }), f.name);
    }
    assert.equal(pool.size, 1);
  });

  it('keeps the event loop responsive while the worker parses a large batch of distinct statements', async (t) => {
    const pool = make({ workers: 1 });
    const batch = distinctStatements(250, 'pool');
    let results: Awaited<ReturnType<LineageExtractor['extract']>>[] = [];
    // Cold: the worker starts, loads the Trino grammar and parses everything, while this thread only waits.
    const viaPool = await withLoopDelay(async () => {
      results = await Promise.all(batch.map((sql) => pool.extract(sql, 'trino', TRINO)));
    });
    assert.equal(results.length, batch.length);
    for (const [i, r] of results.entries()) {
      assert.deepEqual(r.errors, [], `statement ${i}`);
      assert.equal(r.frontEnd, 'dt-sql-parser');
      assert.equal(r.outputs[0]?.name, `hive.mart.out_pool_${i}`);
    }
    // Control: the same amount of parsing inline blocks the loop for about as long as it takes, which
    // shows the measurement sees blocking (and is what the job path did before the pool).
    const inlineBatch = distinctStatements(250, 'inline');
    const inline = await withLoopDelay(() => {
      for (const sql of inlineBatch) extractLineage(sql, 'trino', TRINO, { noCache: true });
    });
    const msg = `pool: max delay ${viaPool.maxDelayMs.toFixed(0)} ms over ${viaPool.wallMs.toFixed(0)} ms; inline: max delay ${inline.maxDelayMs.toFixed(0)} ms over ${inline.wallMs.toFixed(0)} ms`;
    t.diagnostic(msg);
    assert.ok(viaPool.wallMs >= 600, `the batch should take a while to parse; ${msg}`);
    assert.ok(inline.maxDelayMs >= inline.wallMs * 0.5, `inline parsing should block the loop; ${msg}`);
    // Not zero: on a loaded machine with two cores the OS still deschedules this thread now and then.
    assert.ok(viaPool.maxDelayMs < Math.min(500, viaPool.wallMs / 4), `the event loop was blocked; ${msg}`);
  });

  it('serves a repeated script from the cache in this thread, without a worker', async () => {
    clearLineageCache();
    const pool = make({ workers: 1 });
    const sql = 'INSERT INTO hive.mart.cached SELECT id FROM hive.raw.cached_src';
    const first = await pool.extract(sql, 'trino', TRINO);
    assert.equal(first.outputs[0]?.name, 'hive.mart.cached');
    await pool.close();
    // Closed, the pool cannot parse anything: only the cache can answer.
    assert.deepEqual(await pool.extract(sql, 'trino', TRINO), first);
    const other = await pool.extract('INSERT INTO hive.mart.x SELECT id FROM hive.raw.y', 'trino', TRINO);
    assert.match(other.errors[0]?.errorMessage ?? '', /extractor is closed/);
  });

  it('parses inline with no workers (debugging)', async () => {
    const pool = make({ workers: 0 });
    const r = await pool.extract('INSERT INTO hive.mart.inline SELECT id FROM hive.raw.s', 'trino', TRINO, { noCache: true });
    assert.equal(r.outputs[0]?.name, 'hive.mart.inline');
    assert.equal(pool.size, 0, 'no worker was started');
  });

  it('loads the grammars of the given dialects in the background when warmed up', async () => {
    const events: LineageExtractorEvent[] = [];
    const pool = make({ workers: 1, onEvent: (e) => events.push(e) });
    const dialects: Dialect[] = ['postgres', 'mysql', 'duckdb'];
    pool.warmUp(dialects);
    assert.equal(pool.size, 1, 'the worker starts at once');
    const deadline = Date.now() + 120_000;
    while (events.filter((e) => e.type === 'warmed').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // DuckDB has no grammar to load; the other two were loaded, in order.
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'warmed' ? [e.dialect] : [])),
      ['postgres', 'mysql'],
    );
  });

  it('stops a worker that stays idle past idleMs; the next script starts one that loads only its own grammar', async () => {
    const events: LineageExtractorEvent[] = [];
    const pool = make({ workers: 1, idleMs: 300, onEvent: (e) => events.push(e) });
    pool.warmUp(['postgres', 'mysql']);
    const waitFor = async (what: () => boolean) => {
      const deadline = Date.now() + 120_000;
      while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(what(), 'in time');
    };
    await waitFor(() => events.some((e) => e.type === 'idle-stopped'));
    assert.equal(events.filter((e) => e.type === 'warmed').length, 2, 'it went idle only after warming both grammars');
    assert.equal(pool.size, 0, 'the idle worker was stopped');
    const r = await pool.extract('INSERT INTO hive.mart.after_idle SELECT id FROM hive.raw.s', 'trino', TRINO, { noCache: true });
    assert.equal(r.outputs[0]?.name, 'hive.mart.after_idle', 'lineage still comes after an idle stop');
    assert.equal(pool.size, 1);
    const warmedBefore = events.filter((e) => e.type === 'warmed').length;
    await waitFor(() => events.filter((e) => e.type === 'idle-stopped').length === 2);
    assert.equal(events.filter((e) => e.type === 'warmed').length, warmedBefore, 'the new worker loaded no grammar ahead of time');
    assert.equal(pool.size, 0);
  });
});

describe('LineageExtractor: a worker that hangs or dies (FAKE worker: a real parser cannot be made to fail on demand)', () => {
  const extractors: LineageExtractor[] = [];
  after(async () => {
    for (const x of extractors) await x.close();
  });

  it('a script past the time limit gets an extraction error, and a fresh worker takes the next one', async () => {
    const events: LineageExtractorEvent[] = [];
    const pool = new LineageExtractor({ workers: 1, timeoutMs: 400, workerEntry: FAKE_WORKER, onEvent: (e) => events.push(e) });
    extractors.push(pool);
    // A first script, so the worker is started and its grammar loaded: the time limit is then 400 ms.
    const ok = await pool.extract('INSERT INTO hive.mart.a SELECT id FROM hive.raw.b', 'trino', TRINO);
    assert.equal(ok.outputs[0]?.name, 'hive.mart.a');
    const t0 = Date.now();
    const hung = await pool.extract('/* fake:hang */ INSERT INTO hive.mart.h SELECT id FROM hive.raw.b', 'trino', TRINO);
    const waited = Date.now() - t0;
    assert.match(hung.errors[0]?.errorMessage ?? '', /timed out after 400 ms/);
    assert.deepEqual(hung.outputs, []);
    assert.ok(waited >= 350 && waited < 5_000, `waited ${waited} ms`);
    assert.ok(events.some((e) => e.type === 'timed-out'));
    const next = await pool.extract('INSERT INTO hive.mart.c SELECT id FROM hive.raw.d', 'trino', TRINO);
    assert.deepEqual(next.errors, []);
    assert.equal(next.outputs[0]?.name, 'hive.mart.c');
    assert.equal(pool.size, 1, 'one worker, replaced');
  });

  for (const how of ['throw', 'exit'] as const) {
    it(`a worker that dies (${how}) gives an extraction error; queued scripts go to its replacement`, async () => {
      const events: LineageExtractorEvent[] = [];
      const pool = new LineageExtractor({ workers: 1, workerEntry: FAKE_WORKER, onEvent: (e) => events.push(e) });
      extractors.push(pool);
      const [dead, next] = await Promise.all([
        pool.extract(`/* fake:${how} */ INSERT INTO hive.mart.d SELECT id FROM hive.raw.b`, 'trino', TRINO),
        pool.extract(`INSERT INTO hive.mart.after_${how} SELECT id FROM hive.raw.b`, 'trino', TRINO),
      ]);
      assert.match(
        dead.errors[0]?.errorMessage ?? '',
        how === 'exit' ? /lineage worker exited \(code 7\)/ : /lineage worker exited \(code 1\): .*thrown on request/,
      );
      assert.equal(next.outputs[0]?.name, `hive.mart.after_${how}`);
      assert.ok(events.some((e) => e.type === 'worker-crashed'));
      // The failure was not cached: the same script fails again (it is the worker, not the cache, that answers).
      const again = await pool.extract(`/* fake:${how} */ INSERT INTO hive.mart.d SELECT id FROM hive.raw.b`, 'trino', TRINO);
      assert.match(again.errors[0]?.errorMessage ?? '', /lineage worker exited/);
    });
  }

  it('bounds its queue: past the limit a script fails at once instead of waiting', async () => {
    const pool = new LineageExtractor({ workers: 1, timeoutMs: 500, maxQueue: 2, workerEntry: FAKE_WORKER });
    extractors.push(pool);
    // Started and warm, so the hanging script gets the plain 500 ms limit.
    await pool.extract('INSERT INTO hive.mart.q0 SELECT id FROM hive.raw.b', 'trino', TRINO);
    const hang = pool.extract('/* fake:hang */ SELECT 1', 'trino', TRINO);
    const queued = [1, 2].map((i) => pool.extract(`INSERT INTO hive.mart.q${i} SELECT id FROM hive.raw.b`, 'trino', TRINO));
    assert.equal(pool.waiting, 2);
    const t0 = Date.now();
    const refused = await pool.extract('INSERT INTO hive.mart.q3 SELECT id FROM hive.raw.b', 'trino', TRINO);
    assert.ok(Date.now() - t0 < 100, 'answered at once');
    assert.match(refused.errors[0]?.errorMessage ?? '', /2 scripts are already waiting/);
    assert.match((await hang).errors[0]?.errorMessage ?? '', /timed out/);
    const done = await Promise.all(queued);
    assert.deepEqual(
      done.map((r) => r.outputs[0]?.name),
      ['hive.mart.q1', 'hive.mart.q2'],
    );
  });
});
