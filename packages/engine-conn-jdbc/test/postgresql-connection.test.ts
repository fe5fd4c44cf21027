import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DataSourceConnection, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { assertNoSecret, testFailure as sharedTestFailure, withParams } from './connection-checks.ts';
import { closedPort, startBlackholeServer } from './fake-servers.ts';
import { dataSource, freshPostgres, type TestSource } from './jdbc-servers.ts';
import { rejectionOf, runTask } from './task-runner.ts';

const WRONG = 'Wr0ng-Pg-Secret-7731';

describe('postgresql connection test and launch failures', () => {
  const connector = createJdbcConnector();
  let source: TestSource;
  let blackhole: Awaited<ReturnType<typeof startBlackholeServer>>;
  before(async () => {
    source = await freshPostgres('jdbc_conn');
    blackhole = await startBlackholeServer();
  });
  after(async () => {
    await blackhole?.close();
    await source?.drop();
  });

  async function testFailure(ds: DataSourceConnection, timeoutMs = 3000): Promise<SluiceError> {
    const err = await sharedTestFailure(connector, ds, timeoutMs);
    assert.equal(err.details.name, ds.name);
    return err;
  }

  it('succeeds against the real server and reports its version and latency', async () => {
    const result = await connector.metadata.testConnection(source.dataSource, 5000);
    assert.equal(result.ok, true);
    assert.match(result.serverVersion ?? '', /^\d+(\.\d+)?/);
    assert.ok(result.latencyMs >= 0 && result.latencyMs < 5000);
  });

  it('reports a closed port as unreachable', async () => {
    const err = await testFailure(withParams(source.dataSource, { port: await closedPort() }));
    assert.equal(err.details.reason, 'unreachable');
  });

  it('reports a wrong password as auth_failed, without the password', async () => {
    const err = await testFailure(withParams(source.dataSource, { password: WRONG }));
    assert.equal(err.details.reason, 'auth_failed');
    assert.equal(err.details.sqlState, '28P01');
    assertNoSecret(err, WRONG);
  });

  it('reports a server that never answers (a fake black-hole listener) as timeout, within the limit', async () => {
    const started = Date.now();
    const err = await testFailure(withParams(source.dataSource, { port: blackhole.port }), 700);
    assert.equal(err.details.reason, 'timeout');
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    assert.ok(blackhole.connections() >= 1, 'the probe reached the fake listener');
  });

  it('reports TLS required by the client but not offered by the server as tls', async () => {
    const err = await testFailure(withParams(source.dataSource, { sslmode: 'require' }));
    assert.equal(err.details.reason, 'tls');
  });

  it('reports an unknown database as error', async () => {
    const err = await testFailure(withParams(source.dataSource, { database: 'no_such_database_here' }));
    assert.equal(err.details.reason, 'error');
    assert.equal(err.details.sqlState, '3D000');
  });

  it('rejects invalid parameters with field-level issues, never echoing the password', async () => {
    const err = await rejectionOf(connector.metadata.testConnection(withParams(source.dataSource, { port: 'x', password: WRONG, bogus: 1 }), 1000));
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_REQUEST_INVALID', String(err));
    const paths = (err.details.issues as { path: string }[]).map((i) => i.path).sort();
    assert.deepEqual(paths, ['(params)', 'port']);
    assertNoSecret(err, WRONG);
  });

  it('fails a launch with bad credentials as a user error that is not retried', async () => {
    const err = await rejectionOf(
      connector.launch({ engineId: 'x', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: withParams(source.dataSource, { password: WRONG }) }),
    );
    assert.ok(err instanceof SluiceError, String(err));
    assert.equal(err.code, 'SLUICE_DATASOURCE_TEST_FAILED');
    assert.equal(err.details.reason, 'auth_failed');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assertNoSecret(err, WRONG);
  });

  it('fails a launch on an unreachable or silent server as retryable SLUICE_DATASOURCE_UNAVAILABLE', async () => {
    for (const port of [await closedPort(), blackhole.port]) {
      const ds = withParams(source.dataSource, { port, connectTimeoutMs: 500 });
      const err = await rejectionOf(connector.launch({ engineId: 'x', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds }));
      assert.ok(err instanceof SluiceError, String(err));
      assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
      assert.equal(err.retryable, true);
      assert.equal(err.details.name, ds.name);
    }
  });

  it('keeps the password out of every event, log line and error, even when the server echoes it', async () => {
    const secret = 'Pg-Echoed-Secret-4417';
    const role = `jdbc_secret_${Date.now()}`;
    const admin = await connector.launch({ engineId: 'adm', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
    await runTask(admin, `CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    const ds = withParams(source.dataSource, { user: role, password: secret });
    const seen: string[] = [];
    const engine = await connector.launch({ engineId: 'sec', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: ds });
    try {
      for (const code of ['SELECT 1 AS one; CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1)', `SELECT * FROM "${secret}"`, `SELECT '${secret}'::int`]) {
        try {
          const out = await runTask(engine, code);
          seen.push(JSON.stringify(out.events));
        } catch (err) {
          assert.ok(err instanceof SluiceError);
          seen.push(err.message, JSON.stringify(err.toBody()));
        }
      }
      seen.push(JSON.stringify(await engine.health()));
      const browse = await connector.metadata.browse(ds, { level: 'tables', catalog: source.database, schema: 'public' }, { limit: 5 });
      seen.push(JSON.stringify(browse));
    } finally {
      await engine.close();
      await runTask(admin, `DROP ROLE ${role}`);
      await admin.close();
    }
    const all = seen.join('\n');
    assert.ok(all.includes('***'), 'the echoed password was replaced');
    assert.ok(!all.includes(secret), `the password leaked: ${all}`);
  });

  it('refuses a launch without a data source, or on a type it does not serve', async () => {
    const none = await rejectionOf(connector.launch({ engineId: 'x', user: 'u', version: '4', workDir: '/tmp', params: {} }));
    assert.ok(none instanceof SluiceError && none.code === 'SLUICE_REQUEST_INVALID');
    const trino = await rejectionOf(
      connector.launch({ engineId: 'x', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: dataSource('trino', { host: 'h' }) }),
    );
    assert.ok(trino instanceof SluiceError && trino.code === 'SLUICE_REQUEST_INVALID');
    const version = await rejectionOf(connector.launch({ engineId: 'x', user: 'u', version: '3', workDir: '/tmp', params: {}, dataSource: source.dataSource }));
    assert.ok(version instanceof SluiceError && version.code === 'SLUICE_JOB_ENGINE_UNKNOWN');
  });
});
