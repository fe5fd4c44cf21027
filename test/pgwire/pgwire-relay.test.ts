import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { addOrdersDataSource, type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { cstr, errorFields, rawLogin } from './raw-wire.ts';
import { runProcess } from './run-process.ts';

interface JobItem {
  id: string;
  state: string;
  code: string;
  labels: Record<string, string>;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * A connection to a PostgreSQL data source gets a session of its own, relayed byte for byte (ADR
 * 17), against a real PostgreSQL server: real transactions, the server's own answers, and still a
 * job for every statement, checked by the statement policy and changed by the interceptors.
 */
describe('pgwire relay to a PostgreSQL data source', () => {
  let s: PgwireStack;
  let ordersPg: Awaited<ReturnType<typeof addOrdersDataSource>>;
  let direct: pg.Client;

  const connect = async (appName: string, database = 'orders_pg') => {
    const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database, application_name: appName });
    await c.connect();
    return c;
  };
  /** The jobs of the connection whose application name is `appName`, oldest first, once `count` are final. */
  const jobsOf = (appName: string, count: number) =>
    waitFor(
      async () => {
        const r = await direct.query<JobItem>(
          "SELECT id, state, code, labels, error FROM sluice_jobs WHERE creator = 'pgwire' AND labels->>'applicationName' = $1 AND state <> 'Running' ORDER BY created_at, seq",
          [appName],
        );
        return r.rows.length >= count ? r.rows : undefined;
      },
      // A fresh stack's lineage worker warms its grammars for seconds before the first records are written.
      { timeoutMs: 30_000, what: `${count} recorded statements of ${appName}` },
    );

  before(async () => {
    s = await startPgwireStack({ overrides: { SLUICE_DENY_PATTERNS: '\\btruncate\\b', SLUICE_SELECT_ROW_LIMIT: '0' } });
    ordersPg = await addOrdersDataSource(s);
    direct = new pg.Client({ connectionString: s.env.db.url });
    await direct.connect();
  });
  after(async () => {
    await direct?.end();
    await s?.stop();
    await ordersPg?.drop();
  });

  it("answers with the data source's own session: its user, its backend, one per connection", async () => {
    const a = await connect('relay-who-a');
    const b = await connect('relay-who-b');
    try {
      const who = await a.query<{ u: string; pid: number }>('SELECT current_user AS u, pg_backend_pid() AS pid');
      assert.equal(who.rows[0]?.u, ordersPg.role, 'the statement ran as the data source role, on the server itself');
      const other = await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      assert.notEqual(other.rows[0]?.pid, who.rows[0]?.pid, 'each connection has a session of its own');
      // Session state stays with its connection.
      await a.query('CREATE TEMP TABLE mine (n int)');
      await assert.rejects(b.query('SELECT * FROM mine'), (e: Error & { code?: string }) => e.code === '42P01');
      const seen = await direct.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [who.rows[0]?.pid]);
      assert.equal(seen.rows[0]?.n, 1);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it("sets up the server's session as the client was told at start-up: TimeZone, search_path, application_name", async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice, 'orders_pg', {
      TimeZone: 'Asia/Tokyo',
      search_path: 'public, pg_catalog',
      application_name: 'relay-setup',
    });
    try {
      w.send('Q', cstr("SELECT current_setting('TimeZone'), current_setting('search_path'), current_setting('application_name')"));
      const row = await w.until('D');
      assert.ok(row, 'a DataRow');
      const values: string[] = [];
      for (let at = 2, i = 0; i < row.body.readInt16BE(0); i++) {
        const len = row.body.readInt32BE(at);
        values.push(row.body.toString('utf8', at + 4, at + 4 + len));
        at += 4 + len;
      }
      assert.deepEqual(values, ['Asia/Tokyo', 'public, pg_catalog', 'relay-setup']);
    } finally {
      w.socket.destroy();
    }
  });

  it('keeps real transactions: ROLLBACK undoes, COMMIT keeps, and others see neither before the commit', async () => {
    const c = await connect('relay-tx');
    try {
      await c.query('BEGIN');
      await c.query("INSERT INTO public.orders VALUES (100, 1.00, 'rolled back', NULL)");
      assert.equal((await c.query('SELECT 1 FROM public.orders WHERE id = 100')).rowCount, 1, 'the transaction sees its own insert');
      assert.equal((await direct.query('SELECT 1 FROM public.orders WHERE id = 100')).rowCount, 0, 'nobody else sees it yet');
      await c.query('ROLLBACK');
      assert.equal((await direct.query('SELECT 1 FROM public.orders WHERE id = 100')).rowCount, 0, 'ROLLBACK undid it');

      await c.query('BEGIN');
      await c.query("INSERT INTO public.orders VALUES (101, 2.00, 'committed', NULL)");
      assert.equal((await direct.query('SELECT 1 FROM public.orders WHERE id = 101')).rowCount, 0);
      await c.query('COMMIT');
      assert.equal((await direct.query('SELECT 1 FROM public.orders WHERE id = 101')).rowCount, 1, 'COMMIT kept it');

      // A failed statement fails the transaction, as PostgreSQL does.
      await c.query('BEGIN');
      await assert.rejects(c.query('SELECT * FROM no_such_table'), (e: Error & { code?: string }) => e.code === '42P01');
      await assert.rejects(c.query('SELECT 1'), (e: Error & { code?: string }) => e.code === '25P02');
      await c.query('ROLLBACK');
      assert.equal((await c.query('SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await c.end();
    }
  });

  it('records every statement as a job with its rows, command tag and errors; transaction control is session state', async () => {
    const app = `relay-jobs-${Date.now()}`;
    const c = await connect(app);
    try {
      await c.query('BEGIN');
      await c.query('SELECT id FROM public.orders WHERE id < 3 ORDER BY id');
      await c.query('SELECT * FROM public.orders WHERE id = $1', [2]);
      await assert.rejects(c.query('SELECT * FROM missing_table'));
      await c.query('ROLLBACK');
      await c.query('SELECT 1; SELECT 2 AS two');
    } finally {
      await c.end();
    }
    const jobs = await jobsOf(app, 5);
    assert.deepEqual(
      jobs.map((j) => [j.code, j.state]),
      [
        ['SELECT id FROM public.orders WHERE id < 3 ORDER BY id', 'Succeed'],
        ['SELECT * FROM public.orders WHERE id = $1', 'Succeed'],
        ['SELECT * FROM missing_table', 'Failed'],
        ['SELECT 1', 'Succeed'],
        ['SELECT 2 AS two', 'Succeed'],
      ],
    );
    const failed = jobs[2] as JobItem;
    assert.equal(failed.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(failed.error?.details?.sqlState, '42P01');
    assert.equal(failed.labels.pgwireConnection, jobs[0]?.labels.pgwireConnection);
    const log = await s.ts.api(s.ts.tokens.alice).request<{ lines: { text: string }[] }>('GET', `/api/v1/jobs/${jobs[0]?.id}/log`);
    const text = log.body.lines.map((l) => l.text).join('\n');
    assert.match(text, /SELECT 2\b/, 'the command tag');
    assert.match(text, /2 row\(s\) streamed to the client/);
  });

  it('records a statement the server refuses at Parse or Bind in the extended protocol as a Failed job', async () => {
    const app = `relay-refused-${Date.now()}`;
    const c = await connect(app);
    try {
      // node-postgres sends a query with parameters as Parse, Bind, Describe, Execute, Sync.
      await assert.rejects(c.query('SELECT * FROM missing_relay_table WHERE id = $1', [1]), (e: { code?: string }) => e.code === '42P01');
      await assert.rejects(c.query('SELECT $1::int AS n', ['not a number']), (e: { code?: string }) => e.code === '22P02');
      assert.equal((await c.query('SELECT $1::int AS n', [7])).rows[0].n, 7, 'the session goes on');
    } finally {
      await c.end();
    }
    const jobs = await jobsOf(app, 3);
    assert.deepEqual(
      jobs.map((j) => [j.code, j.state, j.error?.details?.sqlState ?? null]),
      [
        ['SELECT * FROM missing_relay_table WHERE id = $1', 'Failed', '42P01'],
        ['SELECT $1::int AS n', 'Failed', '22P02'],
        ['SELECT $1::int AS n', 'Succeed', null],
      ],
    );
  });

  it('refuses a statement the policy denies, in the simple and the extended protocol, and goes on', async () => {
    const c = await connect('relay-policy');
    try {
      await assert.rejects(c.query('TRUNCATE public.orders'), (e: Error) => /truncate/i.test(e.message));
      // A named statement: node-postgres sends Parse/Bind/Execute/Sync, and the Parse is refused.
      await assert.rejects(c.query({ name: 'trunc', text: 'TRUNCATE public.orders', values: [] }), (e: Error) => /truncate/i.test(e.message));
      await assert.rejects(
        c.query('SELECT 1; TRUNCATE public.orders'),
        (e: Error) => /truncate/i.test(e.message),
        'one denied statement refuses its whole query',
      );
      // Transaction control and settings reach the server too, so they pass the policy as well.
      await assert.rejects(c.query('LISTEN "truncate"'), (e: Error) => /truncate/i.test(e.message));
      assert.equal((await c.query('SELECT $1::int AS n', [7])).rows[0]?.n, 7, 'the connection is usable after the refusals');
      assert.equal((await direct.query('SELECT count(*)::int AS n FROM public.orders WHERE id IN (1, 2)')).rows[0]?.n, 2, 'nothing was truncated');
    } finally {
      await c.end();
    }
  });

  it('refuses the function call protocol (a call by OID, no SQL text to check) and goes on', async () => {
    const w = await rawLogin(s.port, 'alice', s.ts.tokens.alice, 'orders_pg');
    try {
      // FunctionCall: the OID of pg_backend_pid(), no argument formats, no arguments, a text result.
      const call = Buffer.alloc(10);
      call.writeInt32BE(2026, 0);
      w.send('F', call);
      const err = await w.until('E');
      assert.ok(err);
      assert.equal(errorFields(err.body).C, '0A000');
      assert.ok(await w.until('Z'), 'ReadyForQuery after the refusal');
      w.send('Q', cstr('SELECT 1'));
      assert.ok(await w.until('D'), 'the connection goes on');
    } finally {
      w.socket.destroy();
    }
  });

  it('sends the text the interceptors made: variables substituted', async () => {
    const c = await connect('relay-vars');
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Sluice variable, substituted before the server sees it
      const r = await c.query<{ d: string }>("SELECT '${run_date}' AS d");
      assert.match(r.rows[0]?.d ?? '', /^\d{8}$/, 'the server got the substituted text');
    } finally {
      await c.end();
    }
  });

  it("copies rows in and out with the server's COPY (psql's \\copy and COPY TO STDOUT)", async () => {
    const psql = (sql: string, input?: string) =>
      runProcess('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(s.port), '-U', 'alice', '-d', 'orders_pg', '-c', sql], {
        env: { PGPASSWORD: s.ts.tokens.alice, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '20' },
        input,
      });
    const load = await psql('\\copy public.orders (id, amount, note) FROM STDIN WITH (FORMAT csv)', '200,3.50,copied\n201,4.25,\n');
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /COPY 2/);
    const rows = await direct.query('SELECT id, amount::text, note FROM public.orders WHERE id >= 200 ORDER BY id');
    assert.deepEqual(rows.rows, [
      { id: 200, amount: '3.50', note: 'copied' },
      { id: 201, amount: '4.25', note: null },
    ]);
    const dump = await psql('COPY (SELECT id, note FROM public.orders WHERE id >= 200 ORDER BY id) TO STDOUT WITH (FORMAT csv)');
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.stdout, '200,copied\n201,\n');
  });

  it('switches to another target with SET sluice.engine, but not inside a transaction', async () => {
    const c = await connect('relay-switch');
    try {
      assert.equal((await c.query('SHOW sluice.datasource')).rows[0]?.['sluice.datasource'], 'orders_pg');
      await c.query('BEGIN');
      await assert.rejects(c.query('SET sluice.engine = duckdb'), (e: Error & { code?: string }) => e.code === '25001');
      await c.query('ROLLBACK');
      await c.query('SET sluice.engine = duckdb');
      const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM range(3)');
      assert.equal(String(r.rows[0]?.n), '3', 'DuckDB answered');
      await c.query('SET sluice.datasource = orders_pg');
      assert.equal((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM public.orders WHERE id < 3')).rows[0]?.n, 2);
    } finally {
      await c.end();
    }
  });

  it('cancels a running statement with a CancelRequest; the job ends Cancelled and the connection goes on', async () => {
    const app = `relay-cancel-${Date.now()}`;
    const c = await connect(app);
    try {
      const started = Date.now();
      const sleeping = c.query('SELECT pg_sleep(30)');
      await new Promise((r) => setTimeout(r, 500));
      const canceller = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password: s.ts.tokens.alice, database: 'orders_pg' });
      (canceller as unknown as { cancel(client: pg.Client, query: unknown): void }).cancel(c, (c as unknown as { activeQuery: unknown }).activeQuery);
      await assert.rejects(sleeping, (e: Error & { code?: string }) => e.code === '57014');
      assert.ok(Date.now() - started < 10_000);
      assert.equal((await c.query('SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await c.end();
    }
    // A statement that ran past 150 ms was written as Running when it passed that, so it need not list first.
    const jobs = await jobsOf(app, 2);
    assert.equal(jobs.find((j) => j.code === 'SELECT pg_sleep(30)')?.state, 'Cancelled');
  });

  it('closes the connection with FATAL when the data source session dies, and serves the next connection', async () => {
    const c = await connect('relay-lost');
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await direct.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(async () => (errors.length > 0 ? true : undefined), { timeoutMs: 10_000, what: 'the client told of the loss' });
    await c.end().catch(() => {});
    const next = await connect('relay-after-loss');
    try {
      assert.equal((await next.query('SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await next.end();
    }
  });
});
