import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LineageRecorder, StatementJournal } from '@sluice/entrance';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { type PgwireStack, startPgwireStack } from './pgwire/pgwire-stack.ts';

interface JobRecord {
  id: string;
  state: string;
  username: string;
  creator: string;
  engine_type: string;
  code: string;
  error: { code: string; message: string } | null;
  log_lines: number;
  labels: Record<string, string>;
  started_at: Date | null;
  finished_at: Date | null;
  manager_id: string | null;
  engine_id: string | null;
}

/**
 * The statement journal: interactive (pgwire) statements are recorded as jobs in batches once they
 * end, or as Running first when they run long, against the real PostgreSQL of the job store.
 */
describe('statement journal', () => {
  let s: PgwireStack;
  let db: pg.Client;
  const alice = { user: 'alice', admin: false };

  const job = async (id: string) => (await db.query<JobRecord>('SELECT * FROM sluice_jobs WHERE id = $1', [id])).rows[0];
  const history = async (id: string) =>
    (
      await db.query<{ from_state: string | null; to_state: string }>('SELECT from_state, to_state FROM sluice_job_states WHERE job_id = $1 ORDER BY id', [id])
    ).rows.map((r) => `${r.from_state ?? '-'}>${r.to_state}`);
  const logs = async (id: string) =>
    (await db.query<{ text: string }>('SELECT text FROM sluice_job_logs WHERE job_id = $1 ORDER BY line_no', [id])).rows.map((r) => r.text);
  const lineage = async (id: string) =>
    (
      await db.query<{ seq: number; type: string }>("SELECT seq, payload->>'eventType' AS type FROM sluice_lineage_outbox WHERE run_key = $1 ORDER BY seq", [
        id,
      ])
    ).rows.map((r) => r.type);
  const prepare = async (code: string) =>
    (await s.ts.stack.entrance.prepare(alice, { code, engineType: 'duckdb', creator: 'pgwire', labels: { test: 'journal' } })).job;

  before(async () => {
    s = await startPgwireStack({ overrides: { SLUICE_DENY_PATTERNS: '\\bdrop\\s+database\\b' } });
    db = new pg.Client({ connectionString: s.env.db.url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await s?.stop();
  });

  it('records a pgwire statement after it ends: final state, user, engine, timings, state history and log', async () => {
    const c = await s.connect('journal-ok');
    try {
      const r = await c.query('SELECT 41 + 1 AS answer');
      assert.equal(r.rows[0].answer, 42);
    } finally {
      await c.end();
    }
    const row = await waitFor(
      async () => (await db.query<JobRecord>("SELECT * FROM sluice_jobs WHERE labels->>'applicationName' = 'journal-ok' ORDER BY seq DESC LIMIT 1")).rows[0],
      { timeoutMs: 10_000, what: 'the statement to be recorded' },
    );
    assert.equal(row.state, 'Succeed');
    assert.equal(row.username, 'alice');
    assert.equal(row.creator, 'pgwire');
    assert.match(row.engine_type, /^duckdb/);
    assert.equal(row.code, 'SELECT 41 + 1 AS answer');
    assert.equal(row.labels['sluice.interactive'], 'true');
    assert.ok(row.engine_id, 'the engine that ran it');
    assert.ok(row.manager_id, 'the manager that ran it');
    assert.ok(row.started_at && row.finished_at && row.finished_at >= row.started_at, 'started and finished times');
    assert.deepEqual(await history(row.id), ['->Inited', 'Inited>Scheduled', 'Scheduled>Running', 'Running>Succeed']);
    const lines = await logs(row.id);
    assert.equal(row.log_lines, lines.length);
    assert.match(lines[0] ?? '', /interactive/);
    assert.equal(lines.at(-1), '1 row(s) streamed to the client');
    // It reads and writes no dataset: under the default SLUICE_LINEAGE_INTERACTIVE=datasets it has no lineage events.
    assert.deepEqual(await lineage(row.id), []);
    // The REST API lists it and shows it like any job.
    const listed = await s.ts.api(s.ts.tokens.alice).request<{ items: { id: string; state: string }[] }>('GET', '/api/v1/jobs?creator=pgwire&limit=50');
    assert.equal(listed.body.items.find((j) => j.id === row.id)?.state, 'Succeed');
    const one = await s.ts.api(s.ts.tokens.alice).request<{ state: string; finishedAt: string }>('GET', `/api/v1/jobs/${row.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.state, 'Succeed');
    assert.ok(one.body.finishedAt);
  });

  it('gives lineage events to the pgwire statements that write or read a dataset', async () => {
    const c = await s.connect('journal-lineage');
    try {
      await c.query('CREATE TEMP TABLE journal_answers AS SELECT 42 AS answer');
      assert.equal((await c.query('SELECT answer FROM journal_answers')).rows[0].answer, 42);
      await c.query('SELECT 41 + 1 AS answer');
    } finally {
      await c.end();
    }
    const rows = await waitFor(
      async () => {
        const r = await db.query<JobRecord>("SELECT * FROM sluice_jobs WHERE labels->>'applicationName' = 'journal-lineage' ORDER BY seq");
        return r.rows.length === 3 ? r.rows : undefined;
      },
      { timeoutMs: 10_000, what: 'the three statements to be recorded' },
    );
    assert.deepEqual(await Promise.all(rows.map(async (r) => [r.code, await lineage(r.id)])), [
      ['CREATE TEMP TABLE journal_answers AS SELECT 42 AS answer', ['START', 'COMPLETE']],
      ['SELECT answer FROM journal_answers', ['START', 'COMPLETE']],
      ['SELECT 41 + 1 AS answer', []],
    ]);
    const input = await db.query<{ name: string }>(
      "SELECT payload->'inputs'->0->>'name' AS name FROM sluice_lineage_outbox WHERE run_key = $1 AND payload->>'eventType' = 'COMPLETE'",
      [rows[1]?.id],
    );
    assert.match(input.rows[0]?.name ?? '', /journal_answers$/);
  });

  it('writes lineage events for every statement with lineageOf all, and only for those that touch a dataset with datasets', async () => {
    const recorder = new LineageRecorder({ namespace: 'test' });
    const run = { managerId: 'journal-test', engineId: 'engine-z', leaseMs: 30_000 };
    const written = async (lineageOf: 'all' | 'datasets', code: string) => {
      const journal = new StatementJournal({ store: s.ts.stack.store, log: s.ts.stack.log, lineage: recorder, lineageOf });
      const j = await prepare(code);
      journal.begin(j, run).end({ state: 'Succeed', logLines: [] });
      await journal.close();
      assert.equal((await job(j.id))?.state, 'Succeed', 'the statement is recorded either way');
      return lineage(j.id);
    };
    assert.deepEqual(await written('all', 'SELECT 41 + 1 AS answer'), ['START', 'COMPLETE']);
    assert.deepEqual(await written('datasets', 'SELECT 41 + 1 AS answer'), []);
    assert.deepEqual(await written('datasets', 'SELECT * FROM journal_some_table'), ['START', 'COMPLETE']);
  });

  it('records a failed pgwire statement as Failed with its error, its log and a FAIL lineage event', async () => {
    const c = await s.connect('journal-fail');
    try {
      await assert.rejects(c.query('SELECT * FROM no_such_table_here'), (e: { code?: string }) => e.code === '42P01');
    } finally {
      await c.end();
    }
    const row = await waitFor(
      async () => (await db.query<JobRecord>("SELECT * FROM sluice_jobs WHERE labels->>'applicationName' = 'journal-fail' ORDER BY seq DESC LIMIT 1")).rows[0],
      { timeoutMs: 10_000, what: 'the failed statement to be recorded' },
    );
    assert.equal(row.state, 'Failed');
    assert.ok(row.error, 'the error is kept');
    assert.match(row.error.message, /no_such_table_here/);
    assert.deepEqual(await history(row.id), ['->Inited', 'Inited>Scheduled', 'Scheduled>Running', 'Running>Failed']);
    assert.match((await logs(row.id)).at(-1) ?? '', /^ERROR SLUICE_\w+: .*no_such_table_here/);
    assert.deepEqual(await lineage(row.id), ['START', 'FAIL']);
  });

  it('still applies the statement policy: a denied statement is refused and runs nowhere', async () => {
    const c = await s.connect();
    try {
      await assert.rejects(
        c.query('DROP DATABASE prod'),
        (e: { code?: string; detail?: string }) => e.code === '42501' && /SLUICE_JOB_STATEMENT_DENIED/.test(e.detail ?? ''),
      );
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1, 'the session goes on');
    } finally {
      await c.end();
    }
  });

  it('writes a statement that runs long as Running while it runs, visible to the REST API, then ends it', async () => {
    const journal = new StatementJournal({
      store: s.ts.stack.store,
      log: s.ts.stack.log,
      lineage: new LineageRecorder({ namespace: 'test' }),
      runningAfterMs: 100,
    });
    const j = await prepare('SELECT 2 AS long_one');
    const entry = journal.begin(j, { managerId: 'journal-test', engineId: 'engine-x', leaseMs: 30_000 });
    assert.equal(await job(j.id), undefined, 'nothing is written at the start');
    const running = await waitFor(async () => job(j.id), { timeoutMs: 5_000, what: 'the Running row' });
    assert.equal(running.state, 'Running');
    const view = await s.ts.api(s.ts.tokens.alice).request<{ state: string }>('GET', `/api/v1/jobs/${j.id}`);
    assert.equal(view.body.state, 'Running');
    assert.deepEqual(await lineage(j.id), ['START']);
    entry.end({ state: 'Succeed', logLines: ['one line', 'two lines'] });
    const ended = await waitFor(async () => ((await job(j.id))?.state === 'Succeed' ? job(j.id) : undefined), { timeoutMs: 5_000, what: 'the end' });
    assert.equal(ended?.log_lines, 2);
    assert.deepEqual(await logs(j.id), ['one line', 'two lines']);
    assert.deepEqual(await history(j.id), ['->Inited', 'Inited>Scheduled', 'Scheduled>Running', 'Running>Succeed']);
    assert.deepEqual(await lineage(j.id), ['START', 'COMPLETE']);
    await journal.close();
  });

  it('a long pgwire statement is listed as Running while it runs and a REST cancel stops it (57014, Cancelled)', { timeout: 120_000 }, async () => {
    const c = await s.connect('journal-long');
    try {
      // It reads a table, so that it has lineage events (START now, ABORT when cancelled).
      await c.query('CREATE TEMP TABLE journal_long_input AS SELECT 1 AS x');
      const q = c.query('SELECT count(*) FROM journal_long_input, range(2000000000) a, range(1000) b');
      q.catch(() => {});
      const api = s.ts.api(s.ts.tokens.alice);
      const running = await waitFor(
        async () => {
          const list = await api.request<{ items: { id: string; state: string; labels: Record<string, string> }[] }>(
            'GET',
            '/api/v1/jobs?creator=pgwire&limit=20',
          );
          return list.body.items.find((j) => j.labels.applicationName === 'journal-long' && j.state === 'Running');
        },
        { timeoutMs: 20_000, what: 'the long statement listed as Running' },
      );
      const cancel = await api.request<{ state: string }>('POST', `/api/v1/jobs/${running.id}/cancel`);
      assert.equal(cancel.status, 200);
      await assert.rejects(q, (e: { code?: string }) => e.code === '57014');
      const ended = await waitFor(async () => ((await job(running.id))?.state === 'Cancelled' ? job(running.id) : undefined), {
        timeoutMs: 20_000,
        what: 'the statement recorded Cancelled',
      });
      assert.equal(ended?.error?.code, 'SLUICE_JOB_CANCELLED');
      assert.deepEqual(await lineage(running.id), ['START', 'ABORT']);
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1, 'the session goes on');
    } finally {
      await c.end();
    }
  });

  it('keeps short statements in memory until a flush, writes many in one batch, and flushes what is left on close', async () => {
    const journal = new StatementJournal({ store: s.ts.stack.store, log: s.ts.stack.log, flushMs: 60_000, runningAfterMs: 60_000 });
    const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => prepare(`SELECT ${i} AS n`)));
    for (const [i, j] of jobs.entries()) {
      const e = journal.begin(j, { managerId: 'journal-test', engineId: 'engine-y', leaseMs: 30_000 });
      e.end(
        i === 4
          ? { state: 'Cancelled', error: { code: 'SLUICE_JOB_CANCELLED', message: 'The job was cancelled', details: {} }, logLines: [] }
          : { state: 'Succeed', logLines: [`line ${i}`] },
      );
    }
    assert.equal(journal.backlog, 5);
    await new Promise((r) => setTimeout(r, 200));
    for (const j of jobs) assert.equal(await job(j.id), undefined, 'not written before the flush');
    await journal.close();
    assert.equal(journal.backlog, 0);
    const rows = (await db.query<JobRecord>('SELECT * FROM sluice_jobs WHERE id = ANY($1) ORDER BY seq', [jobs.map((j) => j.id)])).rows;
    assert.deepEqual(
      rows.map((r) => r.state),
      ['Succeed', 'Succeed', 'Succeed', 'Succeed', 'Cancelled'],
    );
    assert.equal(rows[4]?.error?.code, 'SLUICE_JOB_CANCELLED');
    assert.deepEqual(await logs(jobs[2]?.id ?? ''), ['line 2']);
    // After close a statement is written as it starts (a stopping process keeps nothing in memory).
    const late = await prepare('SELECT 9');
    const e = journal.begin(late, { managerId: 'journal-test', engineId: 'engine-y', leaseMs: 30_000 });
    assert.equal((await waitFor(async () => job(late.id), { timeoutMs: 5_000, what: 'the late statement' })).state, 'Running');
    e.end({ state: 'Succeed', logLines: [] });
    await journal.close();
    assert.equal((await job(late.id))?.state, 'Succeed');
  });

  it('writes a steady stream of statements one flush window per batch, not a small batch after every write', async () => {
    const journal = new StatementJournal({ store: s.ts.stack.store, log: s.ts.stack.log, flushMs: 50, runningAfterMs: 60_000 });
    const jobs = await Promise.all(Array.from({ length: 120 }, (_, i) => prepare(`SELECT ${i} AS steady`)));
    const started = Date.now();
    for (const j of jobs) {
      journal.begin(j, { managerId: 'journal-test', engineId: 'engine-z', leaseMs: 30_000 }).end({ state: 'Succeed', logLines: [] });
      await new Promise((r) => setTimeout(r, 4));
    }
    await journal.close();
    const elapsed = Date.now() - started;
    // Rows written by one flush share its transaction id.
    const r = await db.query<{ rows: number; flushes: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT xmin::text)::int AS flushes FROM sluice_jobs WHERE id = ANY($1)',
      [jobs.map((j) => j.id)],
    );
    assert.equal(r.rows[0]?.rows, 120, 'every statement is recorded');
    // One write per window of 50 ms, and the one at close. Writing again at once whatever finished
    // during a write made it about one write per statement or two.
    const flushes = r.rows[0]?.flushes ?? 0;
    assert.ok(flushes <= Math.ceil(elapsed / 50) + 1, `${flushes} flushes over ${elapsed} ms`);
  });

  it('a record the database refuses costs only itself, and characters jsonb cannot hold are dropped, not the record', async () => {
    const run = { managerId: 'journal-test', engineId: 'engine-z', leaseMs: 30_000 };
    const [dup, nul, surrogate] = await Promise.all([prepare('SELECT 11'), prepare('SELECT 12'), prepare('SELECT 13')]);
    if (!dup || !nul || !surrogate) throw new Error('prepared');
    const first = new StatementJournal({ store: s.ts.stack.store, log: s.ts.stack.log, flushMs: 60_000, runningAfterMs: 60_000 });
    first.begin(dup, run).end({ state: 'Succeed', logLines: ['first'] });
    await first.close();
    const journal = new StatementJournal({ store: s.ts.stack.store, log: s.ts.stack.log, flushMs: 60_000, runningAfterMs: 60_000 });
    // The same job again: its id is taken, so PostgreSQL refuses it (a unique violation).
    journal.begin(dup, run).end({ state: 'Failed', logLines: ['second'] });
    journal.begin(nul, run).end({ state: 'Succeed', logLines: ['before\u0000after'] });
    journal
      .begin(surrogate, run)
      .end({ state: 'Failed', error: { code: 'SLUICE_ENGINE_QUERY_FAILED', message: 'bad \ud800 text', details: {} }, logLines: ['x'] });
    await journal.close();
    assert.equal((await job(dup.id))?.state, 'Succeed', 'the first record stays');
    assert.deepEqual(await logs(dup.id), ['first']);
    assert.equal((await job(nul.id))?.state, 'Succeed');
    assert.deepEqual(await logs(nul.id), ['beforeafter']);
    const bad = await job(surrogate.id);
    assert.equal(bad?.state, 'Failed');
    assert.equal(bad?.error?.message, 'bad \ufffd text');
  });

  it('the stack writes the records of the last statements when it stops', async () => {
    const own = await startPgwireStack();
    const c = await own.connect('journal-stop');
    await c.query('SELECT 7');
    await c.end();
    const url = own.env.db.url;
    // Stop at once, within the flush interval: what is in memory must reach PostgreSQL.
    await own.pg.close();
    await own.ts.stop();
    const after = new pg.Client({ connectionString: url });
    await after.connect();
    try {
      const r = await after.query<{ state: string }>("SELECT state FROM sluice_jobs WHERE labels->>'applicationName' = 'journal-stop'");
      assert.deepEqual(
        r.rows.map((x) => x.state),
        ['Succeed'],
      );
    } finally {
      await after.end();
      await own.env.cleanup();
    }
  });
});
