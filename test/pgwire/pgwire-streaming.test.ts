import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { cstr, errorFields, rawLogin } from './raw-wire.ts';

const ROWS = 10_000_000;

/**
 * A 10-million-row result flows to a client through the gateway in pages with socket backpressure:
 * the gateway's heap does not grow with the result, and a client that stops reading stalls the
 * stream instead of filling the gateway's memory.
 */
describe('pgwire streaming', () => {
  let s: PgwireStack;

  const latestPgwireJob = async () => {
    const db = new pg.Client({ connectionString: s.env.db.url });
    await db.connect();
    try {
      const job = (
        await db.query<{ id: string; state: string; error: unknown }>(
          "SELECT id, state, error FROM sluice_jobs WHERE creator = 'pgwire' ORDER BY seq DESC LIMIT 1",
        )
      ).rows[0];
      if (!job) return undefined;
      // The state history goes into a failure's message: how the record ended if not as expected.
      const history = await db.query<{ to_state: string; at: string; reason: unknown }>(
        "SELECT to_state, to_char(at, 'HH24:MI:SS.MS') AS at, reason FROM sluice_job_states WHERE job_id = $1 ORDER BY id",
        [job.id],
      );
      return { ...job, history: history.rows };
    } finally {
      await db.end();
    }
  };

  before(async () => {
    s = await startPgwireStack();
  });
  after(async () => {
    await s?.stop();
  });

  it(`streams ${ROWS.toLocaleString('en')} rows in bounded memory, pausing while the client does not read`, { timeout: 600_000 }, async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w.countDataRows = true;
    global.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 50);
    try {
      w.send('Q', cstr(`SELECT range AS n, range * 2 AS twice, 'row-' || range::VARCHAR AS label FROM range(${ROWS})`));
      // Wait for the first rows, then stop reading for a while: the gateway must stop sending.
      const deadline = Date.now() + 300_000;
      while (w.dataRows === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(w.dataRows > 0, 'rows started to arrive');
      w.socket.pause();
      await new Promise((r) => setTimeout(r, 1000));
      const stalledAt = w.dataRows;
      await new Promise((r) => setTimeout(r, 2000));
      assert.ok(w.dataRows - stalledAt < 200_000, 'a paused client receives (almost) nothing more');
      // The rows stream while the statement runs: it is a job, recorded and still Running.
      const live = await latestPgwireJob();
      assert.equal(live?.state, 'Running', 'the statement is a job, Running while its rows stream');
      w.socket.resume();
      const done = await w.until('C', 600_000);
      assert.ok(done, 'CommandComplete arrived');
      assert.equal(done?.body.toString('utf8', 0, done.body.length - 1), `SELECT ${ROWS}`);
      assert.equal(w.dataRows, ROWS);
      assert.equal((await w.until('Z'))?.type, 'Z');
    } finally {
      clearInterval(sampler);
      w.close();
    }
    // ~300 MB went over the wire; the gateway (and the whole stack in this process) held a few pages.
    const growthMb = (peak - base) / 1024 / 1024;
    assert.ok(growthMb < 200, `heap grew by ${growthMb.toFixed(0)} MB while streaming`);
    let seen: unknown;
    const ended = await waitFor(
      async () => {
        const j = await latestPgwireJob();
        seen = j;
        return j?.state === 'Succeed' ? j : undefined;
      },
      { timeoutMs: 30_000, what: 'the statement to be recorded as Succeed' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last seen: ${JSON.stringify(seen)}`);
    });
    const log = await s.ts.api(s.ts.tokens.alice).request<{ lines: { n: number; text: string }[] }>('GET', `/api/v1/jobs/${ended.id}/log`);
    assert.ok(
      log.body.lines.some((l: { text: string }) => l.text === `${ROWS} row(s) streamed to the client`),
      JSON.stringify(log.body.lines),
    );
  });

  it('a statement cancelled while its rows stream ends Cancelled and gives its engine back', async () => {
    const c = await s.connect('mid-stream-cancel');
    try {
      const q = c.query({ text: 'SELECT range AS n FROM range(500000000)', rowMode: 'array' });
      q.catch(() => {});
      await new Promise((r) => setTimeout(r, 1500));
      // Stop reading, so the gateway waits to write between two pulls from the engine, and cancel
      // then: the statement must still end and give its engine back.
      const stream = (c as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
      stream.pause();
      await new Promise((r) => setTimeout(r, 1000));
      const canceller = new pg.Client({ host: '127.0.0.1', port: s.port });
      (canceller as unknown as { cancel(c: pg.Client, q: unknown): void }).cancel(c, (c as unknown as { activeQuery: unknown }).activeQuery);
      await new Promise((r) => setTimeout(r, 1000));
      stream.resume();
      await assert.rejects(q, (e: { code?: string }) => e.code === '57014');
      const db = new pg.Client({ connectionString: s.env.db.url });
      await db.connect();
      try {
        const job = await waitFor(
          async () => {
            const r = await db.query<{ state: string; engine_id: string }>(
              "SELECT state, engine_id FROM sluice_jobs WHERE labels->>'applicationName' = 'mid-stream-cancel' ORDER BY seq DESC LIMIT 1",
            );
            return r.rows[0] && r.rows[0].state !== 'Running' ? r.rows[0] : undefined;
          },
          { timeoutMs: 20_000, what: 'the cancelled statement to end' },
        );
        assert.equal(job.state, 'Cancelled');
        // Its engine is free again: the next statement of the connection runs on the same engine.
        assert.equal((await c.query('SELECT 41 + 1 AS v')).rows[0].v, 42);
        const next = await waitFor(async () => {
          const r = await db.query<{ state: string; engine_id: string }>(
            "SELECT state, engine_id FROM sluice_jobs WHERE labels->>'applicationName' = 'mid-stream-cancel' ORDER BY seq DESC LIMIT 1",
          );
          return r.rows[0]?.state === 'Succeed' ? r.rows[0] : undefined;
        });
        assert.equal(next.engine_id, job.engine_id);
      } finally {
        await db.end();
      }
    } finally {
      await c.end();
    }
  });

  it('reports a statement error mid-session and goes on', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice);
    w.send('Q', cstr('SELECT * FROM no_such_table_q; SELECT 2'));
    const m = await w.until('E');
    assert.equal(errorFields(m?.body as Buffer).C, '42P01');
    assert.equal((await w.until('Z'))?.type, 'Z');
    w.close();
  });
});

/** Without an engine manager in the gateway's process, statements take the queue like any job. */
describe('pgwire on the queued path', () => {
  let s: PgwireStack;

  before(async () => {
    s = await startPgwireStack({ queued: true });
  });
  after(async () => {
    await s?.stop();
  });

  it('runs statements as queued jobs whose results are kept in the result store', async () => {
    const c = await s.connect();
    try {
      const r = await c.query({ text: 'SELECT range AS n FROM range(5)', rowMode: 'array' });
      assert.deepEqual(
        r.rows.map((x) => Number(x[0])),
        [0, 1, 2, 3, 4],
      );
    } finally {
      await c.end();
    }
    const db = new pg.Client({ connectionString: s.env.db.url });
    await db.connect();
    try {
      const job = (
        await db.query<{ id: string; state: string; result_sets: number }>("SELECT * FROM sluice_jobs WHERE creator = 'pgwire' ORDER BY seq DESC LIMIT 1")
      ).rows[0];
      assert.equal(job?.state, 'Succeed');
      assert.equal(job?.result_sets, 1, 'a queued statement keeps its result');
    } finally {
      await db.end();
    }
  });
});
