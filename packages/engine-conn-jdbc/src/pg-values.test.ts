import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteaToBase64, convertScalar, convertValue, parsePgArray } from './pg-values.ts';

const iso = { isoDates: true };

describe('PostgreSQL value text', () => {
  it('parses array literals, quoted, escaped, nested and with bounds', () => {
    const same = (s: string) => s;
    assert.deepEqual(parsePgArray('{}', ',', same), []);
    assert.deepEqual(parsePgArray('{a,"b c","d\\"e",NULL,"NULL"}', ',', same), ['a', 'b c', 'd"e', null, 'NULL']);
    assert.deepEqual(parsePgArray('{{1,2},{3,4}}', ',', Number), [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(parsePgArray('[0:1]={7,8}', ',', Number), [7, 8]);
    assert.deepEqual(parsePgArray('{(0,0),(1,1);(2,2),(3,3)}', ';', same), ['(0,0),(1,1)', '(2,2),(3,3)']);
    assert.throws(() => parsePgArray('{1,2', ',', same), /malformed/);
  });

  it('decodes bytea in hex and in the escape format', () => {
    assert.equal(byteaToBase64('\\x00ff'), Buffer.from([0, 255]).toString('base64'));
    assert.equal(byteaToBase64('a\\000\\\\\\377'), Buffer.from([0x61, 0, 0x5c, 0xff]).toString('base64'));
  });

  it('converts scalars by kind and keeps exact values as text', () => {
    assert.equal(convertScalar('42', 'int', iso), 42);
    assert.equal(convertScalar('9223372036854775807', 'bigint', iso), '9223372036854775807');
    assert.equal(convertScalar('0.10', 'numeric', iso), '0.10');
    assert.equal(convertScalar('-Infinity', 'float', iso), '-Infinity');
    assert.equal(convertScalar('1e-07', 'float', iso), 1e-7);
    assert.equal(convertScalar('f', 'bool', iso), false);
    assert.equal(convertScalar('2024-01-02 03:04:05.5+02', 'timestamptz', iso), '2024-01-02T03:04:05.5+02:00');
    assert.equal(convertScalar('2024-01-02 03:04:05', 'timestamp', { isoDates: false }), '2024-01-02 03:04:05');
    assert.deepEqual(convertScalar('{"n": 1}', 'json', iso), { n: 1 });
    assert.equal(convertValue(null, { kind: 'int' }, iso), null);
    assert.deepEqual(convertValue('{1,NULL}', { kind: 'int', array: { delimiter: ',' } }, iso), [1, null]);
  });
});
