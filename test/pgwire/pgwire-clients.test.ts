import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@sluice/testkit';
import pg from 'pg';
import { addOrdersDataSource, type PgwireStack, startPgwireStack } from './pgwire-stack.ts';
import { cstr, rawLogin } from './raw-wire.ts';
import { ensureClients, keyValues, runProcess } from './run-process.ts';

/**
 * Real clients no one here wrote — psql, pgJDBC, psycopg and node-postgres — against the pgwire
 * listener of a real Sluice stack (DuckDB engine, and the JDBC engine on a real PostgreSQL).
 */
describe('pgwire with real PostgreSQL clients', () => {
  let s: PgwireStack;
  let clients: ReturnType<typeof ensureClients>;
  let alice: string;
  let ordersPg: Awaited<ReturnType<typeof addOrdersDataSource>> | undefined;

  const psql = (args: string[], opts: { password?: string; user?: string; timeoutMs?: number; onSpawn?: (pid: number) => void; appName?: string } = {}) =>
    runProcess('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(s.port), '-U', opts.user ?? 'alice', ...args], {
      env: { PGPASSWORD: opts.password ?? alice, PGCONNECT_TIMEOUT: '20', PGSSLMODE: 'disable', ...(opts.appName ? { PGAPPNAME: opts.appName } : {}) },
      timeoutMs: opts.timeoutMs ?? 60_000,
      onSpawn: opts.onSpawn,
    });
  const java = (mode: string, db: string, password: string, extra: string[] = []) =>
    runProcess(
      'java',
      [
        '-cp',
        `${clients.jar}${path.delimiter}${clients.classes}`,
        'PgJdbcProbe',
        mode,
        `jdbc:postgresql://127.0.0.1:${s.port}/${db}`,
        'alice',
        password,
        ...extra,
      ],
      { timeoutMs: 120_000 },
    );
  const python = (mode: string, conninfo: string) =>
    runProcess('python3', [path.join(import.meta.dirname, 'psycopg_probe.py'), mode, conninfo], {
      env: { PYTHONPATH: clients.pythonPath },
      timeoutMs: 120_000,
    });
  const conninfo = (db: string, password = alice) => `host=127.0.0.1 port=${s.port} user=alice dbname=${db} password=${password} sslmode=disable`;

  before(async () => {
    clients = ensureClients();
    s = await startPgwireStack();
    alice = s.ts.tokens.alice;
    ordersPg = await addOrdersDataSource(s);
  });
  after(async () => {
    await s?.stop();
    await ordersPg?.drop();
  });

  describe('psql', () => {
    it('runs a query on DuckDB and prints every type as PostgreSQL would', async () => {
      const r = await psql([
        '-d',
        'duckdb',
        '-At',
        '-F',
        '|',
        '-c',
        "SELECT 42::INTEGER, 9007199254740993::BIGINT, 1.50::DECIMAL(10,2), 0.25::DOUBLE, true, 'a|b', DATE '2024-02-29', TIMESTAMP '2024-03-01 12:34:56.5', [1,2,NULL], ['x y', 'z'], NULL::VARCHAR IS NULL",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '42|9007199254740993|1.50|0.25|t|a|b|2024-02-29|2024-03-01 12:34:56.5|{1,2,NULL}|{"x y",z}|t');
    });

    it('runs several statements of one query, each a job on the same engine session (temp tables persist)', async () => {
      const r = await psql([
        '-d',
        'duckdb',
        '-At',
        '-c',
        'CREATE TEMP TABLE t AS SELECT range AS n FROM range(5); INSERT INTO t VALUES (10); SELECT sum(n) FROM t',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['CREATE TABLE', 'INSERT 0 1', '20']);
      // Each statement's record is written just behind it: wait until the last three are this connection's.
      const items = await waitFor(
        async () => {
          const jobs = await s.ts
            .api(alice)
            .request<{ items: { creator: string; labels: Record<string, string> }[] }>('GET', '/api/v1/jobs?creator=pgwire&limit=3');
          const got = jobs.body.items;
          return got.length === 3 && got.every((j) => j.labels.pgwireConnection === got[0]?.labels.pgwireConnection) ? got : undefined;
        },
        { timeoutMs: 10_000, what: "the three statements' jobs, all of one connection" },
      );
      assert.equal(items.length, 3);
    });

    it('reports command tags, and SET/SHOW of Sluice routing within a session', async () => {
      const r = await psql([
        '-d',
        'duckdb',
        '-c',
        'CREATE TEMP TABLE tags (n INTEGER)',
        '-c',
        'INSERT INTO tags SELECT range FROM range(3)',
        '-c',
        'SET sluice.datasource = orders_pg',
        '-c',
        'SHOW sluice.datasource',
        '-c',
        'SELECT count(*) AS orders FROM public.orders',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /CREATE TABLE/);
      assert.match(r.stdout, /INSERT 0 3/);
      assert.match(r.stdout, /SET/);
      assert.match(r.stdout, /orders_pg/);
      assert.match(r.stdout, /orders\s*\n-+\s*\n\s*2\s*\n/);
    });

    it('routes by database name to a PostgreSQL data source and answers \\dt and \\d from it', async () => {
      const dt = await psql(['-d', 'orders_pg', '-c', '\\dt public.*']);
      assert.equal(dt.code, 0, dt.stderr);
      assert.match(dt.stdout, /public\s*\|\s*orders\s*\|\s*table/);
      const d = await psql(['-d', 'orders_pg', '-c', '\\d public.orders']);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /id\s*\|\s*integer\s*\|\s*\|\s*not null/);
      assert.match(d.stdout, /amount\s*\|\s*numeric\(12,2\)/);
      assert.match(d.stdout, /placed\s*\|\s*timestamp with time zone/);
    });

    it('fails a wrong token with a clear authentication error (28P01)', async () => {
      const r = await psql(['-d', 'duckdb', '-c', 'SELECT 1'], { password: 'slk_not-a-real-token' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /FATAL: {2}password authentication failed for user "alice"/);
      const other = await psql(['-d', 'duckdb', '-c', 'SELECT 1'], { password: s.ts.tokens.bob });
      assert.match(other.stderr, /password authentication failed for user "alice"/, 'a token of another user is refused');
    });

    it('fails an unknown database with a clear error (3D000)', async () => {
      const r = await psql(['-d', 'no_such_db', '-c', 'SELECT 1']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /FATAL: {2}database "no_such_db" does not exist/);
    });

    it('reports a syntax error with its SQLSTATE and the engine message', async () => {
      const r = await psql(['-d', 'duckdb', '-v', 'VERBOSITY=verbose', '-c', 'SELEC 1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ERROR: {2}42601: Parser Error: syntax error/);
    });

    it('cancels the running Sluice job on SIGINT (psql sends a CancelRequest)', async () => {
      let pid = 0;
      const started = Date.now();
      const appName = `psql-cancel-${Date.now()}`;
      const run = psql(['-d', 'duckdb', '-c', 'SELECT count(*) FROM range(2000000000) a, range(1000) b'], { onSpawn: (p) => (pid = p), appName });
      await new Promise((r) => setTimeout(r, 3000));
      process.kill(pid, 'SIGINT');
      const r = await run;
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /canceling statement due to user request/);
      assert.ok(Date.now() - started < 30_000);
      // The statement's job (found by the application name psql sent) ends Cancelled; its end is
      // recorded just behind the statement, so it is waited for.
      const job = await waitFor(
        async () => {
          const jobs = await s.ts
            .api(alice)
            .request<{ items: { state: string; labels: Record<string, string> }[] }>('GET', '/api/v1/jobs?creator=pgwire&limit=20');
          const mine = jobs.body.items.find((j) => j.labels.applicationName === appName);
          return mine && mine.state !== 'Running' ? mine : undefined;
        },
        { timeoutMs: 20_000, what: 'the cancelled statement to be recorded' },
      );
      assert.equal(job.state, 'Cancelled');
    });
  });

  describe('pgJDBC', () => {
    it('binds prepared-statement parameters and reads every type back, in text and binary results', async () => {
      const r = await java('types', 'duckdb', alice);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      for (let round = 0; round < 7; round++) {
        const g = (k: string) => kv.get(`r${round}.${k}`)?.[0];
        assert.equal(g('i'), String(42 + round));
        assert.equal(g('b'), '9007199254740993');
        assert.equal(g('d'), '12345678901234.5678');
        assert.equal(g('f'), '0.1');
        assert.equal(g('t'), 'true');
        assert.equal(g('s'), 'it\'s "quoted" ünïcødé; DROP TABLE x; --');
        assert.equal(g('dt'), '2024-02-29');
        assert.equal(g('ts'), '2024-03-01 12:34:56.789');
        assert.equal(g('arr'), '3:1,2,null');
        assert.equal(g('sarr'), 'a|b c');
        assert.equal(g('n_null'), 'true');
        assert.equal(g('type.d'), 'numeric');
      }
      assert.equal(kv.get('syntax.sqlstate')?.[0], '42601');
      assert.equal(kv.get('after_error')?.[0], '7');
    });

    it('cancels a running statement with Statement.cancel() (57014) and keeps the connection usable', async () => {
      const r = await java('cancel', 'duckdb', alice);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      assert.equal(kv.get('cancel.sqlstate')?.[0], '57014');
      assert.ok(Number(kv.get('cancel.ms')?.[0]) < 30_000);
      assert.equal(kv.get('after_cancel')?.[0], 'still usable');
    });

    it('fetches with a fetch size through portals suspended at max rows', async () => {
      const r = await java('fetch', 'duckdb', alice);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      assert.equal(kv.get('fetch.count')?.[0], '2500');
      assert.equal(kv.get('fetch.sum')?.[0], String((2499 * 2500) / 2));
    });

    it('answers DatabaseMetaData.getTables/getColumns on a PostgreSQL data source', async () => {
      const r = await java('metadata', 'orders_pg', alice, ['orders']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      assert.deepEqual(kv.get('table'), ['public.orders:TABLE']);
      assert.deepEqual(kv.get('column'), ['id:int4:4:1:NO', 'amount:numeric:2:2:NO', 'note:text:12:3:YES', 'placed:timestamptz:93:4:YES']);
    });

    it('reports failed authentication and an unknown database with their SQLSTATEs', async () => {
      const bad = keyValues((await java('login', 'duckdb', 'slk_wrong')).stdout);
      assert.equal(bad.get('sqlstate')?.[0], '28P01');
      assert.match(bad.get('message')?.[0] ?? '', /password authentication failed for user "alice"/);
      const db = keyValues((await java('login', 'missing_db', alice)).stdout);
      assert.equal(db.get('sqlstate')?.[0], '3D000');
      assert.match(db.get('message')?.[0] ?? '', /database "missing_db" does not exist/);
    });
  });

  describe('psycopg 3', () => {
    it('sends parameters and reads every type back, in text and in binary cursors', async () => {
      const r = await python('types', conninfo('duckdb'));
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      for (const p of ['txt.', 'bin.']) {
        const g = (k: string) => kv.get(p + k)?.[0];
        assert.equal(g('i'), 'int:42');
        assert.equal(g('b'), 'int:9007199254740993');
        assert.equal(g('d'), "Decimal:Decimal('12345678901234.5678')");
        assert.equal(g('f'), 'float:0.1');
        assert.equal(g('t'), 'bool:True');
        assert.equal(g('s'), 'str:"it\'s ünïcødé"');
        assert.equal(g('dt'), 'date:datetime.date(2024, 2, 29)');
        assert.equal(g('ts'), 'datetime:datetime.datetime(2024, 3, 1, 12, 34, 56, 789000)');
        assert.match(g('tz') ?? '', /^datetime:datetime\.datetime\(2024, 3, 1, 10, 0, tzinfo=/);
        assert.equal(g('arr'), 'list:[1, 2, None]');
        assert.equal(g('n'), 'NoneType:None');
      }
    });

    it('runs server-side prepared statements', async () => {
      const r = await python('prepared', conninfo('duckdb'));
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(keyValues(r.stdout).get('prepared.total')?.[0], '30');
    });

    it('cancels with connection.cancel() (QueryCanceled, 57014)', async () => {
      const r = await python('cancel', conninfo('duckdb'));
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kv = keyValues(r.stdout);
      assert.equal(kv.get('cancel.sqlstate')?.[0], '57014');
      assert.equal(kv.get('after_cancel')?.[0], 'still usable');
    });

    it('reports failed authentication and an unknown database clearly', async () => {
      const bad = await python('login', conninfo('duckdb', 'slk_wrong'));
      assert.match(bad.stdout, /password authentication failed for user "alice"/);
      const db = await python('login', conninfo('nowhere'));
      assert.match(db.stdout, /database "nowhere" does not exist/);
    });
  });

  describe('node-postgres', () => {
    const client = (db = 'duckdb', password = alice) =>
      new pg.Client({ host: '127.0.0.1', port: s.port, user: 'alice', password, database: db, connectionTimeoutMillis: 20_000 });

    it('runs parameterised queries and parses the types', async () => {
      const c = client();
      await c.connect();
      try {
        const r = await c.query(
          "SELECT $1::INTEGER + 1 AS i, $2::BIGINT AS b, $3::DECIMAL(10,3) AS d, $4 AS s, $5::BOOLEAN AS t, $6::DATE AS dt, TIMESTAMPTZ '2024-03-01 12:00:00+00' AS tz, [1.5, 2.5] AS arr",
          [41, '9007199254740993', '3.142', "x'y", true, '2024-02-29'],
        );
        const row = r.rows[0];
        assert.equal(row.i, 42);
        assert.equal(row.b, '9007199254740993');
        assert.equal(row.d, '3.142');
        assert.equal(row.s, "x'y");
        assert.equal(row.t, true);
        assert.ok(row.dt instanceof Date);
        assert.equal((row.tz as Date).toISOString(), '2024-03-01T12:00:00.000Z');
        assert.deepEqual(row.arr, [1.5, 2.5]);
        assert.equal(r.fields[2]?.dataTypeID, 1700);
        const many = await c.query({ text: 'SELECT range AS n FROM range(3)', rowMode: 'array' });
        assert.deepEqual(many.rows, [['0'], ['1'], ['2']]);
        assert.equal(many.command, 'SELECT');
        assert.equal(many.rowCount, 3);
      } finally {
        await c.end();
      }
    });

    it("passes a PostgreSQL data source's rows through as PostgreSQL sends them, whole and in portal fetches that cut its batches", async () => {
      // Integers, text, numeric and booleans (with NULLs) are the columns whose DataRow messages the
      // JDBC engine hands over as the server sent them; 2,500 rows span three engine batches.
      const sql = `SELECT g AS i, 'r-' || g AS t, (g::numeric(10,2) / 4)::numeric(10,2) AS n, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END AS b
                     FROM generate_series(1, 2500) g ORDER BY g`;
      const direct = new pg.Client({ connectionString: s.env.db.url });
      const c = client('orders_pg');
      await direct.connect();
      await c.connect();
      try {
        const expected = await direct.query({ text: sql, rowMode: 'array' });
        const got = await c.query({ text: sql, rowMode: 'array' });
        assert.deepEqual(
          got.fields.map((f) => f.dataTypeID),
          expected.fields.map((f) => f.dataTypeID),
        );
        assert.equal(got.rowCount, 2500);
        assert.deepEqual(got.rows, expected.rows);
      } finally {
        await direct.end();
        await c.end();
      }
      // Execute with a row limit of 700: each fetch after the first starts inside an engine batch.
      const w = await rawLogin(s.port, 'alice', alice, 'orders_pg');
      try {
        w.send('P', Buffer.concat([cstr(''), cstr(sql), Buffer.from([0, 0])]));
        w.send('B', Buffer.concat([cstr(''), cstr(''), Buffer.from([0, 0, 0, 0, 0, 0])]));
        const texts: string[][] = [];
        const perFetch: number[] = [];
        for (let fetch = 0; fetch < 10; fetch++) {
          const limit = Buffer.alloc(4);
          limit.writeInt32BE(700);
          w.send('E', Buffer.concat([cstr(''), limit]));
          w.send('H', Buffer.alloc(0));
          let rows = 0;
          let end: string | undefined;
          while (!end) {
            const m = await w.next();
            assert.ok(m, 'the connection stays open');
            if (m.type === 'D') {
              const n = m.body.readInt16BE(0);
              const row: string[] = [];
              let at = 2;
              for (let i = 0; i < n; i++) {
                const len = m.body.readInt32BE(at);
                at += 4;
                row.push(len < 0 ? 'NULL' : m.body.toString('utf8', at, at + len));
                at += Math.max(0, len);
              }
              texts.push(row);
              rows++;
            } else if (m.type === 's' || m.type === 'C' || m.type === 'E') end = m.type;
          }
          assert.notEqual(end, 'E', 'no error');
          perFetch.push(rows);
          if (end === 'C') break;
        }
        w.send('S', Buffer.alloc(0));
        await w.until('Z');
        assert.deepEqual(perFetch, [700, 700, 700, 400]);
        const quarters = ['00', '25', '50', '75'];
        assert.deepEqual(
          texts,
          Array.from({ length: 2500 }, (_, k) => {
            const g = k + 1;
            return [String(g), `r-${g}`, `${Math.floor(g / 4)}.${quarters[g % 4]}`, g % 5 === 0 ? 'NULL' : g % 2 === 0 ? 't' : 'f'];
          }),
        );
      } finally {
        w.close();
      }
    });

    it('reports errors with SQLSTATE codes and keeps the connection usable', async () => {
      const c = client();
      await c.connect();
      try {
        await assert.rejects(c.query('SELECT * FROM missing_table_x'), (e: { code?: string; message: string }) => e.code === '42P01');
        await assert.rejects(c.query('SELECT $1::INTEGER', ['not a number']), (e: { code?: string }) => e.code === '22P02');
        assert.equal((await c.query('SELECT 5 AS five')).rows[0].five, 5);
      } finally {
        await c.end();
      }
    });

    it('cancels a running query through a CancelRequest on a second connection', async () => {
      const c = client();
      await c.connect();
      try {
        const q = c.query('SELECT count(*) FROM range(2000000000) a, range(1000) b');
        await new Promise((r) => setTimeout(r, 2500));
        const canceller = client();
        (canceller as unknown as { cancel(c: pg.Client, q: unknown): void }).cancel(c, (c as unknown as { activeQuery: unknown }).activeQuery);
        await assert.rejects(q, (e: { code?: string }) => e.code === '57014');
        assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
      } finally {
        await c.end();
      }
    });

    it('refuses a wrong token and an unknown database', async () => {
      await assert.rejects(client('duckdb', 'slk_bad').connect(), (e: { code?: string; message: string }) => e.code === '28P01' && /alice/.test(e.message));
      await assert.rejects(client('nope_db').connect(), (e: { code?: string }) => e.code === '3D000');
    });
  });
});
