import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdsUnsafeInteger, parseLosslessJson, parseResponseJson } from './lossless-json.ts';

describe('parseLosslessJson', () => {
  it('keeps integers beyond 2^53 as decimal strings', () => {
    assert.deepEqual(parseLosslessJson('[9007199254740993,-9223372036854775808,9223372036854775807]'), [
      '9007199254740993',
      '-9223372036854775808',
      '9223372036854775807',
    ]);
  });

  it('leaves safe integers, 16-digit ones included, as numbers', () => {
    assert.deepEqual(
      parseLosslessJson('[9007199254740991,-9007199254740991,1234567890123456,42]'),
      [9007199254740991, -9007199254740991, 1234567890123456, 42],
    );
  });

  it('never touches digits inside strings, escaped quotes included', () => {
    const text = '{"a":"12345678901234567890","b":"say \\"99999999999999999999\\" twice","c":[99999999999999999999]}';
    assert.deepEqual(parseLosslessJson(text), { a: '12345678901234567890', b: 'say "99999999999999999999" twice', c: ['99999999999999999999'] });
  });

  it('leaves fractions and exponents with long digit runs as numbers', () => {
    assert.deepEqual(
      parseLosslessJson('[1.2345678901234567890,1.0E-12345678901234567,0.30000000000000004,1.5E300]'),
      [1.2345678901234567, 0, 0.30000000000000004, 1.5e300],
    );
  });

  it('parses like JSON.parse when nothing is long, and rejects what JSON.parse rejects', () => {
    const text = '{"id":"q","data":[[1,"x",null,true,1.5]],"stats":{"state":"RUNNING"}}';
    assert.deepEqual(parseLosslessJson(text), JSON.parse(text));
    assert.throws(() => parseLosslessJson('{"data":[1,'), SyntaxError);
    assert.throws(() => parseLosslessJson('{"data":[12345678901234567890,'), SyntaxError);
  });
});

describe('parseResponseJson', () => {
  it('parses exactly only the pages whose data hold a rounded integer', () => {
    const exact = '{"id":"q","data":[[1,"9007199254740993"]],"stats":{"processedBytes":12}}';
    assert.deepEqual(parseResponseJson(exact), JSON.parse(exact));
    assert.deepEqual(parseResponseJson('{"id":"q","data":[[1,{"k":[9007199254740993]}]]}'), { id: 'q', data: [[1, { k: ['9007199254740993'] }]] });
    assert.deepEqual(parseResponseJson('{"id":"q","data":[[-9223372036854775808, 1.0E20]]}'), { id: 'q', data: [['-9223372036854775808', 1e20]] });
  });

  it('sees every integer beyond 2^53 − 1, 2^53 itself included, and no safe one', () => {
    assert.equal(holdsUnsafeInteger([[9007199254740992]]), true);
    assert.equal(holdsUnsafeInteger([[-9007199254740992]]), true);
    assert.equal(holdsUnsafeInteger([[9007199254740991, -9007199254740991, 1.5, 'x', null, true]]), false);
    assert.equal(holdsUnsafeInteger(undefined), false);
  });
});
