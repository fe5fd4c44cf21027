import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { authorizationHeader, gatewayUrlOf, parseFlinkParams, parseFlinkRuntimeParams, parseFlinkStartupParams } from './flink-params.ts';
import { negotiateVersion } from './gateway-client.ts';

function rejection(f: () => unknown): SluiceError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof SluiceError);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('flink data-source params', () => {
  it('applies defaults', () => {
    const p = parseFlinkParams({ gatewayUrl: 'http://gw:8083' }, 'ds');
    assert.equal(p.requestTimeoutMs, 30_000);
    assert.equal(p.heartbeatIntervalMs, 60_000);
    assert.deepEqual(p.sessionProperties, {});
    assert.deepEqual(authorizationHeader(p), {});
  });

  it('refuses URLs with credentials or queries, unknown fields, and credentials over plain http', () => {
    for (const params of [
      { gatewayUrl: 'http://u:p@gw:8083' },
      { gatewayUrl: 'http://gw:8083?x=1' },
      { gatewayUrl: 'ftp://gw' },
      { gatewayUrl: 'http://gw:8083', extra: 1 },
      { gatewayUrl: 'http://gw:8083', token: 's3cr3t-token' },
      { gatewayUrl: 'https://gw', user: 'u' },
      { gatewayUrl: 'https://gw', database: 'd' },
    ]) {
      const err = rejection(() => parseFlinkParams(params, 'data source x'));
      assert.equal(err.code, 'SLUICE_REQUEST_INVALID');
      assert.doesNotMatch(err.message, /s3cr3t/, 'the message never echoes a secret');
    }
  });

  it('takes host, port and tls instead of gatewayUrl, but not both', () => {
    assert.equal(gatewayUrlOf(parseFlinkParams({ host: 'gw', port: 9083 }, 'ds')), 'http://gw:9083');
    assert.equal(gatewayUrlOf(parseFlinkParams({ host: 'gw', tls: true }, 'ds')), 'https://gw:8083');
    assert.equal(gatewayUrlOf(parseFlinkParams({ gatewayUrl: 'https://gw/flink' }, 'ds')), 'https://gw/flink');
    for (const params of [{}, { gatewayUrl: 'http://gw:8083', host: 'gw' }, { gatewayUrl: 'http://gw:8083', port: 1 }]) {
      assert.equal(rejection(() => parseFlinkParams(params, 'ds')).code, 'SLUICE_REQUEST_INVALID');
    }
  });

  it('builds Basic and Bearer headers for https endpoints', () => {
    const basic = parseFlinkParams({ gatewayUrl: 'https://gw', restUrl: 'https://jm', user: 'u', password: 'p w' }, 'ds');
    assert.deepEqual(authorizationHeader(basic), { authorization: `Basic ${Buffer.from('u:p w').toString('base64')}` });
    const bearer = parseFlinkParams({ gatewayUrl: 'https://gw', token: 't' }, 'ds');
    assert.deepEqual(authorizationHeader(bearer), { authorization: 'Bearer t' });
  });
});

describe('flink start-up and runtime params', () => {
  it('takes session settings from start-up params and ignores other keys', () => {
    assert.deepEqual(parseFlinkStartupParams({ catalog: 'c', sessionProperties: { 'pipeline.name': 'x' }, gatewayUrl: 'http://evil' }), {
      catalog: 'c',
      sessionProperties: { 'pipeline.name': 'x' },
    });
    assert.equal(rejection(() => parseFlinkStartupParams({ sessionProperties: { 'bad key': 'x' } })).code, 'SLUICE_REQUEST_INVALID');
  });

  it('reads caps, row kind and detach, strings included (Linkis clients send strings)', () => {
    assert.deepEqual(parseFlinkRuntimeParams({}), { maxRows: 100_000, rowKind: 'auto', detach: false });
    const p = parseFlinkRuntimeParams({ maxRows: '25', maxSeconds: '1.5', rowKind: 'never', detach: 'true', other: 1 });
    assert.equal(p.maxRows, 25);
    assert.equal(p.maxSeconds, 1.5);
    assert.equal(p.rowKind, 'never');
    assert.equal(p.detach, true);
    assert.equal(rejection(() => parseFlinkRuntimeParams({ maxRows: 0 })).code, 'SLUICE_REQUEST_INVALID');
  });
});

describe('negotiateVersion', () => {
  it('picks the newest common version, or the pinned one', () => {
    assert.equal(negotiateVersion(['V1', 'V2', 'V3', 'V4']), 'v4');
    assert.equal(negotiateVersion(['V1', 'V2']), 'v2');
    assert.equal(negotiateVersion(['V1', 'V2', 'V9']), 'v2');
    assert.equal(negotiateVersion(['V1', 'V2', 'V3'], 'v1'), 'v1');
    assert.throws(() => negotiateVersion(['V1'], 'v3'), /does not offer API v3/);
    assert.throws(() => negotiateVersion(['V9']), /no API version/);
  });
});
