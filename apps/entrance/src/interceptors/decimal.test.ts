import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addDecimal, type Decimal, divideDecimal, formatDecimal, multiplyDecimal, parseDecimal, subtractDecimal } from './decimal.ts';

const d = (s: string): Decimal => {
  const v = parseDecimal(s);
  assert.ok(v, `not a decimal: ${s}`);
  return v;
};
const calc = (op: (a: Decimal, b: Decimal) => Decimal, a: string, b: string) => formatDecimal(op(d(a), d(b)));

describe('decimal', () => {
  test('parses plain decimals only', () => {
    assert.deepEqual(parseDecimal('-3.50'), { coef: -350n, scale: 2 });
    assert.deepEqual(parseDecimal('+.5'), { coef: 5n, scale: 1 });
    assert.deepEqual(parseDecimal('7.'), { coef: 7n, scale: 0 });
    for (const bad of ['', '.', '1e3', ' 1', '1 ', '0x10', '--1', '1.2.3', 'abc']) assert.equal(parseDecimal(bad), undefined, bad);
  });

  test('formats whole numbers without a fraction and keeps the scale of others', () => {
    assert.equal(formatDecimal({ coef: 300n, scale: 2 }), '3');
    assert.equal(formatDecimal({ coef: 250n, scale: 2 }), '2.50');
    assert.equal(formatDecimal({ coef: -5n, scale: 3 }), '-0.005');
    assert.equal(formatDecimal({ coef: 0n, scale: 4 }), '0');
  });

  test('adds, subtracts and multiplies exactly', () => {
    assert.equal(calc(addDecimal, '0.1', '0.2'), '0.3');
    assert.equal(calc(addDecimal, '1.50', '1'), '2.50');
    assert.equal(calc(addDecimal, '1.5', '1.5'), '3');
    assert.equal(calc(subtractDecimal, '1', '1.25'), '-0.25');
    assert.equal(calc(multiplyDecimal, '1.1', '1.1'), '1.21');
    assert.equal(calc(addDecimal, '9223372036854775807', '1'), '9223372036854775808');
    assert.equal(calc(subtractDecimal, '3000102010000000000000000200001', '1'), '3000102010000000000000000200000');
  });

  test('divides exactly when the quotient terminates', () => {
    assert.equal(calc(divideDecimal, '10', '4'), '2.5');
    assert.equal(calc(divideDecimal, '1', '8'), '0.125');
    assert.equal(calc(divideDecimal, '1.50', '0.5'), '3');
    assert.equal(calc(divideDecimal, '-7', '2'), '-3.5');
    assert.equal(calc(divideDecimal, '6', '-3'), '-2');
  });

  test('rounds a non-terminating quotient to 34 significant digits, half to even', () => {
    assert.equal(calc(divideDecimal, '1', '3'), '0.3333333333333333333333333333333333');
    assert.equal(calc(divideDecimal, '2', '3'), '0.6666666666666666666666666666666667');
    assert.equal(calc(divideDecimal, '-2', '3'), '-0.6666666666666666666666666666666667');
    assert.equal(calc(divideDecimal, '100', '7'), '14.28571428571428571428571428571429');
    assert.equal(calc(divideDecimal, '1', '300'), '0.003333333333333333333333333333333333');
  });

  test('division by zero throws', () => {
    assert.throws(() => divideDecimal(d('1'), d('0.0')), RangeError);
  });
});
