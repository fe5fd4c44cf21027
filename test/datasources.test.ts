import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@sluice/infra';
import { requireEnv, uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import { type ApiClient, type ApiResponse, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';

const SECRET = `S3cr3t-Pa55-${randomBytes(6).toString('hex')}-never-leak`;
const ROLE = `ds_${uniqueSuffix()}`;
const server = new URL(requireEnv('DATABASE_URL'));

describe('data-source service: registry, versions, permissions and secrets', () => {
  let env: TestEnv;
  let ts: TestStack;
  const logLines: string[] = [];
  const responses: string[] = [];
  let alice: ApiClient;
  let bob: ApiClient;
  let carol: ApiClient;
  let dave: ApiClient;
  let admin: ApiClient;

  /** Records every response body so the test can prove no secret was ever returned. */
  const recorded = (api: ApiClient): ApiClient => {
    const original = api.request.bind(api);
    api.request = async <T>(method: string, p: string, body?: unknown, headers?: Record<string, string>) => {
      const r = (await original(method, p, body, headers)) as ApiResponse<T>;
      responses.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      return r;
    };
    return api;
  };

  before(async () => {
    env = await testEnv('redis');
    // A real PostgreSQL role whose password is the secret: jobs on the data source really log in with it.
    const su = new pg.Client({ connectionString: env.db.url });
    await su.connect();
    await su.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${SECRET}'`);
    await su.query(`GRANT ALL ON SCHEMA public TO ${ROLE}`);
    await su.query('CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(12,2))');
    await su.query(`GRANT SELECT ON public.orders TO ${ROLE}`);
    await su.query('INSERT INTO public.orders VALUES (1, 9.50), (2, 12.25)');
    await su.end();
    const log = createLogger({ name: 'sluice', level: 'trace', destination: { write: (line: string) => void logLines.push(line) } });
    ts = await startTestStack(env, { log });
    alice = recorded(ts.api(ts.tokens.alice));
    bob = recorded(ts.api(ts.tokens.bob));
    admin = recorded(ts.api(ts.tokens.admin));
    const mk = async (user: string) => (await ts.stack.tokens.create({ user })).token;
    carol = recorded(ts.api(await mk('carol')));
    dave = recorded(ts.api(await mk('dave')));
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    const su = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
    await su.connect();
    await su.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => {});
    await su.end();
  });

  const pgParams = (over: Record<string, unknown> = {}) => ({
    host: server.hostname,
    port: Number(server.port || 5432),
    database: env.db.name,
    user: ROLE,
    password: SECRET,
    ...over,
  });

  it('lists types with JSON Schema and Linkis-style key definitions', async () => {
    const r = await alice.request<{
      items: {
        name: string;
        engine: string;
        secretFields: string[];
        keyDefinitions: { key: string; valueType: string; require: boolean }[];
        jsonSchema: { properties: Record<string, unknown> };
      }[];
    }>('GET', '/api/v1/datasource-types');
    assert.equal(r.status, 200);
    const names = r.body.items.map((t) => t.name);
    for (const t of ['postgresql', 'mysql', 'mariadb', 'clickhouse', 'trino', 'presto', 'flink-sql-gateway', 'spark', 'duckdb-file'])
      assert.ok(names.includes(t), t);
    const pgType = r.body.items.find((t) => t.name === 'postgresql');
    assert.equal(pgType?.engine, 'jdbc');
    assert.deepEqual(pgType?.secretFields, ['password', 'tlsKey']);
    assert.equal(pgType?.keyDefinitions.find((k) => k.key === 'password')?.valueType, 'PASSWORD');
    assert.equal(pgType?.keyDefinitions.find((k) => k.key === 'host')?.require, true);
    assert.ok(pgType?.jsonSchema.properties.port);
  });

  it('rejects invalid parameters with field-level errors and stores nothing', async () => {
    const r = await alice.request<{ code: string; details: { issues: { path: string; message: string }[] } }>('POST', '/api/v1/datasources', {
      name: 'bad_pg',
      type: 'postgresql',
      params: { host: 'db', port: 70000, user: 'x', bogus: 1 },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'SLUICE_REQUEST_INVALID');
    const paths = r.body.details.issues.map((i) => i.path).sort();
    assert.ok(paths.includes('params.port'), JSON.stringify(paths));
    assert.ok(paths.includes('params.database'));
    assert.ok(
      paths.some((p) => p === 'params' || p.includes('bogus')),
      JSON.stringify(paths),
    );
    assert.equal((await alice.request('GET', '/api/v1/datasources/bad_pg')).status, 404);
    const unknownType = await alice.request('POST', '/api/v1/datasources', { name: 'x1', type: 'oracle', params: {} });
    assert.equal(unknownType.status, 400);
  });

  it('creates drafts, versions with comments, publishes, and keeps the full history', async () => {
    const c = await alice.request<{ latestVersion: number; publishedVersion: number | null; secretsSet: string[]; params: Record<string, unknown> }>(
      'POST',
      '/api/v1/datasources',
      { name: 'orders_pg', type: 'postgresql', description: 'orders', params: pgParams() },
    );
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.latestVersion, 1);
    assert.equal(c.body.publishedVersion, null);
    assert.deepEqual(c.body.secretsSet, ['password']);
    assert.equal(c.body.params.password, undefined);
    const dup = await alice.request('POST', '/api/v1/datasources', { name: 'orders_pg', type: 'postgresql', params: pgParams() });
    assert.equal(dup.status, 400);

    const u = await alice.request<{ latestVersion: number; secretsSet: string[]; params: Record<string, unknown> }>('PUT', '/api/v1/datasources/orders_pg', {
      params: { ...pgParams(), password: undefined, applicationName: 'orders-app' },
      comment: 'name the sessions',
    });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.equal(u.body.latestVersion, 2);
    assert.deepEqual(u.body.secretsSet, ['password'], 'an update without the password keeps it');
    const p = await alice.request<{ publishedVersion: number; params: Record<string, unknown> }>('POST', '/api/v1/datasources/orders_pg/versions/2/publish');
    assert.equal(p.body.publishedVersion, 2);
    assert.equal(p.body.params.applicationName, 'orders-app');
    const h = await alice.request<{ items: { version: number; comment: string; published: boolean }[] }>('GET', '/api/v1/datasources/orders_pg/versions');
    assert.deepEqual(
      h.body.items.map((v) => [v.version, v.comment, v.published]),
      [
        [1, 'created', false],
        [2, 'name the sessions', true],
      ],
    );
    const missing = await alice.request('POST', '/api/v1/datasources/orders_pg/versions/9/publish');
    assert.equal(missing.status, 400);
  });

  it('enforces the permission matrix: owner, shared-use, shared-manage, other, admin × read, use, manage', async () => {
    await alice.request('POST', '/api/v1/datasources', { name: 'matrix_pg', type: 'postgresql', params: pgParams() });
    await alice.request('POST', '/api/v1/datasources/matrix_pg/versions/1/publish');
    assert.equal((await alice.request('POST', '/api/v1/datasources/matrix_pg/shares', { user: 'bob', permission: 'use' })).status, 200);
    assert.equal((await alice.request('POST', '/api/v1/datasources/matrix_pg/shares', { user: 'carol', permission: 'manage' })).status, 200);

    const read = async (api: ApiClient) => (await api.request('GET', '/api/v1/datasources/matrix_pg')).status;
    // "use" = submitting a job on it passes the data-source check (the job itself may fail later for other reasons).
    const use = async (api: ApiClient) => {
      const r = await api.submit({ code: 'select 1', dataSource: 'matrix_pg', creator: 'matrix' });
      return r.status === 201 ? 'ok' : (r.body.code as string);
    };
    const manage = async (api: ApiClient) =>
      (await api.request('PUT', '/api/v1/datasources/matrix_pg', { params: pgParams({ database: 'm' }), comment: 'x' })).status;

    const expected: [string, ApiClient, number, string, number][] = [
      ['owner', alice, 200, 'ok', 200],
      ['shared-use', bob, 200, 'ok', 403],
      ['shared-manage', carol, 200, 'ok', 200],
      ['other user', dave, 404, 'SLUICE_DATASOURCE_NOT_FOUND', 404],
      ['admin', admin, 200, 'ok', 200],
    ];
    for (const [who, api, r, u, m] of expected) {
      assert.equal(await read(api), r, `${who} read`);
      assert.equal(await use(api), u, `${who} use`);
      assert.equal(await manage(api), m, `${who} manage`);
    }
    const list = await dave.request<{ items: { name: string }[] }>('GET', '/api/v1/datasources');
    assert.ok(!list.body.items.some((d) => d.name === 'matrix_pg'), 'an unrelated user does not see it in the list');
    assert.equal(
      (await bob.request('POST', '/api/v1/datasources/matrix_pg/shares', { user: 'dave', permission: 'use' })).status,
      403,
      'use does not allow sharing',
    );
  });

  it('refuses jobs on expired, unpublished or unknown data sources, and deletion while jobs use it', async () => {
    await alice.request('POST', '/api/v1/datasources', { name: 'draft_pg', type: 'postgresql', params: pgParams() });
    const unpublished = await alice.submit({ code: 'select 1', dataSource: 'draft_pg' });
    assert.equal(unpublished.status, 409);
    assert.equal(unpublished.body.code, 'SLUICE_DATASOURCE_UNPUBLISHED');
    const unknown = await alice.submit({ code: 'select 1', dataSource: 'nope_pg' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'SLUICE_DATASOURCE_NOT_FOUND');
    const wrongEngine = await alice.submit({ code: 'select 1', dataSource: 'matrix_pg', engineType: 'duckdb' });
    assert.equal(wrongEngine.status, 400);

    // A job that waits in its group keeps the data source in use.
    const blocker = await alice.submit({ code: 'sleep 30', engineType: 'shell', creator: 'hold' });
    const pending = await alice.request<{ id: string }>('POST', '/api/v1/jobs', {
      code: 'select 1',
      dataSource: 'matrix_pg',
      creator: 'hold-ds',
      queueTimeoutSeconds: 3600,
    });
    assert.equal(pending.status, 201);
    const del = await alice.request('DELETE', '/api/v1/datasources/matrix_pg');
    assert.equal(del.status, 409);
    assert.equal(del.body.code, 'SLUICE_DATASOURCE_IN_USE');
    await alice.request('POST', `/api/v1/jobs/${pending.body.id}/cancel`);
    await alice.request('POST', `/api/v1/jobs/${blocker.body.id}/cancel`);
    await alice.waitFor(pending.body.id);
    // Every job on it has ended now (the matrix test's jobs fail: no JDBC engine is loaded here).
    const jobsDone = await ts.api(ts.tokens.admin).request<{ items: { id: string; state: string }[] }>('GET', '/api/v1/jobs?limit=500');
    for (const j of jobsDone.body.items) await admin.waitFor(j.id);

    const expired = await alice.request<{ expired: boolean }>('POST', '/api/v1/datasources/matrix_pg/expire');
    assert.equal(expired.body.expired, true);
    const late = await bob.submit({ code: 'select 1', dataSource: 'matrix_pg' });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'SLUICE_DATASOURCE_EXPIRED');
    assert.equal((await alice.request('DELETE', '/api/v1/datasources/matrix_pg')).status, 204);
    assert.equal((await alice.request('GET', '/api/v1/datasources/matrix_pg')).status, 404);
  });

  it('runs jobs on a data source through the JDBC engine, with its published parameters', async () => {
    const sub = await bob.submit({ code: 'select id, amount from orders order by id', dataSource: 'orders_pg' });
    assert.equal(sub.status, 404, 'bob cannot see orders_pg');
    // Version 2 is published: its applicationName names the session.
    const mine = await alice.submit({
      code: "select id, amount, current_user as who, current_setting('application_name') as app from orders order by id",
      dataSource: 'orders_pg',
    });
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    assert.equal(mine.body.engineType, 'jdbc-4');
    const done = await alice.waitFor(mine.body.id);
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    const rows = await alice.request<{ rows: unknown[][]; resultSet: { columns: { name: string; type: string }[] } }>(
      'GET',
      `/api/v1/jobs/${mine.body.id}/results/0`,
    );
    assert.deepEqual(rows.body.rows, [
      [1, '9.50', ROLE, 'orders-app'],
      [2, '12.25', ROLE, 'orders-app'],
    ]);
    // A new version is not used until it is published; once published, new jobs use it.
    const appOf = async () => {
      const j = await alice.submit({ code: "select current_setting('application_name') as app", dataSource: 'orders_pg' });
      assert.equal((await alice.waitFor(j.body.id)).state, 'Succeed');
      return (await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${j.body.id}/results/0`)).body.rows[0]?.[0];
    };
    const v3 = await alice.request('PUT', '/api/v1/datasources/orders_pg', { params: { ...pgParams(), password: undefined, applicationName: 'orders-v3' } });
    assert.equal(v3.status, 200, JSON.stringify(v3.body));
    assert.equal(await appOf(), 'orders-app', 'the draft version 3 is not used');
    assert.equal((await alice.request('POST', '/api/v1/datasources/orders_pg/versions/3/publish')).status, 200);
    assert.equal(await appOf(), 'orders-v3', 'the published version 3 is used');
    assert.equal((await alice.request('POST', '/api/v1/datasources/orders_pg/versions/2/publish')).status, 200);
    assert.equal(await appOf(), 'orders-app', 'publishing an older version goes back to it');

    const failing = await alice.submit({ code: 'select * from no_such_table', dataSource: 'orders_pg' });
    const failed = await alice.waitFor(failing.body.id);
    assert.equal(failed.state, 'Failed');
    assert.equal(failed.error?.code, 'SLUICE_ENGINE_QUERY_FAILED');
  });

  it('tests connections and browses metadata through the API', async () => {
    const ok = await alice.request<{ ok: boolean; latencyMs: number }>('POST', '/api/v1/datasources/orders_pg/test');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.ok, true);
    await alice.request('POST', '/api/v1/datasources', { name: 'wrong_pw', type: 'postgresql', params: pgParams({ password: `${SECRET}-wrong` }) });
    const auth = await alice.request<{ code: string; details: { reason: string } }>('POST', '/api/v1/datasources/wrong_pw/test');
    assert.equal(auth.status, 400);
    assert.equal(auth.body.code, 'SLUICE_DATASOURCE_TEST_FAILED');
    assert.equal(auth.body.details.reason, 'auth_failed');
    await alice.request('POST', '/api/v1/datasources', { name: 'nowhere_pg', type: 'postgresql', params: pgParams({ port: 1 }) });
    const down = await alice.request<{ details: { reason: string } }>('POST', '/api/v1/datasources/nowhere_pg/test');
    assert.equal(down.body.details.reason, 'unreachable');

    const tables = await alice.request<{ items: { name: string; kind: string }[] }>(
      'GET',
      `/api/v1/datasources/orders_pg/browse?level=tables&catalog=${env.db.name}&schema=public`,
    );
    assert.equal(tables.status, 200, JSON.stringify(tables.body));
    assert.ok(tables.body.items.some((t) => t.name === 'orders'));
    const columns = await alice.request<{ items: { name: string; type: string; nullable: boolean }[] }>(
      'GET',
      `/api/v1/datasources/orders_pg/browse?level=columns&catalog=${env.db.name}&schema=public&table=orders`,
    );
    assert.deepEqual(
      columns.body.items.map((c) => c.name),
      ['id', 'amount'],
    );
    const missingLevel = await alice.request('GET', '/api/v1/datasources/orders_pg/browse?level=columns');
    assert.equal(missingLevel.status, 400);
  });

  it('browses a schema of 10,000 tables through the API in bounded pages, each one fast', async () => {
    const su = new pg.Client({ connectionString: env.db.url });
    await su.connect();
    try {
      await su.query(`CREATE SCHEMA wide; GRANT USAGE ON SCHEMA wide TO ${ROLE}`);
      await su.query("DO $$ BEGIN FOR i IN 1..10000 LOOP EXECUTE format('CREATE TABLE wide.t_%s (id int)', lpad(i::text, 5, '0')); END LOOP; END $$");
    } finally {
      await su.end();
    }
    const names: string[] = [];
    const pageMs: number[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/datasources/orders_pg/browse?level=tables&catalog=${env.db.name}&schema=wide&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const t0 = performance.now();
      const page: ApiResponse<{ items: { name: string }[]; nextCursor: string | null }> = await alice.request('GET', q);
      pageMs.push(performance.now() - t0);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.items.length <= 1000);
      names.push(...page.body.items.map((i) => i.name));
      cursor = page.body.nextCursor;
    } while (cursor && pageMs.length < 50);
    assert.equal(names.length, 10_000);
    assert.equal(new Set(names).size, 10_000, 'each table once');
    assert.deepEqual([names[0], names[9_999]], ['t_00001', 't_10000']);
    assert.equal(pageMs.length, 10);
    // Keyset pages: the last page costs what the first does (generous bounds for a loaded CI machine).
    const sorted = [...pageMs].sort((a, b) => a - b);
    assert.ok((sorted[5] as number) < 1000, `median page ${sorted[5]} ms`);
    assert.ok((sorted[9] as number) < 5000, `slowest page ${sorted[9]} ms`);
    const over = await alice.request('GET', `/api/v1/datasources/orders_pg/browse?level=tables&catalog=${env.db.name}&schema=wide&limit=1001`);
    assert.equal(over.status, 400, 'a page holds at most 1000 entries');
  });

  it('never returns, logs, audits or stores a secret in clear text', async () => {
    const audit = await alice.request<{ items: { action: string; detail: Record<string, unknown> }[] }>('GET', '/api/v1/datasources/orders_pg/audit');
    assert.deepEqual(
      audit.body.items.map((a) => a.action),
      ['create', 'update', 'publish', 'update', 'publish', 'publish'],
    );
    // Everything the API returned, everything logged, and the whole database as text.
    for (const body of responses) assert.ok(!body.includes(SECRET), `a response leaked the secret: ${body.slice(0, 200)}`);
    assert.ok(logLines.length > 0, 'logs were captured');
    for (const line of logLines) assert.ok(!line.includes(SECRET), `a log line leaked the secret: ${line.slice(0, 200)}`);
    const db = new pg.Client({ connectionString: env.db.url });
    await db.connect();
    try {
      const tables = await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
      for (const { tablename } of tables.rows) {
        const hit = await db.query(`SELECT 1 FROM ${tablename} t WHERE t::text LIKE $1 LIMIT 1`, [`%${SECRET}%`]);
        assert.equal(hit.rowCount, 0, `table ${tablename} holds the secret in clear text`);
      }
      const stored = await db.query<{ secrets: { kid: string } }>('SELECT secrets FROM sluice_datasource_versions WHERE secrets IS NOT NULL LIMIT 1');
      assert.equal(stored.rows[0]?.secrets.kid, 'test1', 'the id of the master key that wraps the data key is recorded');
    } finally {
      await db.end();
    }
  });
});
