import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstKeyword, splitStatements } from './sql-splitter.ts';

const texts = (sql: string, dialect: 'postgresql' | 'mysql' | 'clickhouse') => splitStatements(sql, dialect).map((s) => s.text);

describe('splitStatements', () => {
  it('splits at top-level semicolons and drops empty statements', () => {
    assert.deepEqual(texts('SELECT 1; ; SELECT 2;\n', 'postgresql'), ['SELECT 1', 'SELECT 2']);
    assert.deepEqual(texts('  ', 'mysql'), []);
    assert.deepEqual(texts('-- only a comment; really\n/* and; this */', 'postgresql'), []);
  });

  it('keeps semicolons inside quotes, identifiers and comments', () => {
    assert.deepEqual(texts(`SELECT 'a;b', "c;d" FROM t -- x; y\n; SELECT /* ; */ 2`, 'postgresql'), [`SELECT 'a;b', "c;d" FROM t -- x; y`, 'SELECT /* ; */ 2']);
    assert.deepEqual(texts("SELECT 'it''s; fine'; SELECT 2", 'postgresql'), ["SELECT 'it''s; fine'", 'SELECT 2']);
  });

  it('knows PostgreSQL dollar quoting, nested comments and E strings', () => {
    const body = 'CREATE FUNCTION f() RETURNS int AS $fn$ BEGIN; RETURN 1; END $fn$ LANGUAGE plpgsql';
    assert.deepEqual(texts(`${body}; SELECT $$a;b$$`, 'postgresql'), [body, 'SELECT $$a;b$$']);
    assert.deepEqual(texts('SELECT /* a /* b; */ c; */ 1; SELECT 2', 'postgresql'), ['SELECT /* a /* b; */ c; */ 1', 'SELECT 2']);
    assert.deepEqual(texts("SELECT E'\\';'; SELECT 2", 'postgresql'), ["SELECT E'\\';'", 'SELECT 2']);
    // In a standard string a backslash is just a character.
    assert.deepEqual(texts("SELECT 'a\\'; SELECT 2", 'postgresql'), ["SELECT 'a\\'", 'SELECT 2']);
  });

  it('knows MySQL backslash escapes, backticks, # comments and the space after --', () => {
    assert.deepEqual(texts("SELECT 'a\\';b'; SELECT `x;y` # c; d\n; SELECT 1--1", 'mysql'), ["SELECT 'a\\';b'", 'SELECT `x;y` # c; d', 'SELECT 1--1']);
    assert.deepEqual(texts('SELECT "a\\";b"; SELECT 2', 'mysql'), ['SELECT "a\\";b"', 'SELECT 2']);
  });

  it('treats ClickHouse like MySQL for quotes, with -- comments', () => {
    assert.deepEqual(texts("SELECT 'a\\';b' -- c;\n; SELECT `t;`", 'clickhouse'), ["SELECT 'a\\';b' -- c;", 'SELECT `t;`']);
  });

  it('names the first keyword of each statement', () => {
    assert.deepEqual(
      splitStatements('/* hi */ select 1; (SELECT 2); -- c\n insert into t values (1); 42', 'postgresql').map((s) => s.keyword),
      ['SELECT', 'SELECT', 'INSERT', ''],
    );
    assert.equal(firstKeyword('# c\nSHOW TABLES', 'mysql'), 'SHOW');
  });
});
