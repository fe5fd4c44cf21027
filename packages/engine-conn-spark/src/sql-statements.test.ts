import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitSparkSql } from './sql-statements.ts';

describe('splitSparkSql', () => {
  it('splits at top-level semicolons and drops empty statements', () => {
    assert.deepEqual(splitSparkSql('select 1; ;select 2;\n'), ['select 1', 'select 2']);
    assert.deepEqual(splitSparkSql('  -- only a comment\n; /* and another */ '), []);
  });

  it('keeps semicolons inside strings, identifiers and comments', () => {
    const script = "select 'a;b', \"c;\\\"d\", `e;``f` -- g;h\nfrom t /* i; /* nested; */ j; */ where x = 'it\\'s;';select 2";
    const parts = splitSparkSql(script);
    assert.equal(parts.length, 2);
    assert.ok(parts[0]?.startsWith("select 'a;b'"));
    assert.ok(parts[0]?.endsWith("'it\\'s;'"));
    assert.equal(parts[1], 'select 2');
  });

  it('keeps a BEGIN … END compound statement whole, with CASE and END IF inside', () => {
    const block = 'BEGIN\n  DECLARE x INT = 1;\n  IF x = 1 THEN SELECT CASE WHEN x = 1 THEN 1 END; END IF;\n  SELECT x;\nEND';
    assert.deepEqual(splitSparkSql(`${block};\nselect 3`), [block, 'select 3']);
  });

  it('does not treat CASE … END outside a block as nesting', () => {
    assert.deepEqual(splitSparkSql('select case when 1 = 1 then 1 end as c; select 2'), ['select case when 1 = 1 then 1 end as c', 'select 2']);
  });
});
