import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { SluiceError } from '@sluice/core';
import { type ConnectProtocol, errorInfoOf, findConnectJar, loadConnectProtocol, mapConnectError, readZipEntries } from '../src/index.ts';
import { ensureSpark } from './spark-home.ts';

/** A trailer as a Spark Connect server sends it: google.rpc.Status with an ErrorInfo detail. */
function statusTrailer(protocol: ConnectProtocol, info: Record<string, unknown>): Metadata {
  const ErrorInfo = protocol.root.lookupType('google.rpc.ErrorInfo');
  const Status = protocol.root.lookupType('google.rpc.Status');
  const detail = { type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: ErrorInfo.encode(ErrorInfo.fromObject(info)).finish() };
  const md = new Metadata();
  md.set('grpc-status-details-bin', Buffer.from(Status.encode(Status.fromObject({ code: 13, message: 'x', details: [detail] })).finish()));
  return md;
}

describe('Spark Connect protocol from the published jar', () => {
  let protocol: ConnectProtocol;

  before(async () => {
    const spark = await ensureSpark();
    protocol = await loadConnectProtocol(await findConnectJar(spark.sparkHome));
  });

  it('reads the .proto files out of the spark-connect jar and builds the service client from them', async () => {
    assert.match(protocol.jar, /spark-connect_2\.13-4\.[\d.]+\.jar$/);
    for (const file of ['spark/connect/base.proto', 'spark/connect/relations.proto', 'google/rpc/status.proto', 'google/protobuf/any.proto']) {
      assert.ok(protocol.files.includes(file), `${file} was parsed; got ${protocol.files.join(', ')}`);
    }
    for (const method of ['ExecutePlan', 'Config', 'Interrupt', 'ReleaseSession', 'AnalyzePlan']) {
      assert.equal(typeof (protocol.Service.prototype as unknown as Record<string, unknown>)[method], 'function', method);
    }
    // The same bytes as in the jar: nothing was copied or edited on the way.
    const entries = await readZipEntries(protocol.jar, (n) => n === 'spark/connect/base.proto');
    assert.match(entries.get('spark/connect/base.proto')?.toString() ?? '', /service SparkConnectService/);
    assert.strictEqual(await loadConnectProtocol(protocol.jar), protocol, 'cached per jar');
  });

  it('maps an error with a Spark error class to a user error carrying the class, SQLSTATE and parameters', () => {
    const failure = {
      code: status.INTERNAL,
      details: '[TABLE_OR_VIEW_NOT_FOUND] The table or view `nope` cannot be found.',
      metadata: statusTrailer(protocol, {
        reason: 'org.apache.spark.sql.AnalysisException',
        domain: 'org.apache.spark',
        metadata: { errorClass: 'TABLE_OR_VIEW_NOT_FOUND', sqlState: '42P01', messageParameters: '{"relationName":"`nope`"}', errorId: 'e1' },
      }),
    };
    const info = errorInfoOf(protocol.root, failure);
    assert.equal(info?.metadata.errorClass, 'TABLE_OR_VIEW_NOT_FOUND');
    const err = mapConnectError(failure, info);
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(err.category, 'user');
    assert.equal(err.retryable, false);
    assert.deepEqual(err.details, {
      engine: 'spark',
      reason: failure.details,
      exception: 'org.apache.spark.sql.AnalysisException',
      errorClass: 'TABLE_OR_VIEW_NOT_FOUND',
      sqlState: '42P01',
      messageParameters: { relationName: '`nope`' },
      errorId: 'e1',
    });
  });

  it('maps a lost connection to a retryable engine error, and an unexplained refusal to a query error', () => {
    const lost = mapConnectError({ code: status.UNAVAILABLE, details: 'Connection dropped' }, undefined);
    assert.equal(lost.code, 'SLUICE_ENGINE_CRASHED');
    assert.equal(lost.retryable, true);
    const refused = mapConnectError({ code: status.INVALID_ARGUMENT, details: 'bad plan' }, undefined);
    assert.equal(refused.code, 'SLUICE_ENGINE_QUERY_FAILED');
    assert.equal(refused.details.grpcCode, status.INVALID_ARGUMENT);
    assert.equal(errorInfoOf(protocol.root, { code: 13, metadata: new Metadata() }), undefined);
  });
});
