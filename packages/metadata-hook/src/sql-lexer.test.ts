import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SqlSyntaxError, splitStatements, tokenize } from './sql-lexer.ts';

it('quotes per dialect: backticks vs double quotes, doubled quotes, dollar strings', () => {
  assert.deepEqual(
    tokenize('select `a b`, "c" from t', 'mysql').map((t) => [t.kind, t.value]),
    [
      ['word', 'SELECT'],
      ['qident', 'a b'],
      ['op', ','],
      ['string', 'c'],
      ['word', 'FROM'],
      ['word', 'T'],
    ],
  );
  assert.equal(tokenize('"a""b"', 'trino')[0]?.value, 'a"b');
  assert.equal(tokenize("$$it's;$$", 'postgres')[0]?.value, "it's;");
  assert.throws(() => tokenize("'open", 'trino'), SqlSyntaxError);
});

it('splits at top-level semicolons only; comments are dropped', () => {
  const parts = splitStatements(tokenize("select ';' -- x;\n; /* ; */ select (1;2)", 'trino'));
  assert.equal(parts.length, 2);
  const set = splitStatements(
    tokenize('EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT CASE WHEN x THEN 1 END; END; SELECT 2', 'flink'),
  );
  assert.equal(set.length, 2);
});
