import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParameterError, parameterLiteral, quoteString } from './sql-literals.ts';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('parameter literals', () => {
  it('quotes strings so no value can end the literal', () => {
    assert.equal(parameterLiteral(0, 0, text("x'); DROP TABLE t; --"), 'postgres', 'duckdb'), "'x''); DROP TABLE t; --'");
    assert.equal(parameterLiteral(25, 0, text("a\\'b"), 'mysql', 'jdbc'), "'a\\\\''b'");
    assert.throws(() => quoteString('a\u0000b', 'postgres'), ParameterError);
  });

  it('checks numbers are numbers and parenthesises negatives', () => {
    assert.equal(parameterLiteral(23, 0, text('42'), 'postgres', 'duckdb'), '42');
    assert.equal(parameterLiteral(20, 0, text('-5'), 'postgres', 'duckdb'), '(-5)');
    assert.throws(
      () => parameterLiteral(23, 0, text('1; DROP TABLE t'), 'postgres', 'duckdb'),
      (e: ParameterError) => e.sqlState === '22P02',
    );
    assert.equal(parameterLiteral(1700, 0, text('1.5e3'), 'postgres', 'duckdb'), '1.5e3');
    assert.equal(parameterLiteral(701, 0, text('NaN'), 'postgres', 'duckdb'), "CAST('NaN' AS DOUBLE PRECISION)");
  });

  it('decodes binary parameters', () => {
    const i4 = Buffer.alloc(4);
    i4.writeInt32BE(-7);
    assert.equal(parameterLiteral(23, 1, i4, 'postgres', 'duckdb'), '(-7)');
    const i8 = Buffer.alloc(8);
    i8.writeBigInt64BE(9007199254740993n);
    assert.equal(parameterLiteral(20, 1, i8, 'postgres', 'duckdb'), '9007199254740993');
    // numeric 12345678901234.5678: weight 3, digits 12 3456 7890 1234 5678, dscale 4
    const num = Buffer.alloc(8 + 10);
    for (const [i, v] of [5, 3, 0, 4, 12, 3456, 7890, 1234, 5678].entries()) num.writeInt16BE(v, i * 2);
    assert.equal(parameterLiteral(1700, 1, num, 'postgres', 'duckdb'), '12345678901234.5678');
    assert.equal(parameterLiteral(16, 1, Buffer.from([1]), 'postgres', 'duckdb'), 'TRUE');
    assert.equal(parameterLiteral(17, 1, Buffer.from([0xde, 0xad]), 'postgres', 'duckdb'), "from_hex('dead')");
    assert.equal(parameterLiteral(17, 1, Buffer.from([0xde, 0xad]), 'postgres', 'jdbc'), "'\\xdead'::bytea");
    assert.throws(
      () => parameterLiteral(23, 1, Buffer.alloc(3), 'postgres', 'duckdb'),
      (e: ParameterError) => e.sqlState === '22P03',
    );
    assert.equal(parameterLiteral(23, 0, null, 'postgres', 'duckdb'), 'NULL');
  });
});
