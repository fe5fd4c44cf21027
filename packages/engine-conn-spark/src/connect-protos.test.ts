import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConnectProtocol } from './connect-protos.ts';
import { type DataType, type ExecutePlanRequest, type ExecutePlanResponse, GENERATED_PROTOCOL } from './generated/spark-connect.ts';

/** The gRPC method definitions the loader attaches to the client class. */
type MethodDefinitions = Record<
  string,
  { path: string; requestStream: boolean; responseStream: boolean; requestSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }
>;

describe('the generated Spark Connect protocol', () => {
  it('loads from the generated descriptor and defines spark.connect.SparkConnectService', () => {
    const protocol = loadConnectProtocol();
    assert.equal(protocol.sparkVersion, GENERATED_PROTOCOL.sparkVersion);
    assert.equal(protocol.checksum, GENERATED_PROTOCOL.checksum);
    assert.match(protocol.source, /spark-connect_2\.13-4\.[\d.]+\.jar/);
    for (const file of [
      'spark/connect/base.proto',
      'spark/connect/relations.proto',
      'google/rpc/status.proto',
      'google/rpc/error_details.proto',
      'google/protobuf/any.proto',
    ]) {
      assert.ok(protocol.files.includes(file), `${file} is in the closure; got ${protocol.files.join(', ')}`);
    }
    const methods = (protocol.Service as unknown as { service: MethodDefinitions }).service;
    const expected: Record<string, [boolean, boolean]> = {
      ExecutePlan: [false, true],
      AnalyzePlan: [false, false],
      Config: [false, false],
      AddArtifacts: [true, false],
      Interrupt: [false, false],
      ReattachExecute: [false, true],
      ReleaseExecute: [false, false],
      ReleaseSession: [false, false],
      FetchErrorDetails: [false, false],
    };
    for (const [name, [requestStream, responseStream]] of Object.entries(expected)) {
      const method = methods[name];
      assert.ok(method, `SparkConnectService.${name}`);
      assert.equal(method.path, `/spark.connect.SparkConnectService/${name}`);
      assert.deepEqual([method.requestStream, method.responseStream], [requestStream, responseStream], name);
      assert.equal(typeof (protocol.Service.prototype as unknown as Record<string, unknown>)[name], 'function', name);
    }
    assert.strictEqual(loadConnectProtocol(), protocol, 'built once per process');
  });

  it('encodes requests and decodes responses in the shape the generated types describe', () => {
    const protocol = loadConnectProtocol();
    const methods = (protocol.Service as unknown as { service: MethodDefinitions }).service;
    const execute = methods.ExecutePlan;
    assert.ok(execute);
    const request: ExecutePlanRequest = {
      session_id: '00000000-0000-4000-8000-000000000001',
      user_context: { user_id: 'alice', user_name: 'alice' },
      operation_id: '00000000-0000-4000-8000-000000000002',
      plan: { root: { sql: { query: 'SELECT 1' } } },
      tags: ['t1'],
    };
    const Request = protocol.root.lookupType('spark.connect.ExecutePlanRequest');
    const decodedRequest = Request.toObject(Request.decode(execute.requestSerialize(request)), { oneofs: true }) as ExecutePlanRequest;
    assert.equal(decodedRequest.plan?.root?.sql?.query, 'SELECT 1');
    assert.equal(decodedRequest.plan?.op_type, 'root');

    const Response = protocol.root.lookupType('spark.connect.ExecutePlanResponse');
    const schema: DataType = { struct: { fields: [{ name: 'id', data_type: { long: {} }, nullable: false }] } };
    const bytes = Buffer.from(
      Response.encode(Response.fromObject({ operation_id: 'op', arrow_batch: { row_count: 3, data: Buffer.from([1, 2, 3]) }, schema })).finish(),
    );
    const response = execute.responseDeserialize(bytes) as ExecutePlanResponse;
    assert.equal(response.response_type, 'arrow_batch');
    assert.equal(response.arrow_batch?.row_count, '3', 'int64 is a decimal string');
    assert.ok(Buffer.isBuffer(response.arrow_batch?.data));
    assert.equal(response.schema?.kind, 'struct');
    assert.equal(response.schema?.struct?.fields?.[0]?.data_type?.kind, 'long');
    assert.equal(response.execution_progress, undefined, 'absent fields stay absent (defaults: false)');
  });

  it('makes a protocol mismatch a compile error', () => {
    // Each line below must fail to type-check; `npm run typecheck` fails if one compiles.
    // @ts-expect-error row_count is an int64: a decimal string, not a number
    const wrongScalar: ExecutePlanResponse = { arrow_batch: { row_count: 3 } };
    // @ts-expect-error there is no such field in ExecutePlanResponse.ArrowBatch
    const unknownField: ExecutePlanResponse = { arrow_batch: { rows: '3' } };
    // @ts-expect-error kind names a member of the DataType oneof
    const unknownKind: DataType = { kind: 'uuid' };
    assert.ok(wrongScalar && unknownField && unknownKind);
  });
});
