import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitStatements } from './sql-splitter.ts';

const sqls = (script: string) => splitStatements(script).map((s) => s.sql);

describe('splitStatements', () => {
  it('splits on semicolons and drops empty statements and the trailing separator', () => {
    assert.deepEqual(sqls('SELECT 1; SELECT 2;\n;  '), ['SELECT 1', 'SELECT 2']);
    assert.deepEqual(sqls('SELECT 1'), ['SELECT 1']);
    assert.deepEqual(sqls(' ; ;'), []);
  });

  it('keeps semicolons inside strings, quoted identifiers and comments', () => {
    assert.deepEqual(sqls(`SELECT 'a;b', 'it''s;' AS "x;""y"; -- c;d\nSELECT /* e;f */ 2`), [
      `SELECT 'a;b', 'it''s;' AS "x;""y"`,
      '-- c;d\nSELECT /* e;f */ 2',
    ]);
  });

  it('drops statements that are only comments', () => {
    assert.deepEqual(sqls('SELECT 1; -- done\n/* and more */'), ['SELECT 1']);
  });

  it('keeps a SQL routine body with its inner statements together', () => {
    const routine = `CREATE FUNCTION answer(x bigint) RETURNS bigint
BEGIN
  DECLARE y bigint DEFAULT 0;
  IF x > 0 THEN SET y = x; END IF;
  WHILE y < 10 DO SET y = y + 1; END WHILE;
  RETURN CASE WHEN y > 5 THEN y ELSE 0 END;
END`;
    assert.deepEqual(sqls(`${routine};\nSELECT answer(1)`), [routine, 'SELECT answer(1)']);
  });

  it('does not mistake words containing BEGIN or END for keywords', () => {
    assert.deepEqual(sqls('SELECT begin_date, weekend FROM t; SELECT 2'), ['SELECT begin_date, weekend FROM t', 'SELECT 2']);
  });

  it('reports where each statement starts in the script', () => {
    const parts = splitStatements('SELECT 1;\n\n  SELECT 2; SELECT 3');
    assert.deepEqual(
      parts.map((p) => [p.line, p.column]),
      [
        [1, 1],
        [3, 3],
        [3, 13],
      ],
    );
  });
});
