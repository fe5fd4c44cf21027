import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@sluice/infra';
import { type ApiClient, type ApiResponse, startTestStack, type TestEnv, type TestStack, testEnv } from './support/test-stack.ts';
import { startTlsPostgres, type TlsPostgres } from './support/tls-postgres.ts';

interface ErrorBody {
  code: string;
  message: string;
  details: { reason: string; detail: string };
}

describe('JDBC data sources over TLS, against a real PostgreSQL with ssl=on', () => {
  let server: TlsPostgres;
  let env: TestEnv;
  let ts: TestStack;
  let alice: ApiClient;
  const logLines: string[] = [];
  const responses: string[] = [];

  before(async () => {
    server = await startTlsPostgres();
    env = await testEnv('redis');
    ts = await startTestStack(env, { log: createLogger({ name: 'sluice', level: 'trace', destination: { write: (l: string) => void logLines.push(l) } }) });
    alice = ts.api(ts.tokens.alice);
    const original = alice.request.bind(alice);
    alice.request = async <T>(method: string, p: string, body?: unknown, headers?: Record<string, string>) => {
      const r = (await original(method, p, body, headers)) as ApiResponse<T>;
      responses.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      return r;
    };
  });
  after(async () => {
    await ts?.stop();
    await env?.cleanup();
    await server?.stop();
  });

  const base = () => ({ host: server.host, port: server.port, database: server.database, user: server.user, password: server.password });

  /** Registers and publishes a data source; returns the connection-test response. */
  const register = async (name: string, params: Record<string, unknown>) => {
    const c = await alice.request('POST', '/api/v1/datasources', { name, type: 'postgresql', params });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal((await alice.request('POST', `/api/v1/datasources/${name}/versions/1/publish`)).status, 200);
    return alice.request<ErrorBody & { ok: boolean; serverVersion?: string }>('POST', `/api/v1/datasources/${name}/test`);
  };

  /** Runs a job on a data source and returns its first result set's rows. */
  const query = async (dataSource: string, code: string) => {
    const sub = await alice.submit({ code, dataSource });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const done = await alice.waitFor(sub.body.id, undefined, 60_000);
    assert.equal(done.state, 'Succeed', JSON.stringify(done.error));
    return (await alice.request<{ rows: unknown[][] }>('GET', `/api/v1/jobs/${sub.body.id}/results/0`)).body.rows;
  };

  const SSL_ROW = 'select s.ssl, s.version like $$TLS%$$ as tls, current_user::text as who from pg_stat_ssl s where s.pid = pg_backend_pid()';

  it('connects with TLS required and the CA verified (verify-full on 127.0.0.1), tests and runs jobs', async () => {
    const test = await register('tls_full', { ...base(), tls: true, tlsMode: 'verify-full', tlsCa: server.certs.ca });
    assert.equal(test.status, 200, JSON.stringify(test.body));
    assert.equal(test.body.ok, true);
    assert.deepEqual(await query('tls_full', SSL_ROW), [[true, true, 'app']]);
    assert.deepEqual(await query('tls_full', 'select id, amount from secure_orders order by id'), [
      [1, '3.50'],
      [2, '7.25'],
    ]);
    const tables = await alice.request<{ items: { name: string }[] }>('GET', '/api/v1/datasources/tls_full/browse?level=tables&catalog=appdb&schema=public');
    assert.equal(tables.status, 200, JSON.stringify(tables.body));
    assert.deepEqual(
      tables.body.items.map((t) => t.name),
      ['secure_orders'],
    );
  });

  it('accepts the libpq spelling (sslmode=verify-full with localhost) and encrypt-only (require, no CA)', async () => {
    const libpq = await register('tls_libpq', { ...base(), host: 'localhost', sslmode: 'verify-full', tlsCa: server.certs.ca });
    assert.equal(libpq.status, 200, JSON.stringify(libpq.body));
    const encryptOnly = await register('tls_require', { ...base(), tls: true, tlsMode: 'require' });
    assert.equal(encryptOnly.status, 200, JSON.stringify(encryptOnly.body));
    assert.deepEqual(await query('tls_require', SSL_ROW), [[true, true, 'app']]);
  });

  it('logs in with a client certificate whose key is a secret field', async () => {
    const params = {
      host: server.host,
      port: server.port,
      database: server.database,
      user: server.certUser,
      tls: true,
      tlsCa: server.certs.ca,
      tlsCert: server.certs.clientCert,
      tlsKey: server.certs.clientKey,
    };
    const test = await register('tls_client_cert', params);
    assert.equal(test.status, 200, JSON.stringify(test.body));
    assert.deepEqual(await query('tls_client_cert', SSL_ROW), [[true, true, server.certUser]]);
    const view = await alice.request<{ params: Record<string, unknown>; secretsSet: string[] }>('GET', '/api/v1/datasources/tls_client_cert');
    assert.deepEqual(view.body.secretsSet, ['tlsKey']);
    assert.equal(view.body.params.tlsKey, undefined);
    assert.equal(view.body.params.tlsCert, server.certs.clientCert, 'the certificate is not secret');
    const half = await alice.request<{ code: string; details: { issues: { path: string }[] } }>('POST', '/api/v1/datasources', {
      name: 'tls_half',
      type: 'postgresql',
      params: { ...params, tlsKey: undefined },
    });
    assert.equal(half.status, 400);
    assert.ok(
      half.body.details.issues.some((i) => i.path === 'params.tlsKey'),
      JSON.stringify(half.body),
    );
  });

  it('fails with reason tls when the CA is wrong, in the connection test and for a job', async () => {
    const test = await register('tls_wrong_ca', { ...base(), tls: true, tlsCa: server.certs.otherCa });
    assert.equal(test.status, 400, JSON.stringify(test.body));
    assert.equal(test.body.code, 'SLUICE_DATASOURCE_TEST_FAILED');
    assert.equal(test.body.details.reason, 'tls');
    assert.match(test.body.details.detail, /certificate/i);
    const sub = await alice.submit({ code: 'select 1', dataSource: 'tls_wrong_ca' });
    const done = await alice.waitFor(sub.body.id, undefined, 60_000);
    assert.equal(done.state, 'Failed');
    assert.equal(done.error?.code, 'SLUICE_DATASOURCE_TEST_FAILED');
    assert.equal(done.error?.details.reason, 'tls');
    // Without TLS the server refuses the login (pg_hba: hostnossl reject): TLS really was in use above.
    const plain = await register('tls_off', { ...base(), sslmode: 'disable' });
    assert.equal(plain.status, 400);
    assert.notEqual(plain.body.details.reason, undefined);
  });

  it('refuses to delete a data source while a job runs on it, and deletes it afterwards', async () => {
    const sub = await alice.submit({ code: 'select pg_sleep(3)', dataSource: 'tls_require' });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    await alice.waitFor(sub.body.id, ['Running'], 30_000);
    const del = await alice.request<ErrorBody>('DELETE', '/api/v1/datasources/tls_require');
    assert.equal(del.status, 409);
    assert.equal(del.body.code, 'SLUICE_DATASOURCE_IN_USE');
    assert.equal((await alice.waitFor(sub.body.id, undefined, 60_000)).state, 'Succeed');
    assert.equal((await alice.request('DELETE', '/api/v1/datasources/tls_require')).status, 204);
    assert.equal((await alice.request('GET', '/api/v1/datasources/tls_require/versions')).status, 404);
  });

  it('never shows the password or the client key in a response or a log line', () => {
    const keyBody = server.certs.clientKey.split('\n')[1] as string;
    assert.ok(keyBody.length > 20);
    assert.ok(logLines.length > 0);
    for (const text of [...responses, ...logLines]) {
      assert.ok(!text.includes(server.password), `the password leaked: ${text.slice(0, 200)}`);
      assert.ok(!text.includes(keyBody), `the client key leaked: ${text.slice(0, 200)}`);
    }
  });
});
