import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { applyRowLimit } from './row-limit.ts';

const limit = (code: string, codeType = 'sql', n = 100) => applyRowLimit(code, codeType, n);

describe('applyRowLimit', () => {
  test('appends LIMIT to a plain SELECT', () => {
    assert.equal(limit('select * from t'), 'select * from t LIMIT 100');
    assert.equal(limit('SELECT a FROM t WHERE b = 1 ORDER BY a', 'sql', 5000), 'SELECT a FROM t WHERE b = 1 ORDER BY a LIMIT 5000');
  });

  test('keeps a trailing semicolon, blanks and comments after the limit', () => {
    assert.equal(limit('select 1;'), 'select 1 LIMIT 100;');
    assert.equal(limit('select 1 ;  \n'), 'select 1 LIMIT 100 ;  \n');
    assert.equal(limit('select 1 -- the answer\n'), 'select 1 LIMIT 100 -- the answer\n');
    assert.equal(limit('select 1 /* done */;'), 'select 1 LIMIT 100 /* done */;');
  });

  test('leaves a query that already limits at its top level', () => {
    for (const sql of [
      'select * from t limit 10',
      'SELECT * FROM t LIMIT 10 OFFSET 5',
      'select * from t order by a fetch first 10 rows only',
      'select * from t offset 5 rows fetch next 3 rows only',
      'select * from t LIMIT ALL',
    ]) {
      assert.equal(limit(sql), sql);
    }
  });

  test('a LIMIT in a subquery, a CTE or a set operand does not count', () => {
    assert.equal(limit('select * from (select * from t limit 10) x'), 'select * from (select * from t limit 10) x LIMIT 100');
    assert.equal(limit('select * from t where id in (select id from u limit 3)'), 'select * from t where id in (select id from u limit 3) LIMIT 100');
    assert.equal(limit('(select 1 limit 1) union all (select 2)'), '(select 1 limit 1) union all (select 2) LIMIT 100');
    assert.equal(
      limit('with a as (select * from t limit 5), b as (select 1) select * from a, b'),
      'with a as (select * from t limit 5), b as (select 1) select * from a, b LIMIT 100',
    );
  });

  test('WITH … SELECT, VALUES and FROM-first queries are limited', () => {
    assert.equal(
      limit('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r'),
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r LIMIT 100',
    );
    assert.equal(limit('values (1), (2)'), 'values (1), (2) LIMIT 100');
    assert.equal(limit('FROM t'), 'FROM t LIMIT 100');
    assert.equal(limit('select 1 union select 2'), 'select 1 union select 2 LIMIT 100');
  });

  test('the word limit in strings, quoted names and comments is not a limit', () => {
    assert.equal(limit("select 'no limit here' from t"), "select 'no limit here' from t LIMIT 100");
    assert.equal(limit('select "limit", `limit` from t'), 'select "limit", `limit` from t LIMIT 100');
    assert.equal(limit('select a from t -- limit 10'), 'select a from t LIMIT 100 -- limit 10');
    assert.equal(limit('select a /* limit 10 */ from t'), 'select a /* limit 10 */ from t LIMIT 100');
    assert.equal(limit("select 'it''s; limit 1' from t"), "select 'it''s; limit 1' from t LIMIT 100");
    assert.equal(limit('select $$ limit 1; $$ as s'), 'select $$ limit 1; $$ as s LIMIT 100');
  });

  test('Hive strings use backslash escapes', () => {
    assert.equal(limit("select 'it\\'s; limit 1' from t", 'hql'), "select 'it\\'s; limit 1' from t LIMIT 100");
  });

  test('leaves DDL, DML and other statements alone', () => {
    for (const sql of [
      'insert into t select * from u',
      'INSERT OVERWRITE TABLE t SELECT * FROM u',
      'create table t as select * from u',
      'with a as (select 1) insert into t select * from a',
      'update t set a = 1',
      'delete from t',
      'select * into t2 from t',
      'select * from t for update',
      'from src insert overwrite table dst select *',
      'explain select * from t',
      'show tables',
      'describe t',
      'set x = 1',
      'drop table t',
    ]) {
      assert.equal(limit(sql), sql, sql);
    }
  });

  test('function calls named like DML words do not make a query a write', () => {
    assert.equal(
      limit("select replace(a, 'x', 'y'), insert('abc', 1, 1, 'z') from t"),
      "select replace(a, 'x', 'y'), insert('abc', 1, 1, 'z') from t LIMIT 100",
    );
  });

  test('handles each statement of a script', () => {
    const script = [
      '--@set d=20261120',
      'set spark.sql.shuffle.partitions=10;',
      'select * from a;',
      'select * from b limit 5;',
      'insert into c select * from a;',
      '',
      'select * from d -- last',
    ].join('\n');
    const expected = [
      '--@set d=20261120',
      'set spark.sql.shuffle.partitions=10;',
      'select * from a LIMIT 100;',
      'select * from b limit 5;',
      'insert into c select * from a;',
      '',
      'select * from d LIMIT 100 -- last',
    ].join('\n');
    assert.equal(limit(script), expected);
    assert.equal(limit('select 1;;select 2;'), 'select 1 LIMIT 100;;select 2 LIMIT 100;');
  });

  test('a large script is rewritten in linear time', { timeout: 5000 }, () => {
    const script = 'select a from t where b in (select 1 limit 2); -- c\n'.repeat(20_000);
    const out = limit(script);
    assert.equal(out.split(') LIMIT 100;').length, 20_001);
  });

  test('code of only comments or blanks is unchanged', () => {
    assert.equal(limit('-- nothing\n/* here */\n'), '-- nothing\n/* here */\n');
    assert.equal(limit(''), '');
  });

  test('0 turns it off; non-SQL code types are unchanged', () => {
    assert.equal(limit('select 1', 'sql', 0), 'select 1');
    assert.equal(limit('select 1', 'python'), 'select 1');
    assert.equal(limit('select 1', 'shell'), 'select 1');
    assert.equal(limit('select 1', 'tsql'), 'select 1');
    assert.equal(limit('select 1', 'HQL'), 'select 1 LIMIT 100');
    assert.equal(limit('select 1', 'duckdb'), 'select 1 LIMIT 100');
  });

  test('a negative or fractional limit is a configuration error', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => applyRowLimit('select 1', 'sql', bad),
        (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID',
      );
    }
  });
});
