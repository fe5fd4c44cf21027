import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createFlinkConnector, FLINK_DATASOURCE_TYPE, FLINK_ENGINE_VERSION, flinkSecretFields } from '../src/index.ts';
import { startFakeGateway } from './fake-gateway.ts';
import { rejectionOf, runTask } from './task-runner.ts';

// Failures injected by a FAKE gateway (see fake-gateway.ts); real-Flink behaviour is in flink.test.ts.
const fakes: { close(): Promise<void> }[] = [];
const engines: Engine[] = [];

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
  await Promise.allSettled(fakes.map((f) => f.close()));
});

async function launchOn(url: string, params: Record<string, unknown> = {}): Promise<Engine> {
  const engine = await createFlinkConnector().launch({
    engineId: 'fake-1',
    user: 'alice',
    version: FLINK_ENGINE_VERSION,
    workDir: '/nonexistent',
    params: {},
    dataSource: { name: 'fake_flink', type: FLINK_DATASOURCE_TYPE, version: 1, params: { gatewayUrl: url, ...params }, secretFields: flinkSecretFields },
  });
  engines.push(engine);
  return engine;
}

describe('flink: failures from a fake gateway', () => {
  it('maps a 503 from a proxy on submit to SLUICE_DATASOURCE_UNAVAILABLE, retryable', async () => {
    const fake = await startFakeGateway((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>Service Unavailable</html>');
    });
    fakes.push(fake);
    const engine = await launchOn(fake.url);
    const err = await rejectionOf(runTask(engine, 'SELECT 1'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.equal(err.retryable, true);
  });

  it('maps a statement whose job submission could not reach the cluster to SLUICE_DATASOURCE_UNAVAILABLE', async () => {
    const fake = await startFakeGateway((req, res) => {
      res.writeHead(req.method === 'POST' && req.url?.endsWith('/statements') ? 200 : 500, { 'content-type': 'application/json' });
      if (req.method === 'POST' && req.url?.endsWith('/statements')) res.end(JSON.stringify({ operationHandle: '99999999-2222-3333-4444-555555555555' }));
      else
        res.end(
          JSON.stringify({
            errors: [
              'Internal server error.',
              '<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.\nCaused by: org.apache.flink.table.api.TableException: Failed to execute sql\nCaused by: org.apache.flink.util.FlinkException: Failed to execute job.\nCaused by: java.net.ConnectException: Connection refused\n\nEnd of exception on server side>',
            ],
          }),
        );
    });
    fakes.push(fake);
    const engine = await launchOn(fake.url);
    const err = await rejectionOf(runTask(engine, 'SELECT 1'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
    assert.match(err.message, /TableException: Failed to execute sql/);
  });

  it('maps a gateway that drops connections mid-task to SLUICE_DATASOURCE_UNAVAILABLE', async () => {
    const fake = await startFakeGateway((req) => req.socket.destroy());
    fakes.push(fake);
    const engine = await launchOn(fake.url);
    const err = await rejectionOf(runTask(engine, 'SELECT 1'));
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_DATASOURCE_UNAVAILABLE');
  });

  it('refuses credentials over plain http before sending anything, without echoing them', async () => {
    const token = 'tok-3f9a1c0d7e';
    const fake = await startFakeGateway((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: ['Forbidden'] }));
    });
    fakes.push(fake);
    const engine = await createFlinkConnector()
      .launch({
        engineId: 'fake-token',
        user: 'alice',
        version: FLINK_ENGINE_VERSION,
        workDir: '/nonexistent',
        params: {},
        dataSource: { name: 'fake_flink', type: FLINK_DATASOURCE_TYPE, version: 1, params: { gatewayUrl: fake.url, token }, secretFields: flinkSecretFields },
      })
      .catch((e: unknown) => e);
    // Credentials over plain http are refused before anything is sent.
    assert.ok(engine instanceof SluiceError);
    assert.equal(engine.code, 'SLUICE_REQUEST_INVALID');
    assert.doesNotMatch(engine.message, new RegExp(token));
    assert.equal(fake.seen.length, 0, 'nothing was sent with the credentials over plain http');
  });
});
