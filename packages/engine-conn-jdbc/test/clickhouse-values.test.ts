import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshClickhouse, type TestSource } from './jdbc-servers.ts';
import { queryRows, runTask } from './task-runner.ts';

describe('clickhouse values round-trip losslessly', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshClickhouse();
    engine = await createJdbcConnector().launch({ engineId: 'ch-values', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('gives each type its Sluice form, its SQL type name and its nullability', async () => {
    await runTask(
      engine,
      `CREATE TABLE v (
         i8 Int8, u8 UInt8, i32 Int32, u32 UInt32, i64 Int64, u64 UInt64, f32 Float32, f64 Float64, d Decimal(38, 10), d64 Decimal64(3),
         s String, fs FixedString(4), dt Date, ts DateTime, tstz DateTime('Asia/Tokyo'), u UUID, e Enum8('Sad' = 1, 'happy' = 2),
         ns Nullable(String), ai Array(Int64), as Array(Nullable(String)), aa Array(Array(UInt8)), t Tuple(UInt8, String), ad Array(Date)
       ) ENGINE = Memory;
       INSERT INTO v VALUES (
         -128, 255, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, 0.1, 0.1, '12345678901234567890123456.0123456789', -1.5,
         'tab\\there ''q'' \\\\ ünï\\nline', 'ab', '2024-02-29', '2024-02-29 23:59:59', '2024-01-01 09:00:00',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Sad', NULL, [9007199254740993, -1], ['a,b', NULL, 'c''d', '\\t'], [[1, 2], []], (7, 'x'),
         ['2024-01-01']
       )`,
    );
    const out = await runTask(engine, "SELECT *, toLowCardinality('low') AS lc FROM v");
    const set = out.resultSets[0]!;
    assert.deepEqual(
      set.columns.map((c) => [c.type, c.nullable]),
      [
        ['TINYINT', false],
        ['TINYINT UNSIGNED', false],
        ['INTEGER', false],
        ['INTEGER UNSIGNED', false],
        ['BIGINT', false],
        ['BIGINT UNSIGNED', false],
        ['REAL', false],
        ['DOUBLE', false],
        ['DECIMAL(38,10)', false],
        ['DECIMAL(18,3)', false],
        ['VARCHAR', false],
        ['CHAR(4)', false],
        ['DATE', false],
        ['TIMESTAMP', false],
        ['TIMESTAMP', false],
        ['UUID', false],
        ["ENUM8('Sad' = 1, 'happy' = 2)", false],
        ['VARCHAR', true],
        ['BIGINT[]', false],
        ['VARCHAR[]', false],
        ['TINYINT UNSIGNED[][]', false],
        ['TUPLE(TINYINT UNSIGNED, VARCHAR)', false],
        ['DATE[]', false],
        ['VARCHAR', false],
      ],
    );
    assert.deepEqual(set.rows, [
      [
        -128,
        255,
        -2147483648,
        4294967295,
        '-9223372036854775808',
        '18446744073709551615',
        0.1,
        0.1,
        '12345678901234567890123456.0123456789',
        '-1.500',
        "tab\there 'q' \\ ünï\nline",
        'ab\0\0',
        '2024-02-29',
        '2024-02-29T23:59:59',
        '2024-01-01T09:00:00',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        'Sad',
        null,
        ['9007199254740993', '-1'],
        ['a,b', null, "c'd", '\t'],
        [[1, 2], []],
        [7, 'x'],
        ['2024-01-01'],
        'low',
      ],
    ]);
  });

  it('prints non-finite floats as text and keeps exact integers past 2^53', async () => {
    const rows = await queryRows(engine, 'SELECT nan, inf, -inf, toUInt64(9007199254740993), [nan, 1.5], toFloat64(1e308), toNullable(NULL)');
    assert.deepEqual(rows, [['NaN', 'Infinity', '-Infinity', '9007199254740993', ['NaN', 1.5], 1e308, null]]);
  });

  it('gives an empty result its columns, and DDL a log line', async () => {
    const empty = await runTask(engine, 'SELECT 1 AS one WHERE 0');
    assert.deepEqual(empty.resultSets, [{ columns: [{ name: 'one', type: 'TINYINT UNSIGNED', nullable: false }], rows: [] }]);
    const ddl = await runTask(engine, 'CREATE TABLE w (a UInt8) ENGINE = Memory');
    assert.deepEqual(ddl.resultSets, []);
    assert.ok(ddl.logs.includes('OK'), JSON.stringify(ddl.logs));
  });

  it('fails a statement whose error comes after rows were streamed', async () => {
    const err = await runTask(engine, 'SELECT number, throwIf(number = 300000) FROM system.numbers LIMIT 400000').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_QUERY_FAILED', String(err));
    assert.match(err.message, /throwIf|non zero/);
    assert.equal(err.details.errorCode, 395);
  });
});
