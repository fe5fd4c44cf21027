import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { formatDate, formatTimestamp } from './temporal-text.ts';
import { type JsonValue, toJsonValue } from './value-conversion.ts';

describe('toJsonValue (against real DuckDB values)', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });

  after(() => {
    connection.closeSync();
    instance.closeSync();
  });

  async function one(sql: string): Promise<JsonValue> {
    const reader = await connection.runAndReadAll(`SELECT ${sql}`);
    const rows = reader.getRows();
    assert.equal(rows.length, 1);
    return toJsonValue(rows[0]![0]!);
  }

  it('keeps BIGINT, UBIGINT and HUGEINT beyond 2^53 exact as decimal strings', async () => {
    assert.equal(await one('9007199254740993::BIGINT'), '9007199254740993');
    assert.equal(await one('(-9223372036854775808)::BIGINT'), '-9223372036854775808');
    assert.equal(await one('18446744073709551615::UBIGINT'), '18446744073709551615');
    assert.equal(await one('170141183460469231731687303715884105727::HUGEINT'), '170141183460469231731687303715884105727');
    // Small BIGINTs are strings too: the type decides, not the value.
    assert.equal(await one('1::BIGINT'), '1');
  });

  it('gives smaller integers, floats and doubles as numbers; non-finite doubles as strings', async () => {
    assert.equal(await one('-5::TINYINT'), -5);
    assert.equal(await one('2147483647::INTEGER'), 2147483647);
    assert.equal(await one('4294967295::UINTEGER'), 4294967295);
    assert.equal(await one('1.5::FLOAT'), 1.5);
    assert.equal(await one('0.1::DOUBLE'), 0.1);
    assert.equal(await one("'inf'::DOUBLE"), 'Infinity');
    assert.equal(await one("'-inf'::DOUBLE"), '-Infinity');
    assert.equal(await one("'nan'::DOUBLE"), 'NaN');
  });

  it('gives DECIMAL as exact decimal strings', async () => {
    assert.equal(await one('12.34::DECIMAL(18,2)'), '12.34');
    assert.equal(await one('(-0.05)::DECIMAL(18,2)'), '-0.05');
    assert.equal(await one('123456789012345678.90::DECIMAL(38,2)'), '123456789012345678.90');
    assert.equal(await one('7::DECIMAL(4,0)'), '7');
  });

  it('gives DATE as YYYY-MM-DD, with infinities and years outside 0000–9999', async () => {
    assert.equal(await one("DATE '2024-02-29'"), '2024-02-29');
    assert.equal(await one("DATE '1969-12-31'"), '1969-12-31');
    assert.equal(await one("DATE '0044-03-15 (BC)'"), '-000043-03-15');
    assert.equal(await one("DATE 'infinity'"), 'infinity');
    assert.equal(await one("DATE '-infinity'"), '-infinity');
  });

  it('gives TIME and TIMESTAMP as ISO-8601 text, TIMESTAMPTZ and TIMETZ with their offset', async () => {
    assert.equal(await one("TIME '01:02:03.5'"), '01:02:03.5');
    assert.equal(await one("TIMESTAMP '2024-01-02 03:04:05.123456'"), '2024-01-02T03:04:05.123456');
    assert.equal(await one("TIMESTAMP '1969-12-31 23:59:59.5'"), '1969-12-31T23:59:59.5');
    assert.equal(await one("TIMESTAMP_S '2024-01-02 03:04:05'"), '2024-01-02T03:04:05');
    assert.equal(await one("TIMESTAMP_MS '2024-01-02 03:04:05.250'"), '2024-01-02T03:04:05.25');
    assert.equal(await one("TIMESTAMP_NS '2024-01-02 03:04:05.123456789'"), '2024-01-02T03:04:05.123456789');
    assert.equal(await one("TIMESTAMPTZ '2024-01-02 03:04:05+02'"), '2024-01-02T01:04:05+00:00');
    assert.equal(await one("TIMETZ '01:02:03+05:30'"), '01:02:03+05:30');
    assert.equal(await one("TIMESTAMP 'infinity'"), 'infinity');
  });

  it('formats timestamps and dates exactly as DuckDB does, for random instants', async () => {
    const reader = await connection.runAndReadAll(
      `SELECT epoch_us(ts)::VARCHAR, ts::VARCHAR, (ts::DATE - DATE '1970-01-01')::VARCHAR, ts::DATE::VARCHAR ` +
        'FROM (SELECT make_timestamp((random() * 2.5e17 - 6.2e16)::BIGINT) AS ts FROM range(2000))',
    );
    for (const [micros, text, days, date] of reader.getRows() as string[][]) {
      assert.equal(formatTimestamp(BigInt(micros!)), text!.replace(' ', 'T'));
      assert.equal(formatDate(Number(days)), date);
    }
  });

  it('gives LIST and ARRAY as arrays, STRUCT and MAP as objects, nested', async () => {
    assert.deepEqual(await one('[1, NULL, 3]::INTEGER[]'), [1, null, 3]);
    assert.deepEqual(await one('[1, 2]::BIGINT[2]'), ['1', '2']);
    assert.deepEqual(await one("{'x': 1, 'y': 'z', 'd': DATE '2024-01-02'}"), { x: 1, y: 'z', d: '2024-01-02' });
    assert.deepEqual(await one("MAP {'a': 1, 'b': 2}"), { a: 1, b: 2 });
    assert.deepEqual(await one('MAP {1: 10}'), { '1': 10 });
    assert.deepEqual(await one("[{'k': [1.5::DECIMAL(3,1)]}]"), [{ k: ['1.5'] }]);
  });

  it('gives BLOB as base64 and NULL as null', async () => {
    assert.equal(await one("'\\xAA\\x01hi'::BLOB"), Buffer.from([0xaa, 0x01, 0x68, 0x69]).toString('base64'));
    assert.equal(await one("''::BLOB"), '');
    assert.equal(await one('NULL'), null);
    assert.equal(await one('NULL::BIGINT'), null);
  });

  it("gives INTERVAL, UUID and ENUM as DuckDB's text", async () => {
    assert.equal(await one("INTERVAL '1 day 2 hours'"), '1 day 02:00:00');
    assert.equal(await one("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID"), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.equal(await one("'b'::ENUM('a', 'b')"), 'b');
    assert.equal(await one('true'), true);
  });

  it('gives UNION as { tag, value }', async () => {
    assert.deepEqual(await one('union_value(n := 2)::UNION(n INTEGER, s VARCHAR)'), { tag: 'n', value: 2 });
  });
});
