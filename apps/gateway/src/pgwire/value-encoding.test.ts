import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from './byte-writer.ts';
import { pgTypeOf } from './pg-types.ts';
import { dateDays, intervalParts, timestampMicros, writeBinaryValue } from './value-binary.ts';
import { valueText } from './value-text.ts';

function binary(type: string, v: unknown): Buffer {
  const w = new ByteWriter(16);
  writeBinaryValue(w, pgTypeOf(type), v);
  return w.take();
}

describe('type mapping and value encoding', () => {
  it('maps Sluice column types to PostgreSQL OIDs and modifiers', () => {
    assert.equal(pgTypeOf('INTEGER').oid, 23);
    assert.equal(pgTypeOf('BIGINT').oid, 20);
    assert.deepEqual([pgTypeOf('DECIMAL(18,2)').oid, pgTypeOf('DECIMAL(18,2)').modifier], [1700, ((18 << 16) | 2) + 4]);
    assert.equal(pgTypeOf('TIMESTAMP WITH TIME ZONE').oid, 1184);
    assert.equal(pgTypeOf('TIMESTAMP(3) WITH TIME ZONE').oid, 1184);
    assert.equal(pgTypeOf('INTEGER[]').oid, 1007);
    assert.equal(pgTypeOf('VARCHAR[3]').oid, 1009);
    assert.equal(pgTypeOf('STRUCT(a INTEGER)').oid, 114);
    assert.equal(pgTypeOf('CHARACTER VARYING(20)').modifier, 24);
    assert.equal(pgTypeOf('GEOMETRY').oid, 25);
  });

  it('prints values as PostgreSQL does in text format', () => {
    assert.equal(valueText(pgTypeOf('TIMESTAMP'), '2024-03-01T12:34:56.5'), '2024-03-01 12:34:56.5');
    assert.equal(valueText(pgTypeOf('TIMESTAMPTZ'), '2024-03-01T12:34:56+00:00'), '2024-03-01 12:34:56+00');
    assert.equal(valueText(pgTypeOf('BLOB'), Buffer.from([1, 255]).toString('base64')), '\\x01ff');
    assert.equal(valueText(pgTypeOf('VARCHAR[]'), ['a b', 'c"d', null, '', 'NULL']), '{"a b","c\\"d",NULL,"","NULL"}');
    assert.equal(
      valueText(pgTypeOf('INTEGER[][]'), [
        [1, 2],
        [3, null],
      ]),
      '{{1,2},{3,NULL}}',
    );
    assert.equal(valueText(pgTypeOf('BOOLEAN'), false), 'f');
    assert.equal(valueText(pgTypeOf('STRUCT(a INTEGER)'), { a: 1 }), '{"a":1}');
  });

  it('writes the binary formats', () => {
    assert.deepEqual(binary('INTEGER', 258), Buffer.from([0, 0, 0, 4, 0, 0, 1, 2]));
    assert.equal(binary('BIGINT', '9007199254740993').readBigInt64BE(4), 9007199254740993n);
    const num = binary('DECIMAL(20,4)', '-12345678901234.5678');
    assert.deepEqual([num.readInt16BE(4), num.readInt16BE(6), num.readUInt16BE(8), num.readInt16BE(10)], [5, 3, 0x4000, 4]);
    assert.deepEqual([num.readInt16BE(12), num.readInt16BE(20)], [12, 5678]);
    assert.equal(binary('DATE', '2000-01-02').readInt32BE(4), 1);
    assert.equal(dateDays('0001-01-01'), -730119);
    assert.equal(timestampMicros('2000-01-01T00:00:01.5', false), 1_500_000n);
    assert.equal(timestampMicros('2000-01-01 02:00:00+02:00', true), 0n);
    assert.deepEqual(intervalParts('1 year 2 mons 3 days 04:05:06.5'), { months: 14, days: 3, micros: 14_706_500_000n });
    const arr = binary('INTEGER[]', [1, null]);
    assert.deepEqual([arr.readInt32BE(4), arr.readInt32BE(8), arr.readInt32BE(12), arr.readInt32BE(16)], [1, 1, 23, 2]);
    assert.equal(binary('VARCHAR', null).readInt32BE(0), -1);
  });
});
