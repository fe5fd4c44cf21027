import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MIGRATIONS, migrate } from '@sluice/infra';
import { freshDatabase, type TestDatabase, waitFor } from '@sluice/testkit';
import pg from 'pg';
import {
  buildRunEvent,
  enqueueLineageEvent,
  extractLineage,
  HttpTransport,
  LINEAGE_MIGRATIONS,
  LineageDispatcher,
  type LineageTransport,
  lineageGraph,
  lineageSeq,
  lineageSeqOffset,
  listDeadLetters,
  outboxInsertSql,
  outboxStats,
  type RunEvent,
  type RunEventType,
  requeueDeadLetters,
  runIdForJob,
} from '../src/index.ts';
import { validateEvent } from './validate-event.ts';

/** A real OpenLineage receiver on 127.0.0.1 that answers 503 while `down` and records what it accepts. */
class Receiver {
  server?: Server;
  port = 0;
  down = false;
  /** Answers 400 to events for which this returns true (a receiver refusing an event it finds invalid). */
  refuse: (e: RunEvent) => boolean = () => false;
  readonly received: RunEvent[] = [];
  readonly auth: (string | undefined)[] = [];
  rejected = 0;

  async listen(port = 0): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/api/v1/lineage') {
          res.writeHead(404).end();
          return;
        }
        if (this.down) {
          this.rejected++;
          res.writeHead(503).end('maintenance');
          return;
        }
        const ev = JSON.parse(body) as RunEvent;
        if (this.refuse(ev)) {
          // It echoes the request's credentials, as careless receivers do: they must not reach logs or the outbox.
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid event', authorization: req.headers.authorization }));
          return;
        }
        this.auth.push(req.headers.authorization);
        this.received.push(ev);
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const FAST_BACKOFF = { baseMs: 20, factor: 2, maxMs: 200, jitter: 0.2 };

function event(jobId: string, eventType: RunEventType, sql = 'INSERT INTO hive.mart.t SELECT a FROM hive.raw.s'): RunEvent {
  return buildRunEvent({
    eventType,
    job: { id: jobId, namespace: 'sluice://test', code: sql, codeType: 'sql' },
    dialect: 'trino',
    engine: { name: 'trino', version: '470' },
    lineage: extractLineage(sql, 'trino', { namespace: 'trino://t:8080' }),
  });
}

async function insertJob(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    `INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, state, queue_timeout_s, run_timeout_s)
     VALUES ($1, 'alice', 'test', 'trino-470', 'sql', 'g', 'select 1', 'select 1', 'Scheduled', 60, 60)`,
    [id],
  );
}

/** The shape of JobStore.transition(): one statement, plus the outbox CTE. */
async function transition(pool: pg.Pool, id: string, from: string[], to: string, ev: RunEvent): Promise<boolean> {
  const args: unknown[] = [id, to, from];
  const base = args.length + 1;
  args.push(JSON.stringify(ev), lineageSeqOffset(ev.eventType));
  const r = await pool.query(
    `WITH prev AS (SELECT id, state AS prev_state FROM sluice_jobs WHERE id = $1 FOR UPDATE),
          upd AS (UPDATE sluice_jobs SET state = $2, updated_at = now() FROM prev WHERE sluice_jobs.id = prev.id AND sluice_jobs.state = ANY($3)
                  RETURNING sluice_jobs.*, prev.prev_state),
          hist AS (INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt, reason) SELECT id, prev_state, $2, attempt, NULL FROM upd),
          ${outboxInsertSql(base)}
     SELECT * FROM upd`,
    args,
  );
  return (r.rowCount ?? 0) > 0;
}

describe('lineage outbox and dispatcher (real PostgreSQL, real HTTP receiver)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await freshDatabase('lineage');
    pool = new pg.Pool({ connectionString: db.url, max: 12 });
    await migrate(pool, [...MIGRATIONS, ...LINEAGE_MIGRATIONS]);
  });

  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('the outbox CTE writes the event in the same statement as the state change, and only if it happened', async () => {
    const id = 'job-cte-1';
    await insertJob(pool, id);
    assert.equal(await transition(pool, id, ['Scheduled'], 'Running', event(id, 'START')), true);
    // A lost race (wrong source state) writes no event.
    assert.equal(await transition(pool, id, ['Scheduled'], 'Running', event(id, 'START')), false);
    assert.equal(await transition(pool, id, ['Running'], 'Succeed', event(id, 'COMPLETE')), true);
    const rows = await pool.query<{ run_key: string; seq: number; event_type: string; run_id: string }>(
      "SELECT run_key, seq, payload->>'eventType' AS event_type, payload->'run'->>'runId' AS run_id FROM sluice_lineage_outbox WHERE run_key = $1 ORDER BY seq",
      [id],
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.seq, r.event_type]),
      [
        [lineageSeq('START', 0), 'START'],
        [lineageSeq('COMPLETE', 0), 'COMPLETE'],
      ],
    );
    assert.ok(rows.rows.every((r) => r.run_id === runIdForJob(id)));
    // A failed statement (here: a bad payload) rolls back the state change with the event.
    await insertJob(pool, 'job-cte-2');
    await assert.rejects(
      pool.query(`WITH upd AS (UPDATE sluice_jobs SET state = 'Running' WHERE id = $1 RETURNING sluice_jobs.*), ${outboxInsertSql(2)} SELECT * FROM upd`, [
        'job-cte-2',
        '{not json',
        1,
      ]),
    );
    const state = await pool.query<{ state: string }>("SELECT state FROM sluice_jobs WHERE id = 'job-cte-2'");
    assert.equal(state.rows[0]?.state, 'Scheduled');
  });

  it('a receiver that is down, then up, gets every event exactly once and in order per run; two dispatchers share the work', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    const receiver = new Receiver();
    await receiver.listen();
    const port = receiver.port;
    // First, nothing listens on the port at all (connection refused).
    await receiver.close();

    const runs = 12;
    const kinds: RunEventType[] = ['START', 'RUNNING', 'COMPLETE'];
    for (let r = 0; r < runs; r++) {
      for (const k of kinds) await enqueueLineageEvent(pool, `run-${r}`, lineageSeq(k, 0), event(`run-${r}`, k));
    }
    // Writing the same (run, seq) twice is a no-op.
    assert.equal(await enqueueLineageEvent(pool, 'run-0', lineageSeq('START', 0), event('run-0', 'START')), false);

    const token = 'secret-token-do-not-log';
    const logs: string[] = [];
    const logger = {
      info: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
      warn: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
    };
    const mk = () =>
      new LineageDispatcher({
        pool,
        transport: new HttpTransport({ url: `http://127.0.0.1:${port}`, apiKey: token, timeoutMs: 2000 }),
        pollIntervalMs: 20,
        backoff: FAST_BACKOFF,
        batchSize: 4,
        maxPerRun: 2,
        logger,
      });
    const d1 = mk();
    const d2 = mk();
    d1.start();
    d2.start();
    try {
      await waitFor(async () => (await pool.query("SELECT 1 FROM sluice_lineage_outbox WHERE attempts >= 2 AND last_error LIKE '%ECONNREFUSED%'")).rowCount, {
        what: 'failed attempts while nothing listens',
      });
      // Now the receiver is up but answers 503.
      receiver.down = true;
      await receiver.listen(port);
      await waitFor(() => receiver.rejected >= 3, { what: '503 answers' });
      let stats = await outboxStats(pool);
      assert.equal(stats.delivered, 0);
      assert.equal(stats.pending, runs * kinds.length);
      // Up: everything arrives.
      receiver.down = false;
      await waitFor(async () => (await outboxStats(pool)).pending === 0, { what: 'the outbox to drain', timeoutMs: 20_000 });
      stats = await outboxStats(pool);
      assert.equal(stats.delivered, runs * kinds.length);
    } finally {
      await d1.stop();
      await d2.stop();
      await receiver.close();
    }
    assert.equal(receiver.received.length, runs * kinds.length, 'each event exactly once');
    const byRun = new Map<string, RunEventType[]>();
    for (const e of receiver.received) {
      const list = byRun.get(e.run.runId) ?? [];
      list.push(e.eventType);
      byRun.set(e.run.runId, list);
      assert.ok(validateEvent(e).ok);
    }
    assert.equal(byRun.size, runs);
    for (const [, list] of byRun) assert.deepEqual(list, kinds, 'in order within the run');
    assert.ok(receiver.auth.every((a) => a === `Bearer ${token}`));
    assert.ok(logs.length > 0);
    assert.ok(!logs.some((l) => l.includes(token)), 'the token never reaches a log line');
    const errors = await pool.query<{ last_error: string | null }>('SELECT last_error FROM sluice_lineage_outbox');
    assert.ok(errors.rows.every((r) => r.last_error === null));
  });

  it('never delivers seq n+1 before n, even when n keeps failing', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    const sent: string[] = [];
    let failStart = true;
    /** A fake transport: it fails the START event of run-x on purpose, which a real receiver cannot be told to do per event. */
    const fake: LineageTransport = {
      kind: 'fake',
      async send(e: RunEvent) {
        if (failStart && e.eventType === 'START' && e.run.runId === runIdForJob('run-x')) throw new Error('rejected');
        sent.push(`${e.run.runId === runIdForJob('run-x') ? 'x' : 'y'}:${e.eventType}`);
      },
    };
    for (const id of ['run-x', 'run-y']) {
      await enqueueLineageEvent(pool, id, lineageSeq('START', 0), event(id, 'START'));
      await enqueueLineageEvent(pool, id, lineageSeq('COMPLETE', 0), event(id, 'COMPLETE'));
    }
    const d = new LineageDispatcher({ pool, transport: fake, backoff: { baseMs: 1, factor: 1, maxMs: 1, jitter: 0 } });
    for (let i = 0; i < 5; i++) {
      await d.runOnce();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(sent, ['y:START', 'y:COMPLETE']);
    const x = await pool.query<{ seq: number; attempts: number; delivered: boolean }>(
      "SELECT seq, attempts, delivered_at IS NOT NULL AS delivered FROM sluice_lineage_outbox WHERE run_key = 'run-x' ORDER BY seq",
    );
    assert.equal(x.rows[0]?.delivered, false);
    assert.ok((x.rows[0]?.attempts ?? 0) >= 5);
    assert.equal(x.rows[1]?.attempts, 0, 'COMPLETE was never tried');
    failStart = false;
    await d.runOnce();
    assert.deepEqual(sent, ['y:START', 'y:COMPLETE', 'x:START', 'x:COMPLETE']);
  });

  it('a run head held by one dispatcher is skipped by another (FOR UPDATE SKIP LOCKED)', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    await enqueueLineageEvent(pool, 'run-lock', 1, event('run-lock', 'START'));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: string[] = [];
    /** A fake transport that blocks until released, to hold the head's lock across a second pass. */
    const slow: LineageTransport = {
      kind: 'fake-slow',
      async send(e) {
        seen.push(`slow:${e.eventType}`);
        await gate;
      },
    };
    const fast: LineageTransport = {
      kind: 'fake-fast',
      async send(e) {
        seen.push(`fast:${e.eventType}`);
      },
    };
    const a = new LineageDispatcher({ pool, transport: slow });
    const b = new LineageDispatcher({ pool, transport: fast });
    const passA = a.runOnce();
    await waitFor(() => seen.length === 1, { what: 'dispatcher A to take the head' });
    const passB = await b.runOnce();
    assert.equal(passB.runs, 0);
    release();
    assert.equal((await passA).delivered, 1);
    assert.equal((await b.runOnce()).runs, 0);
    assert.deepEqual(seen, ['slow:START']);
  });

  it('an event the receiver refuses with 400 goes to the dead letters once; the rest of its run still arrives, in order', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    const receiver = new Receiver();
    await receiver.listen();
    const bad = runIdForJob('run-dl');
    let refusedTimes = 0;
    receiver.refuse = (e) => {
      const no = e.run.runId === bad && e.eventType === 'RUNNING';
      if (no) refusedTimes++;
      return no;
    };
    const kinds: RunEventType[] = ['START', 'RUNNING', 'COMPLETE'];
    for (const id of ['run-dl', 'run-ok']) {
      for (const k of kinds) await enqueueLineageEvent(pool, id, lineageSeq(k, 0), event(id, k));
    }
    const token = 'dl-secret-token';
    const logs: string[] = [];
    const logger = {
      info: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
      warn: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
    };
    const d = new LineageDispatcher({
      pool,
      transport: new HttpTransport({ url: `http://127.0.0.1:${receiver.port}`, apiKey: token, timeoutMs: 2000 }),
      pollIntervalMs: 20,
      backoff: FAST_BACKOFF,
      logger,
    });
    d.start();
    try {
      await waitFor(async () => (await outboxStats(pool)).pending === 0, { what: 'the outbox to settle', timeoutMs: 20_000 });
      // Several more passes: a dead letter is never tried again.
      for (let i = 0; i < 3; i++) await d.runOnce();
    } finally {
      await d.stop();
      await receiver.close();
    }
    assert.equal(refusedTimes, 1, 'the refused event was sent once, not retried');
    const got = receiver.received.map((e) => `${e.run.runId === bad ? 'dl' : 'ok'}:${e.eventType}`);
    assert.deepEqual(
      got.filter((g) => g.startsWith('dl:')),
      ['dl:START', 'dl:COMPLETE'],
    );
    assert.deepEqual(
      got.filter((g) => g.startsWith('ok:')),
      ['ok:START', 'ok:RUNNING', 'ok:COMPLETE'],
    );
    const stats = await outboxStats(pool);
    assert.deepEqual([stats.pending, stats.delivered, stats.deadLettered], [0, 5, 1]);
    const dead = await listDeadLetters(pool);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.runKey, 'run-dl');
    assert.equal(dead[0]?.eventType, 'RUNNING');
    assert.equal(dead[0]?.status, 400);
    assert.match(dead[0]?.error ?? '', /answered 400/);
    assert.match(dead[0]?.error ?? '', /Bearer \*\*\*/, 'the echoed token is masked');
    assert.ok(!JSON.stringify(dead).includes(token));
    assert.ok(logs.some((l) => l.includes('dead letters') && l.includes('"status":400') && l.includes('run-dl')));
    assert.ok(!logs.some((l) => l.includes(token)), 'the token never reaches a log line');

    // Once the receiver accepts it, an operator requeues the dead letter and it is delivered.
    const again = new Receiver();
    await again.listen();
    assert.equal(await requeueDeadLetters(pool), 1);
    const d2 = new LineageDispatcher({ pool, transport: new HttpTransport({ url: `http://127.0.0.1:${again.port}` }), backoff: FAST_BACKOFF });
    try {
      await d2.runOnce();
    } finally {
      await again.close();
    }
    assert.deepEqual(
      again.received.map((e) => e.eventType),
      ['RUNNING'],
    );
    assert.equal((await outboxStats(pool)).deadLettered, 0);
  });

  it('408 and 429 are retried, not dead-lettered', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    let status = 429;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await enqueueLineageEvent(pool, 'run-429', lineageSeq('START', 0), event('run-429', 'START'));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const d = new LineageDispatcher({ pool, transport: new HttpTransport({ url }), backoff: { baseMs: 1, factor: 1, maxMs: 1, jitter: 0 } });
      assert.equal((await d.runOnce()).failed, 1);
      status = 408;
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await d.runOnce()).failed, 1);
      status = 404;
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await d.runOnce()).deadLettered, 1);
      const s = await outboxStats(pool);
      assert.deepEqual([s.pending, s.deadLettered], [0, 1]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('delivered events past the retention are deleted in batches; pending events, dead letters and the lineage graph stay', async () => {
    await pool.query('TRUNCATE sluice_lineage_outbox');
    await pool.query('TRUNCATE sluice_lineage_edges');
    const sql = 'INSERT INTO hive.mart.kept SELECT a FROM hive.raw.src';
    for (let r = 0; r < 7; r++) {
      await enqueueLineageEvent(pool, `ret-${r}`, lineageSeq('START', 0), event(`ret-${r}`, 'START', sql));
      await enqueueLineageEvent(pool, `ret-${r}`, lineageSeq('COMPLETE', 0), event(`ret-${r}`, 'COMPLETE', sql));
    }
    await enqueueLineageEvent(pool, 'ret-pending', 1, event('ret-pending', 'START', sql));
    await enqueueLineageEvent(pool, 'ret-dead', 1, event('ret-dead', 'START', sql));
    // 14 delivered two days ago, one delivered just now, one pending, one dead letter.
    await pool.query("UPDATE sluice_lineage_outbox SET delivered_at = now() - interval '2 days' WHERE run_key LIKE 'ret-_'");
    await pool.query("UPDATE sluice_lineage_outbox SET delivered_at = now() WHERE run_key = 'ret-0' AND seq = $1", [lineageSeq('COMPLETE', 0)]);
    await pool.query("UPDATE sluice_lineage_outbox SET dead_at = now() - interval '2 days', dead_status = 400 WHERE run_key = 'ret-dead'");
    const before = await lineageGraph(pool, { dataset: 'hive.mart.kept', namespace: 'trino://t:8080', direction: 'up', depth: 3 });
    assert.ok(before.edges.length >= 2);

    const deletes: number[] = [];
    const d = new LineageDispatcher({
      pool,
      transport: { kind: 'unused', send: async () => undefined },
      retentionMs: 24 * 3_600_000,
      cleanupBatchSize: 4,
      cleanupMaxBatches: 2,
      logger: { info: (o: object) => deletes.push((o as { deleted: number }).deleted), warn: () => undefined },
    });
    // Two batches of 4 per call: bounded, the rest waits for the next round.
    assert.equal(await d.cleanup(), 8);
    assert.equal(await d.cleanup(), 5);
    assert.equal(await d.cleanup(), 0);
    assert.deepEqual(deletes, [8, 5]);
    const left = await pool.query<{ run_key: string }>('SELECT run_key FROM sluice_lineage_outbox ORDER BY run_key');
    assert.deepEqual(
      left.rows.map((r) => r.run_key),
      ['ret-0', 'ret-dead', 'ret-pending'],
    );
    const after = await lineageGraph(pool, { dataset: 'hive.mart.kept', namespace: 'trino://t:8080', direction: 'up', depth: 3 });
    assert.deepEqual(after, before, 'the graph does not depend on retained events');
    // retentionMs 0 keeps everything.
    const keep = new LineageDispatcher({ pool, transport: { kind: 'unused', send: async () => undefined }, retentionMs: 0 });
    await pool.query("UPDATE sluice_lineage_outbox SET delivered_at = now() - interval '2 days' WHERE run_key = 'ret-0'");
    assert.equal(await keep.cleanup(), 0);
  });
});
