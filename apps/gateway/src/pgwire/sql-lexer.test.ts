import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leadingWords, maxPlaceholder, splitStatements, substitutePlaceholders } from './sql-lexer.ts';

describe('SQL lexer', () => {
  it('splits at top-level semicolons only', () => {
    assert.deepEqual(splitStatements("SELECT ';' AS a; SELECT $$ ; $$; -- c;\nSELECT /* ; /* nested ; */ */ 2;", 'postgres'), [
      "SELECT ';' AS a",
      'SELECT $$ ; $$',
      '-- c;\nSELECT /* ; /* nested ; */ */ 2',
    ]);
    assert.deepEqual(splitStatements('  ;  -- only a comment\n ; ', 'postgres'), []);
    assert.deepEqual(splitStatements("SELECT 'it''s; fine'", 'postgres'), ["SELECT 'it''s; fine'"]);
    assert.deepEqual(splitStatements("SELECT E'a\\';b'; SELECT 1", 'postgres'), ["SELECT E'a\\';b'", 'SELECT 1']);
    assert.deepEqual(splitStatements("SELECT 'a\\';b' # ;\n; SELECT `x;y`", 'mysql'), ["SELECT 'a\\';b' # ;", 'SELECT `x;y`']);
  });

  it('substitutes $n placeholders outside quotes, comments, identifiers and dollar quotes', () => {
    const sql = `SELECT $1, '$1', "$1", $$ $1 $$, a$1, $10 -- $2\n, $2`;
    assert.equal(maxPlaceholder(sql), 10);
    const out = substitutePlaceholders(sql, ['A', 'B', '', '', '', '', '', '', '', 'J']);
    assert.equal(out, `SELECT A, '$1', "$1", $$ $1 $$, a$1, J -- $2\n, B`);
  });

  it('finds leading keywords past comments and parentheses', () => {
    assert.deepEqual(leadingWords('/* x */ -- y\n (  select 1)', 2), ['SELECT']);
    assert.deepEqual(leadingWords('create or replace temp view v as select 1', 3), ['CREATE', 'OR', 'REPLACE']);
  });
});
