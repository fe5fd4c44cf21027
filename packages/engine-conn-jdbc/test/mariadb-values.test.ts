import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Engine, SluiceError } from '@sluice/core';
import { createJdbcConnector } from '../src/index.ts';
import { freshMysql, type TestSource } from './jdbc-servers.ts';
import { queryRows, runTask } from './task-runner.ts';

describe('mariadb values round-trip losslessly', () => {
  let source: TestSource;
  let engine: Engine;
  before(async () => {
    source = await freshMysql();
    engine = await createJdbcConnector().launch({ engineId: 'my-values', user: 'u', version: '4', workDir: '/tmp', params: {}, dataSource: source.dataSource });
  });
  after(async () => {
    await engine?.close();
    await source?.drop();
  });

  it('gives each type its Sluice form, its SQL type name and its nullability', async () => {
    await runTask(
      engine,
      `SET time_zone = '+00:00';
       CREATE TABLE v (
         ti TINYINT NOT NULL, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
         de DECIMAL(38, 10), du DECIMAL(5, 2) UNSIGNED, f FLOAT, d DOUBLE, dt DATE, dtm DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME, y YEAR,
         c CHAR(3), vc VARCHAR(20), tx TEXT, bn BINARY(3), vb VARBINARY(10), bl BLOB, j JSON, e ENUM('Sad', 'happy'), st SET('a', 'b'),
         bt BIT(12), u UUID
       );
       INSERT INTO v VALUES (
         -128, 255, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
         '1234567890123456789012345678.0123456789', 999.99, 1.5, 0.1, '2024-02-29', '2024-02-29 23:59:59.123', '2024-01-01 09:00:00.000001',
         '-838:59:59', 2024, 'ab', 'tab\\there ''q'' \\\\ ünï', 'line\\nbreak', 'a', x'00ff10', x'deadbeef', '{"a": [1, 2.5, null], "b": "x"}',
         'Sad', 'a,b', b'101010101010', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'
       );
       INSERT INTO v (ti) VALUES (0);`,
    );
    const out = await runTask(engine, 'SELECT * FROM v ORDER BY ti');
    const set = out.resultSets[0]!;
    assert.deepEqual(
      set.columns.map((c) => [c.type, c.nullable]),
      [
        ['TINYINT', false],
        ['TINYINT UNSIGNED', true],
        ['SMALLINT', true],
        ['MEDIUMINT', true],
        ['INT', true],
        ['INT UNSIGNED', true],
        ['BIGINT', true],
        ['BIGINT UNSIGNED', true],
        ['DECIMAL(38,10)', true],
        ['DECIMAL(5,2) UNSIGNED', true],
        ['FLOAT', true],
        ['DOUBLE', true],
        ['DATE', true],
        ['DATETIME(3)', true],
        ['TIMESTAMP(6)', true],
        ['TIME', true],
        ['YEAR', true],
        ['CHAR', true],
        ['VARCHAR', true],
        ['TEXT', true],
        ['BINARY', true],
        ['VARBINARY', true],
        ['BLOB', true],
        ['JSON', true],
        ['ENUM', true],
        ['SET', true],
        ['BIT(12)', true],
        ['UUID', true],
      ],
    );
    const [first, second] = set.rows;
    assert.deepEqual(first, [
      -128,
      255,
      -32768,
      -8388608,
      -2147483648,
      4294967295,
      '-9223372036854775808',
      '18446744073709551615',
      '1234567890123456789012345678.0123456789',
      '999.99',
      1.5,
      0.1,
      '2024-02-29',
      '2024-02-29T23:59:59.123',
      '2024-01-01T09:00:00.000001',
      '-838:59:59',
      2024,
      'ab',
      "tab\there 'q' \\ ünï",
      'line\nbreak',
      Buffer.from([0x61, 0, 0]).toString('base64'),
      Buffer.from([0, 0xff, 0x10]).toString('base64'),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64'),
      { a: [1, 2.5, null], b: 'x' },
      'Sad',
      'a,b',
      String(0b101010101010),
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ]);
    assert.deepEqual(second, [0, ...new Array(27).fill(null)], 'NULL is null in every type');
  });

  it('shows TIMESTAMP in the session time zone and keeps DATETIME as stored', async () => {
    await runTask(
      engine,
      "SET time_zone = '+00:00'; CREATE TABLE tz (ts TIMESTAMP, dt DATETIME); INSERT INTO tz VALUES ('2024-01-01 00:00:00', '2024-01-01 00:00:00')",
    );
    assert.deepEqual(await queryRows(engine, "SET time_zone = '+05:30'; SELECT ts, dt FROM tz"), [['2024-01-01T05:30:00', '2024-01-01T00:00:00']]);
  });

  it('reports affected rows as log lines and gives an empty result its columns', async () => {
    const out = await runTask(engine, 'CREATE TABLE w (a INT); INSERT INTO w SELECT seq FROM seq_1_to_5; UPDATE w SET a = a + 1 WHERE a > 2; DELETE FROM w');
    assert.deepEqual(
      out.logs.filter((l) => !l.startsWith('Statement')),
      ['0 rows affected', '5 rows affected', '3 rows affected', '5 rows affected'],
    );
    const empty = await runTask(engine, 'SELECT 1 AS one FROM DUAL WHERE 1 = 0');
    assert.deepEqual(empty.resultSets, [{ columns: [{ name: 'one', type: 'INT', nullable: false }], rows: [] }]);
  });

  it('refuses LOAD DATA LOCAL INFILE: no file of the engine host is ever read', async () => {
    await runTask(engine, 'CREATE TABLE f (line TEXT)');
    const err = await runTask(engine, "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE f").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SluiceError && err.code === 'SLUICE_ENGINE_QUERY_FAILED', String(err));
    assert.deepEqual(await queryRows(engine, 'SELECT COUNT(*) FROM f'), [['0']]);
  });

  it('splits scripts on semicolons outside quotes and comments, MySQL style', async () => {
    const out = await runTask(
      engine,
      'SELECT \'a;b\' AS s; -- a comment; with a semicolon\nSELECT "c;d" # another; one\n; SELECT `e` FROM (SELECT 1 AS `e`) x',
    );
    assert.deepEqual(
      out.resultSets.map((r) => r.rows),
      [[['a;b']], [['c;d']], [[1]]],
    );
  });
});
