import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changesConfig, routeOf, splitStatements } from './sql-splitter.ts';

describe('splitStatements', () => {
  it('splits at top-level semicolons and records where each statement starts', () => {
    const s = splitStatements("SELECT 1;\n  -- a comment; with a semicolon\n  SELECT ';' AS x, `a;b` FROM t /* ; */;\n\nSET 'k' = 'v'");
    assert.deepEqual(
      s.map((x) => [x.sql, x.line, x.column]),
      [
        ['SELECT 1', 1, 1],
        ["SELECT ';' AS x, `a;b` FROM t /* ; */", 3, 3],
        ["SET 'k' = 'v'", 5, 1],
      ],
    );
  });

  it("handles '' escapes inside literals and drops empty statements", () => {
    const s = splitStatements("SELECT 'it''s; fine';;  ;\n-- only a comment\n");
    assert.deepEqual(
      s.map((x) => x.sql),
      ["SELECT 'it''s; fine'"],
    );
  });

  it('keeps EXECUTE STATEMENT SET BEGIN … END as one statement', () => {
    const sql = 'EXECUTE STATEMENT SET BEGIN\n INSERT INTO a SELECT 1;\n INSERT INTO b SELECT 2;\nEND;\nSELECT 3';
    const s = splitStatements(sql);
    assert.equal(s.length, 2);
    assert.match(s[0]?.sql ?? '', /^EXECUTE STATEMENT SET BEGIN[\s\S]*INSERT INTO b SELECT 2;\nEND$/);
    assert.equal(s[1]?.sql, 'SELECT 3');
    assert.equal(splitStatements('STATEMENT SET BEGIN INSERT INTO a SELECT 1; END').length, 1);
  });

  it('collects the leading words and whether AS is at the top level', () => {
    const [ctas] = splitStatements("CREATE TABLE t WITH ('connector' = 'blackhole') AS SELECT 1");
    assert.deepEqual(ctas?.words.slice(0, 3), ['CREATE', 'TABLE', 'T']);
    assert.equal(ctas?.topLevelAs, true);
    const [computed] = splitStatements("CREATE TABLE t (a INT, b AS a + 1) WITH ('connector' = 'datagen')");
    assert.equal(computed?.topLevelAs, false);
  });
});

describe('routeOf', () => {
  const route = (sql: string) => {
    const [s] = splitStatements(sql);
    assert.ok(s);
    return routeOf(s);
  };

  it('sends DDL-like statements to configure-session', () => {
    for (const sql of [
      "CREATE TEMPORARY TABLE IF NOT EXISTS t (x INT) WITH ('connector' = 'datagen')",
      'CREATE TEMPORARY VIEW v AS SELECT 1',
      'CREATE OR REPLACE VIEW v AS SELECT 1',
      "CREATE TEMPORARY SYSTEM FUNCTION f AS 'com.example.F'",
      'DROP TABLE IF EXISTS t',
      "ALTER TABLE t SET ('k' = 'v')",
      "CREATE CATALOG c WITH ('type' = 'generic_in_memory')",
      'CREATE DATABASE IF NOT EXISTS d',
      'USE CATALOG c',
      'USE d',
      'USE MODULES core',
      'LOAD MODULE hive',
      'UNLOAD MODULE hive',
      "ADD JAR '/tmp/x.jar'",
      '/* leading */ create table t (x int)',
    ]) {
      assert.equal(route(sql), 'configure', sql);
    }
  });

  it('executes queries, DML, SET/RESET, SHOW, EXPLAIN, CTAS and materialized tables', () => {
    for (const sql of [
      'SELECT 1',
      'WITH a AS (SELECT 1) SELECT * FROM a',
      'INSERT INTO t SELECT 1',
      'EXECUTE STATEMENT SET BEGIN INSERT INTO t SELECT 1; END',
      "SET 'execution.runtime-mode' = 'batch'",
      'RESET',
      'SHOW TABLES',
      'EXPLAIN SELECT 1',
      'DESCRIBE t',
      "CREATE TABLE t WITH ('connector' = 'blackhole') AS SELECT 1",
      'CREATE MATERIALIZED TABLE m FRESHNESS = INTERVAL 1 MINUTE AS SELECT 1',
      "STOP JOB '345e81b090cc4296fbdc93d4af33b6e0'",
    ]) {
      assert.equal(route(sql), 'execute', sql);
    }
  });

  it('recognises statements that change the session configuration', () => {
    assert.equal(changesConfig(splitStatements("SET 'a' = 'b'")[0]!), true);
    assert.equal(changesConfig(splitStatements("reset 'a'")[0]!), true);
    assert.equal(changesConfig(splitStatements('SELECT 1')[0]!), false);
  });
});
