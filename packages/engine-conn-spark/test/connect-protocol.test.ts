import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Metadata, status } from '@grpc/grpc-js';
import { SluiceError } from '@sluice/core';
import { type ConnectProtocol, errorInfoOf, loadConnectProtocol, mapConnectError, readZipEntries } from '../src/index.ts';
import { generateProtocol, type ProtocolArtifact, pysparkArtifact, pysparkArtifactAt } from '../src/protocol-codegen.ts';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');

/** A trailer as a Spark Connect server sends it: google.rpc.Status with an ErrorInfo detail. */
function statusTrailer(protocol: ConnectProtocol, info: Record<string, unknown>): Metadata {
  const ErrorInfo = protocol.root.lookupType('google.rpc.ErrorInfo');
  const Status = protocol.root.lookupType('google.rpc.Status');
  const detail = { type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: ErrorInfo.encode(ErrorInfo.fromObject(info)).finish() };
  const md = new Metadata();
  md.set('grpc-status-details-bin', Buffer.from(Status.encode(Status.fromObject({ code: 13, message: 'x', details: [detail] })).finish()));
  return md;
}

describe('Spark Connect protocol generated from the published artifact', () => {
  let artifact: ProtocolArtifact;

  before(async () => {
    // The artifact is the Spark Connect jar of the pyspark wheel that CI fetches before the tests.
    // Without it this fails (and says to run the fetch script) rather than skip.
    artifact = await pysparkArtifact(repoRoot);
  });

  it('regenerates byte-identical files from the artifact', async () => {
    const files = await generateProtocol(artifact);
    assert.deepEqual([...files.keys()].sort(), ['spark-connect.json', 'spark-connect.ts']);
    for (const [name, text] of files) {
      const committed = await readFile(path.join(packageDir, 'src/generated', name), 'utf8');
      assert.ok(text === committed, `src/generated/${name} is stale against ${artifact.source}@${artifact.sparkVersion}: run npm run generate:spark-protocol`);
      assert.ok(committed.includes(`from ${artifact.source}@${artifact.sparkVersion} (${artifact.checksum}). Do not edit`), `${name} names its artifact`);
    }
    // The service the connector loads is the one in the jar, untouched.
    const entries = await readZipEntries(artifact.jar, (n) => n === 'spark/connect/base.proto');
    assert.match(entries.get('spark/connect/base.proto')?.toString() ?? '', /service SparkConnectService/);
  });

  it('refuses a jar that does not match the checksum the wheel records for it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-spark-artifact-'));
    try {
      const site = path.dirname(path.dirname(path.dirname(artifact.jar)));
      const distInfo = `pyspark-${artifact.sparkVersion}.dist-info`;
      await mkdir(path.join(dir, 'pyspark', 'jars'), { recursive: true });
      await mkdir(path.join(dir, distInfo));
      await copyFile(path.join(site, distInfo, 'RECORD'), path.join(dir, distInfo, 'RECORD'));
      const copy = path.join(dir, 'pyspark', 'jars', path.basename(artifact.jar));
      await copyFile(artifact.jar, copy);
      assert.equal((await pysparkArtifactAt(path.join(dir, 'pyspark'))).checksum, artifact.checksum, 'the untouched copy verifies');
      const bytes = await readFile(copy);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
      await writeFile(copy, bytes);
      await assert.rejects(pysparkArtifactAt(path.join(dir, 'pyspark')), /does not match the sha256 pyspark's RECORD lists/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Spark Connect error details', () => {
  let protocol: ConnectProtocol;

  before(() => {
    protocol = loadConnectProtocol();
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
