import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { emitProtocolTypes } from './protocol-types-emitter.ts';

const PROTO = `
syntax = "proto3";
package spark.connect;
import "google/rpc/status.proto";

// A request.
message Ask {
  // Says what.
  string query = 1;
  int64 limit = 2;
  repeated string tags = 3;
  map<string, Nested> by_name = 4;
  Mode mode = 5;
  bytes payload = 6;
  optional int32 depth = 7;
  oneof target {
    Nested nested = 8;
    bool all = 9;
  }
  google.rpc.Status status = 10;

  message Nested {}
}

message Answer { double score = 1; }

enum Mode {
  MODE_UNSPECIFIED = 0;
  // Fast and loose.
  MODE_FAST = 1;
}

service Asker {
  // Asks once.
  rpc One(Ask) returns (Answer) {}
  rpc Many(Ask) returns (stream Answer) {}
}
`;

const STATUS = `
syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; }
`;

function rootOf(): protobuf.Root {
  const root = new protobuf.Root();
  protobuf.parse(STATUS, root, { keepCase: true });
  protobuf.parse(PROTO, root, { keepCase: true, alternateCommentMode: true });
  root.resolveAll();
  return root;
}

describe('protocol type emitter', () => {
  it('emits interfaces, enum unions, oneof discriminators and service method maps in the loader shape', () => {
    const ts = emitProtocolTypes(rootOf());
    const ask = /export interface Ask \{\n([\s\S]*?)\n\}/.exec(ts)?.[1] ?? '';
    assert.match(ts, /\/\*\* A request\. \*\/\nexport interface Ask \{/);
    assert.match(ask, /\/\*\* Says what\. \*\/\n {2}query\?: string;/);
    assert.match(ask, /\n {2}limit\?: string;/, 'int64 as a decimal string');
    assert.match(ask, /\n {2}tags\?: string\[\];/);
    assert.match(ask, /\n {2}by_name\?: Record<string, Ask_Nested>;/, 'map fields, nested names joined by _');
    assert.match(ask, /\n {2}mode\?: Mode;/);
    assert.match(ask, /\n {2}payload\?: Buffer;/);
    assert.match(ask, /\n {2}depth\?: number;/);
    assert.match(ask, /\n {2}target\?: 'nested' \| 'all';/, 'a oneof names the member that is set');
    assert.match(ask, /\n {2}_depth\?: 'depth';/, 'proto3 optional is a synthetic oneof');
    assert.match(ask, /\n {2}status\?: GoogleRpcStatus;/, 'other packages are prefixed');
    assert.match(ts, /export type Ask_Nested = Record<string, never>;/);
    assert.match(ts, /export type Mode = 'MODE_UNSPECIFIED' \| 'MODE_FAST';/);
    assert.match(ts, /- `MODE_FAST`: Fast and loose\./);
    assert.match(ts, /export interface GoogleRpcStatus \{\n {2}code\?: number;\n\}/);
    assert.match(ts, /export interface AskerMethods \{/);
    assert.match(ts, /\/\*\* Asks once\. \*\/\n {2}One: \{ request: Ask; response: Answer; requestStream: false; responseStream: false \};/);
    assert.match(ts, /Many: \{ request: Ask; response: Answer; requestStream: false; responseStream: true \};/);
  });

  it('gives the same text for the same protos', () => {
    assert.equal(emitProtocolTypes(rootOf()), emitProtocolTypes(rootOf()));
  });

  it('refuses two types that would get one TypeScript name', () => {
    const root = new protobuf.Root();
    protobuf.parse('syntax = "proto3"; package spark.connect; message A { message B {} } message A_B {}', root, { keepCase: true });
    root.resolveAll();
    assert.throws(() => emitProtocolTypes(root), /both map to the TypeScript name A_B/);
  });
});
