import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshPostgres, type TestSource } from './jdbc-servers.ts';
import { queryRows, runTask } from './task-runner.ts';

describe('postgresql values round-trip losslessly', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshPostgres('jdbc_values');
    engine = await createJdbcConnector().launch({ engineId: 'pg-values', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('gives each type its Sluice form and its upper-case SQL type name', async () => {
    await runTask(
      engine,
      `CREATE TYPE mood AS ENUM ('sad', 'happy');
       CREATE DOMAIN big_id AS bigint;
       CREATE TABLE v (
         i2 smallint, i4 integer, i8 bigint, n numeric, n2 numeric(12,3), f4 real, f8 double precision,
         b boolean, t text, vc varchar(5), c char(3), d date, ts timestamp(3), tstz timestamptz, tm time, tmtz timetz,
         iv interval, by bytea, j json, jb jsonb, u uuid, m mood, dom big_id, ia integer[], ta text[], na numeric[][],
         ba bytea[], da date[], ja jsonb[], money_ money, inet_ inet
       );
       INSERT INTO v VALUES (
         -32768, 2147483647, 9223372036854775807, 123456789012345678901234567890.123456789, -0.5, 1.5, 0.1,
         true, 'tab\there "q" ''s'' ünï', 'abc', 'x', '2024-02-29', '2024-02-29 23:59:59.123', '2024-01-01 12:00:00+05:30', '23:59:59.999999', '12:00:00-03',
         '1 year 2 mons 3 days 04:05:06', '\\x00ff10', '{"a": [1, 2.5, null], "b": "x"}', '{"big": 12, "s": "y"}',
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', 9007199254740993, '{1,NULL,3}', '{"a,b","c\\"d",NULL,"NULL"}', '{{1.10,2},{3,4}}',
         '{"\\\\x01","\\\\xfeff"}', '{2024-01-01,NULL}', ARRAY['{"k":1}'::jsonb, '[true]'::jsonb], 12.34, '192.168.0.1/24'
       );
       INSERT INTO v (i4) VALUES (NULL);`,
    );
    const out = await runTask(engine, 'SELECT * FROM v ORDER BY i4 NULLS LAST');
    const set = out.resultSets[0]!;
    assert.deepEqual(
      set.columns.map((c) => c.type),
      [
        'SMALLINT',
        'INTEGER',
        'BIGINT',
        'NUMERIC',
        'NUMERIC(12,3)',
        'REAL',
        'DOUBLE PRECISION',
        'BOOLEAN',
        'TEXT',
        'CHARACTER VARYING(5)',
        'CHARACTER(3)',
        'DATE',
        'TIMESTAMP(3) WITHOUT TIME ZONE',
        'TIMESTAMP WITH TIME ZONE',
        'TIME WITHOUT TIME ZONE',
        'TIME WITH TIME ZONE',
        'INTERVAL',
        'BYTEA',
        'JSON',
        'JSONB',
        'UUID',
        'MOOD',
        'BIGINT',
        'INTEGER[]',
        'TEXT[]',
        'NUMERIC[]',
        'BYTEA[]',
        'DATE[]',
        'JSONB[]',
        'MONEY',
        'INET',
      ],
    );
    const [row, nulls] = set.rows;
    assert.deepEqual(row, [
      -32768,
      2147483647,
      '9223372036854775807',
      '123456789012345678901234567890.123456789',
      '-0.500',
      1.5,
      0.1,
      true,
      'tab\there "q" \'s\' ünï',
      'abc',
      'x  ',
      '2024-02-29',
      '2024-02-29T23:59:59.123',
      '2024-01-01T06:30:00+00:00',
      '23:59:59.999999',
      '12:00:00-03:00',
      '1 year 2 mons 3 days 04:05:06',
      Buffer.from([0, 0xff, 0x10]).toString('base64'),
      { a: [1, 2.5, null], b: 'x' },
      { big: 12, s: 'y' },
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      'happy',
      '9007199254740993',
      [1, null, 3],
      ['a,b', 'c"d', null, 'NULL'],
      [
        ['1.10', '2'],
        ['3', '4'],
      ],
      [Buffer.from([1]).toString('base64'), Buffer.from([0xfe, 0xff]).toString('base64')],
      ['2024-01-01', null],
      [{ k: 1 }, [true]],
      '$12.34',
      '192.168.0.1/24',
    ]);
    assert.deepEqual(nulls, new Array(31).fill(null), 'NULL is null in every type');
  });

  it('keeps the session time zone of timestamptz values as their offset', async () => {
    const rows = await queryRows(
      engine,
      "SET TIME ZONE 'Asia/Kolkata'; SELECT '2024-01-01 00:00:00+00'::timestamptz AS t, '2024-06-01 10:00:00'::timestamp AS l",
    );
    assert.deepEqual(rows, [['2024-01-01T05:30:00+05:30', '2024-06-01T10:00:00']]);
    await runTask(engine, 'RESET TIME ZONE');
  });

  it('prints non-finite and extreme values as text', async () => {
    const rows = await queryRows(
      engine,
      `SELECT 'NaN'::float8, 'Infinity'::float8, '-Infinity'::float4, 'NaN'::numeric, 'infinity'::date, '-infinity'::timestamptz,
              '0044-03-15 BC'::date, '10000-01-01'::date, 1e308::float8, 5e-324::float8`,
    );
    assert.deepEqual(rows, [['NaN', 'Infinity', '-Infinity', 'NaN', 'infinity', '-infinity', '-000043-03-15', '+010000-01-01', 1e308, 5e-324]]);
  });

  it('passes dates as the server prints them once the session leaves ISO DateStyle', async () => {
    const rows = await queryRows(engine, "SET DateStyle = 'SQL, DMY'; SELECT '2024-02-01'::date");
    assert.deepEqual(rows, [['01/02/2024']]);
    const back = await queryRows(engine, "SET DateStyle = 'ISO, YMD'; SELECT '2024-02-01'::date");
    assert.deepEqual(back, [['2024-02-01']]);
  });

  it('reads bytea in the legacy escape output format too', async () => {
    const rows = await queryRows(engine, "SET bytea_output = 'escape'; SELECT '\\x00015c41ff'::bytea");
    assert.deepEqual(rows, [[Buffer.from([0, 1, 0x5c, 0x41, 0xff]).toString('base64')]]);
    await runTask(engine, 'RESET bytea_output');
  });

  it('reports affected rows and command tags as log lines', async () => {
    const out = await runTask(engine, 'CREATE TABLE w (a int); INSERT INTO w SELECT generate_series(1, 5); UPDATE w SET a = a + 1 WHERE a > 2; DELETE FROM w');
    assert.deepEqual(
      out.logs.filter((l) => !l.startsWith('Statement')),
      ['CREATE TABLE OK', '5 rows affected', '3 rows affected', '5 rows affected'],
    );
  });

  it('gives an empty result set its columns', async () => {
    const out = await runTask(engine, 'SELECT 1 AS one WHERE false');
    assert.deepEqual(out.resultSets, [{ columns: [{ name: 'one', type: 'INTEGER' }], rows: [] }]);
  });
});
