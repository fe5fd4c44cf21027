import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DataSourceConnection, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { assertNoSecret, testFailure as sharedTestFailure, withParams } from './connection-checks.ts';
import { closedPort, startBlackholeServer, startPlainHttpServer } from './fake-servers.ts';
import { freshClickhouse, type TestSource } from './jdbc-servers.ts';
import { rejectionOf } from './task-runner.ts';

const WRONG = 'Wr0ng-Ch-Secret-5521';

describe('clickhouse connection test and launch failures', () => {
  const connector = createJdbcConnector();
  let source: TestSource;
  let blackhole: Awaited<ReturnType<typeof startBlackholeServer>>;
  before(async () => {
    source = await freshClickhouse();
    blackhole = await startBlackholeServer();
  });
  after(async () => {
    await blackhole?.close();
    await source?.drop();
  });

  const testFailure = (ds: DataSourceConnection, timeoutMs?: number) => sharedTestFailure(connector, ds, timeoutMs);

  it('succeeds against the real server and reports its version', async () => {
    const result = await connector.metadata.testConnection(source.dataSource, 5000);
    assert.equal(result.ok, true);
    assert.match(result.serverVersion ?? '', /^\d+\.\d+/);
  });

  it('reports a closed port as unreachable', async () => {
    assert.equal((await testFailure(withParams(source.dataSource, { port: await closedPort() }))).details.reason, 'unreachable');
  });

  it('reports a wrong password as auth_failed, without the password', async () => {
    const err = await testFailure(withParams(source.dataSource, { password: WRONG }));
    assert.equal(err.details.reason, 'auth_failed');
    assertNoSecret(err, WRONG);
  });

  it('reports a server that never answers (a fake black-hole listener) as timeout, within the limit', async () => {
    const started = Date.now();
    const err = await testFailure(withParams(source.dataSource, { port: blackhole.port }), 700);
    assert.equal(err.details.reason, 'timeout');
    assert.ok(Date.now() - started < 2500);
    assert.ok(blackhole.connections() >= 1);
  });

  it('reports https against a port that answers in plain HTTP (a fake plain server) as tls', async () => {
    const plain = await startPlainHttpServer();
    try {
      assert.equal((await testFailure(withParams(source.dataSource, { port: plain.port, tls: true, tlsMode: 'require' }))).details.reason, 'tls');
    } finally {
      await plain.close();
    }
  });

  it('fails a launch with bad credentials as a user error, and an unreachable one as retryable', async () => {
    const bad = await rejectionOf(
      connector.launch({ engineId: 'x', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: withParams(source.dataSource, { password: WRONG }) }),
    );
    assert.ok(bad instanceof SluiceError && bad.code === 'SLUICE_DATASOURCE_TEST_FAILED' && !bad.retryable, String(bad));
    assert.equal(bad.details.reason, 'auth_failed');
    assertNoSecret(bad, WRONG);
    const down = await rejectionOf(
      connector.launch({
        engineId: 'x',
        user: 'u',
        version: '4',
        workDir: '/tmp',
        params: {},
        dataSource: withParams(source.dataSource, { port: await closedPort() }),
      }),
    );
    assert.ok(down instanceof SluiceError && down.code === 'SLUICE_DATASOURCE_UNAVAILABLE' && down.retryable, String(down));
  });
});
