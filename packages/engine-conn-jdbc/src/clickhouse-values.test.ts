import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChException } from './clickhouse-http.ts';
import { chSqlName, parseChType, unwrapChType } from './clickhouse-types.ts';
import { chFieldConverter, unescapeCh } from './clickhouse-values.ts';

const convert = (type: string, raw: string) => chFieldConverter(parseChType(type))(raw);

describe('ClickHouse types and values', () => {
  it('parses types, named tuples and quoted arguments', () => {
    const t = parseChType("Nullable(Array(Tuple(a UInt8, b DateTime('Asia/Tokyo'))))");
    assert.equal(t.name, 'Nullable');
    assert.equal(unwrapChType(t).nullable, true);
    assert.equal(chSqlName(t), 'TUPLE(a TINYINT UNSIGNED, b TIMESTAMP)[]');
    assert.equal(chSqlName(parseChType("Enum8('a,b' = 1, 'C' = 2)")), "ENUM8('a,b' = 1, 'C' = 2)");
    assert.equal(chSqlName(parseChType('LowCardinality(Nullable(String))')), 'VARCHAR');
    assert.equal(chSqlName(parseChType('Decimal128(4)')), 'DECIMAL(38,4)');
    assert.equal(chSqlName(parseChType("DateTime64(6, 'UTC')")), 'TIMESTAMP(6)');
    assert.equal(chSqlName(parseChType('Map(String, Array(Int64))')), 'MAP(VARCHAR, BIGINT[])');
    assert.equal(chSqlName(parseChType('Int128')), 'INT128');
  });

  it('unescapes TabSeparated fields', () => {
    assert.equal(unescapeCh("a\\tb\\nc\\\\d\\'e\\0\\x41"), "a\tb\nc\\d'e\0A");
  });

  it('converts scalars, NULL and composite values', () => {
    assert.equal(convert('Nullable(Int32)', '\\N'), null);
    assert.equal(convert('String', '\\\\N'), '\\N');
    assert.equal(convert('UInt64', '18446744073709551615'), '18446744073709551615');
    assert.equal(convert('Float32', '-inf'), '-Infinity');
    assert.equal(convert('Bool', 'true'), true);
    assert.equal(convert('DateTime64(3)', '2024-01-01 10:00:00.123'), '2024-01-01T10:00:00.123');
    assert.deepEqual(convert('Array(Nullable(String))', "['a\\'b','c,d',NULL,'\\\\']"), ["a'b", 'c,d', null, '\\']);
    assert.deepEqual(convert('Array(Array(Int64))', '[[1,2],[]]'), [['1', '2'], []]);
    assert.deepEqual(convert('Tuple(UInt8, String, Array(Date))', "(1,'x',['2024-01-01'])"), [1, 'x', ['2024-01-01']]);
    assert.deepEqual(convert('Map(String, UInt8)', "{'a':1,'b':2}"), { a: 1, b: 2 });
    assert.deepEqual(convert('Map(UInt8, String)', "{1:'x'}"), { '1': 'x' });
  });

  it('reads exception texts of old and new servers', () => {
    assert.deepEqual(parseChException('Code: 62, e.displayText() = DB::Exception: Syntax error: x, e.what() = DB::Exception\n'), {
      code: 62,
      message: 'Syntax error: x',
    });
    assert.deepEqual(parseChException('Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)'), {
      code: 60,
      message: 'Table default.x does not exist. (UNKNOWN_TABLE) (version 24.3.1.1)',
    });
    assert.equal(parseChException('hello'), undefined);
  });
});
