import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProtocolColumn } from './type-signature.ts';
import { compileRowDecoder } from './value-decoder.ts';

const col = (name: string, rawType: string, args: { kind: string; value: unknown }[] = []): ProtocolColumn => ({
  name,
  type: rawType,
  typeSignature: { rawType, arguments: args },
});

describe('compileRowDecoder', () => {
  it('is null when no column needs decoding, so pages pass through untouched', () => {
    assert.equal(compileRowDecoder([col('a', 'integer'), col('b', 'varchar'), col('c', 'decimal'), col('d', 'double')]), null);
  });

  it('makes BIGINT decimal strings and timestamps ISO-8601 text, in place', () => {
    const decode = compileRowDecoder([col('b', 'bigint'), col('t', 'timestamp'), col('z', 'timestamp with time zone'), col('i', 'integer')]);
    assert.ok(decode);
    const rows = [
      [42, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.1 +05:30', 7],
      ['9223372036854775807', '-0001-01-01 00:00:00', '2024-01-02 03:04:05 UTC', null],
      [null, null, '2024-01-02 03:04:05.123456789 America/New_York', 1],
    ];
    decode(rows);
    assert.deepEqual(rows, [
      ['42', '2024-01-02T03:04:05.123456', '2024-01-02T03:04:05.1+05:30', 7],
      ['9223372036854775807', '-0001-01-01T00:00:00', '2024-01-02T03:04:05Z', null],
      [null, null, '2024-01-02T03:04:05.123456789[America/New_York]', 1],
    ]);
  });

  it('decodes inside arrays, maps and rows; named rows become objects', () => {
    const bigint = { kind: 'TYPE', value: { rawType: 'bigint' } };
    const decode = compileRowDecoder([
      col('a', 'array', [bigint]),
      col('m', 'map', [{ kind: 'TYPE', value: { rawType: 'varchar' } }, bigint]),
      col('r', 'row', [
        { kind: 'NAMED_TYPE', value: { fieldName: { name: 'id' }, typeSignature: { rawType: 'bigint' } } },
        { kind: 'NAMED_TYPE', value: { fieldName: { name: 'tag' }, typeSignature: { rawType: 'varchar' } } },
      ]),
      col('anon', 'row', [
        { kind: 'NAMED_TYPE', value: { typeSignature: { rawType: 'bigint' } } },
        { kind: 'NAMED_TYPE', value: { typeSignature: { rawType: 'integer' } } },
      ]),
    ]);
    assert.ok(decode);
    const rows = [[[1, null, '9007199254740993'], { k: 5 }, [7, 'x'], [8, 9]]];
    decode(rows);
    assert.deepEqual(rows, [[['1', null, '9007199254740993'], { k: '5' }, { id: '7', tag: 'x' }, ['8', 9]]]);
  });
});
