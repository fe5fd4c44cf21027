import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '@sluice/core';
import { parseConnectUrl, parseSparkDataSource } from './spark-params.ts';

const ds = (params: Record<string, unknown>) => ({ name: 'sp', type: 'spark', version: 1, params, secretFields: ['token'] });

describe('spark data sources', () => {
  it('parses Spark Connect URLs', () => {
    assert.deepEqual(parseConnectUrl('sc://h:15003'), { target: 'h:15003', tls: false });
    assert.deepEqual(parseConnectUrl('sc://h'), { target: 'h:15002', tls: false });
    assert.deepEqual(parseConnectUrl('sc://h:1/;use_ssl=true;token=abc%3D'), { target: 'h:1', tls: true, token: 'abc=' });
    assert.throws(() => parseConnectUrl('http://h'), SluiceError);
  });

  it('takes a master or a Connect endpoint, never both, and checks its conf', () => {
    assert.deepEqual(parseSparkDataSource(ds({ master: 'local[1]' })), { master: 'local[1]', tls: false, conf: {} });
    const remote = parseSparkDataSource(ds({ connectUrl: 'sc://127.0.0.1:15002', token: 't' }));
    assert.equal(remote.connectUrl, '127.0.0.1:15002');
    assert.equal(remote.token, 't');
    assert.throws(() => parseSparkDataSource(ds({ master: 'local', connectUrl: 'sc://h:1' })), /exactly one/);
    assert.throws(() => parseSparkDataSource(ds({ master: 'local', conf: { 'spark.jars': '/x.jar' } })), /spark.jars may not be set/);
    assert.throws(() => parseSparkDataSource({ ...ds({ master: 'local' }), type: 'trino' }), SluiceError);
  });
});
