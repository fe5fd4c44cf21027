import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { sqlSyntax } from './lexer.ts';
import { checkStatementPolicy, normalizeCode, policyForms } from './statement-policy.ts';

const DROP = /drop\s+table/i;

function denied(pattern: string) {
  return (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, 'SLUICE_JOB_STATEMENT_DENIED');
    assert.equal(e.status, 403);
    assert.equal(e.details.pattern, pattern);
    return true;
  };
}

describe('checkStatementPolicy', () => {
  test('denies a matching statement, naming the pattern', () => {
    assert.throws(() => checkStatementPolicy('drop table t', [DROP], 'sql'), denied('drop\\s+table'));
    assert.doesNotThrow(() => checkStatementPolicy('select * from t', [DROP], 'sql'));
    assert.doesNotThrow(() => checkStatementPolicy('drop table t', [], 'sql'));
  });

  test('reports the first pattern, in list order, that matches', () => {
    const patterns = [/alter\s+table/, /drop\s+table/, /drop/];
    assert.throws(() => checkStatementPolicy('select 1; DROP TABLE t', patterns, 'sql'), denied('drop\\s+table'));
  });

  test('matching ignores case even for a pattern without the i flag', () => {
    assert.throws(() => checkStatementPolicy('DrOp TaBlE t', [/drop\s+table/], 'sql'), denied('drop\\s+table'));
  });

  test('a global pattern is not stateful between calls', () => {
    const g = /drop\s+table/g;
    assert.throws(() => checkStatementPolicy('drop table a', [g], 'sql'), SluiceError);
    assert.throws(() => checkStatementPolicy('drop table a', [g], 'sql'), SluiceError);
  });

  test('comments and odd whitespace do not dodge a rule', () => {
    for (const code of [
      'DROP  /*x*/ TABLE t',
      'DROP/**/TABLE t',
      'drop -- sneaky\n table t',
      'drop\n\t\r table t',
      'drop\u00a0table t',
      'DROP /* a */ /* b */ TABLE t',
    ]) {
      assert.throws(() => checkStatementPolicy(code, [DROP], 'sql'), denied('drop\\s+table'), JSON.stringify(code));
    }
  });

  test('dialect tricks do not dodge a rule', () => {
    // PostgreSQL/DuckDB nest comments: the whole /* /* */ */ is one comment there.
    assert.throws(() => checkStatementPolicy('DROP /* /* */ */ TABLE t', [DROP], 'sql'), SluiceError);
    // In Hive 'a\' does not end the string, so the -- is inside it and the DROP runs.
    assert.throws(() => checkStatementPolicy("select 'a\\' -- '; drop table t", [DROP], 'sql'), SluiceError);
    // In MySQL # starts a comment.
    assert.throws(() => checkStatementPolicy('DROP #x\n TABLE t', [DROP], 'starrocks'), SluiceError);
    // MySQL runs the text of /*! … */.
    assert.throws(() => checkStatementPolicy('/*!50000 DROP TABLE t */', [DROP], 'sql'), SluiceError);
  });

  test('commented-out SQL is not denied', () => {
    assert.doesNotThrow(() => checkStatementPolicy('-- drop table t\nselect 1', [DROP], 'sql'));
    assert.doesNotThrow(() => checkStatementPolicy('/* drop table t */ select 1', [DROP], 'hql'));
  });

  test('string literals are code: a rule sees them', () => {
    assert.throws(() => checkStatementPolicy("select 'drop table t'", [DROP], 'sql'), SluiceError);
  });

  test('uses the comment syntax of the code type', () => {
    const rm = /rm\s+-rf/;
    // In shell "--" is no comment: the SQL reading must not hide the rm.
    assert.throws(() => checkStatementPolicy('ls -- ; rm   -rf /', [rm], 'shell'), denied('rm\\s+-rf'));
    assert.throws(() => checkStatementPolicy('ls -- ; rm -rf /', [rm]), denied('rm\\s+-rf'));
    // Python comments are stripped, Python code is not.
    assert.doesNotThrow(() => checkStatementPolicy('# os.system("rm -rf /")\nprint(1)', [rm], 'python'));
    assert.throws(() => checkStatementPolicy('x = "#"; os.system("rm -rf /")', [rm], 'python'), SluiceError);
    // Shell is also matched with its comments in, as its quoting is beyond the lexer.
    assert.throws(() => checkStatementPolicy('# rm -rf /\necho hi', [rm], 'shell'), SluiceError);
  });

  test('without a code type every language reading is tried', () => {
    assert.throws(() => checkStatementPolicy('DROP /*x*/ TABLE t', [DROP]), SluiceError);
    assert.throws(() => checkStatementPolicy('drop # x\ntable t', [DROP]), SluiceError);
  });
});

describe('normalizeCode', () => {
  test('replaces comments by one space and collapses whitespace', () => {
    assert.equal(normalizeCode("  select  /* c */ 'a  b' -- end\n from\tt  ", sqlSyntax()), "select 'a b' from t");
    assert.equal(normalizeCode('a -- b\nc', null), 'a -- b c');
  });

  test('policyForms gives one form per distinct reading', () => {
    assert.deepEqual(policyForms('select 1', 'sql'), ['select 1']);
    const forms = policyForms('DROP /* /* */ */ TABLE t', 'sql');
    assert.ok(forms.includes('DROP */ TABLE t'));
    assert.ok(forms.includes('DROP TABLE t'));
  });
});
