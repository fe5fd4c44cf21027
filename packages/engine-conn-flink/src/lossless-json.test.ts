import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonNumber, JsonSyntaxError, parseLosslessJson, plainDecimal, plainJson } from './lossless-json.ts';

describe('parseLosslessJson', () => {
  it('keeps every number as its source text', () => {
    const v = parseLosslessJson('{"a": 12345678901234567890, "b": [1.50, -0.0, 1e-7], "c": "x\\"y\\u00e9", "d": true, "e": null}') as Record<string, unknown>;
    assert.ok(v.a instanceof JsonNumber);
    assert.equal((v.a as JsonNumber).text, '12345678901234567890');
    assert.deepEqual(
      (v.b as JsonNumber[]).map((n) => n.text),
      ['1.50', '-0.0', '1e-7'],
    );
    assert.equal(v.c, 'x"yé');
    assert.equal(v.d, true);
    assert.equal(v.e, null);
  });

  it('parses what JSON.parse parses, numbers aside', () => {
    const text = '{"s":"a\\nb","arr":[[],{}],"nested":{"k":[false,null,"\\\\"]}}';
    assert.deepEqual(plainJson(parseLosslessJson(text)), JSON.parse(text));
  });

  it('rejects malformed JSON with the offset', () => {
    for (const bad of ['{"a":1,}', '[1 2]', '{"a"}', '"open', '01', 'nul', '{"a":1} x']) {
      assert.throws(() => parseLosslessJson(bad), JsonSyntaxError, bad);
    }
  });
});

describe('plainJson', () => {
  it('turns safe numbers into numbers and unsafe integers into their text', () => {
    assert.deepEqual(plainJson(parseLosslessJson('[1, 2.5, 9007199254740993, -9223372036854775808, 1e400]')), [
      1,
      2.5,
      '9007199254740993',
      '-9223372036854775808',
      Infinity,
    ]);
  });
});

describe('plainDecimal', () => {
  it('writes exponents out exactly', () => {
    assert.equal(plainDecimal('1E-7'), '0.0000001');
    assert.equal(plainDecimal('1.5E+3'), '1500');
    assert.equal(plainDecimal('-1.25e1'), '-12.5');
    assert.equal(plainDecimal('0.5E1'), '5');
    assert.equal(plainDecimal('123.4500'), '123.4500');
    assert.equal(plainDecimal('12345678901234567890.123456789'), '12345678901234567890.123456789');
  });
});
