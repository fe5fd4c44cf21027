import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { before, describe, it } from 'node:test';
import { type DataSourceConnection, type Engine, SluiceError } from '@sluice/core';
import { createTrinoConnector, PROTOCOL_VERSION, trinoSecretFields } from '../src/index.ts';
import { queryRows, rejectionOf } from './task-runner.ts';
import { ensureTrino, type TrinoServer, trinoDataSource } from './trino-server.ts';

let server: TrinoServer;
const connector = createTrinoConnector();
const metadata = connector.metadata!;

/** An HS256 JWT for `subject`, signed with the server's key (a base64 HMAC key file). */
function jwt(subject: string, key: string, expiresInSeconds = 600): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: subject, exp: Math.floor(Date.now() / 1000) + expiresInSeconds })}`;
  return `${body}.${createHmac('sha256', Buffer.from(key, 'base64')).update(body).digest('base64url')}`;
}

/** A data source on the server's HTTPS port (PASSWORD and JWT authentication). */
function secureSource(params: Record<string, unknown>): DataSourceConnection {
  return {
    name: 'secure_trino',
    type: 'trino',
    version: 1,
    params: { host: '127.0.0.1', port: server.httpsPort, tls: true, tlsCa: server.ca, catalog: 'tpch', schema: 'tiny', ...params },
    secretFields: trinoSecretFields,
  };
}

async function launch(user: string, ds: DataSourceConnection): Promise<Engine> {
  return connector.launch({ engineId: `conn-${user}-${Date.now()}`, user, version: PROTOCOL_VERSION, workDir: '/nonexistent', params: {}, dataSource: ds });
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Expects a SLUICE_DATASOURCE_TEST_FAILED with `reason`, and no secret in anything it carries. */
async function expectTestFailure(ds: DataSourceConnection, reason: string, timeoutMs = 5000): Promise<SluiceError> {
  const err = await rejectionOf(metadata.testConnection(ds, timeoutMs));
  assert.ok(err instanceof SluiceError, String(err));
  assert.equal(err.code, 'SLUICE_DATASOURCE_TEST_FAILED');
  assert.equal(err.details.reason, reason, `${err.message}`);
  assert.equal(err.details.name, ds.name);
  for (const field of trinoSecretFields) {
    const secret = ds.params[field];
    if (typeof secret === 'string') assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes(secret), `the error shows ${field}`);
  }
  return err;
}

before(async () => {
  server = await ensureTrino();
});

describe('trino: authentication', () => {
  it('authenticates with Basic over TLS and still runs queries as the Sluice user', async () => {
    const engine = await launch('dave', secureSource({ user: server.user, password: server.password }));
    try {
      assert.deepEqual(await queryRows(engine, 'SELECT current_user'), [['dave']]);
      assert.deepEqual(await queryRows(engine, 'SELECT count(*) FROM nation'), [['25']]);
    } finally {
      await engine.close();
    }
  });

  it('authenticates with a JWT', async () => {
    const engine = await launch('erin', secureSource({ jwt: jwt('erin', server.jwtKey) }));
    try {
      assert.deepEqual(await queryRows(engine, 'SELECT current_user'), [['erin']]);
    } finally {
      await engine.close();
    }
  });

  it('fails a task whose credentials the cluster refuses, without retry and without showing them', async () => {
    const password = 'definitely-not-the-password';
    const engine = await launch('frank', secureSource({ user: server.user, password }));
    try {
      const err = await rejectionOf(queryRows(engine, 'SELECT 1'));
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
      assert.equal(err.details.status, 401);
      assert.equal(err.retryable, false);
      assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes(password));
    } finally {
      await engine.close();
    }
  });

  it('refuses credentials without TLS before anything is sent', async () => {
    const err = await rejectionOf(launch('gina', trinoDataSource(server, { user: server.user, password: server.password })));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_REQUEST_INVALID');
    assert.match(String(err.details.summary), /tls: credentials are only sent over TLS/);
    assert.ok(!err.message.includes(server.password));
  });

  it('fails the launch of an engine whose cluster does not answer', async () => {
    const err = await rejectionOf(launch('hank', trinoDataSource(server, { port: await closedPort() })));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_LAUNCH_FAILED');
    assert.equal(err.retryable, true);
    assert.match(err.message, /ECONNREFUSED/);
  });
});

describe('trino: connection test', () => {
  it('succeeds with the server version and a latency', async () => {
    const result = await metadata.testConnection(secureSource({ user: server.user, password: server.password }), 10_000);
    assert.equal(result.ok, true);
    assert.equal(result.serverVersion, '476');
    assert.ok(result.latencyMs >= 0 && result.latencyMs < 10_000);
    assert.equal((await metadata.testConnection(trinoDataSource(server), 10_000)).ok, true);
  });

  it('reports auth_failed for a wrong password and for an invalid JWT', async () => {
    await expectTestFailure(secureSource({ user: server.user, password: 'wrong-password-123' }), 'auth_failed');
    await expectTestFailure(secureSource({ jwt: jwt('x', Buffer.from('another key of enough length, 32+ bytes').toString('base64')) }), 'auth_failed');
  });

  it('reports tls when the certificate is not trusted, and connects with tlsMode require (encryption only)', async () => {
    const untrusted = secureSource({ user: server.user, password: server.password });
    delete untrusted.params.tlsCa;
    const err = await expectTestFailure(untrusted, 'tls');
    assert.match(String(err.details.detail), /self-signed|SELF_SIGNED|certificate/i);
    const encryptOnly = secureSource({ user: server.user, password: server.password, tlsMode: 'require' });
    delete encryptOnly.params.tlsCa;
    assert.equal((await metadata.testConnection(encryptOnly, 10_000)).ok, true);
  });

  it('reports unreachable for a closed port and timeout when the server is too slow to answer', async () => {
    await expectTestFailure(trinoDataSource(server, { port: await closedPort() }), 'unreachable');
    await expectTestFailure(trinoDataSource(server), 'timeout', 1);
  });

  it('reports error for params the schema rejects', async () => {
    const err = await expectTestFailure(trinoDataSource(server, { port: 'eighty' }), 'error');
    assert.match(String(err.details.detail), /port/);
  });
});
