// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests are about ${…} text in job code
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { type InterceptorInput, type InterceptorPolicy, runInterceptors } from './index.ts';

const NOW = new Date('2026-11-21T10:30:00Z');
const input = (code: string, over: Partial<InterceptorInput> = {}): InterceptorInput => ({
  code,
  codeType: 'sql',
  user: 'alice',
  variables: {},
  now: NOW,
  ...over,
});
const policy = (over: Partial<InterceptorPolicy> = {}): InterceptorPolicy => ({ rowLimit: 5000, denyPatterns: [], timeZone: 'UTC', ...over });

describe('runInterceptors', () => {
  test('substitutes variables, then limits rows', () => {
    const out = runInterceptors(input("--@set t=orders\nselect * from ${t} where dt = '${run_date}'", { variables: { x: 1 } }), policy());
    assert.equal(out.code, "--@set t=orders\nselect * from orders where dt = '20261120' LIMIT 5000");
    assert.equal(out.variables.t, 'orders');
    assert.equal(out.variables.x, '1');
    assert.equal(out.variables.run_date, '20261120');
    // Recorded: what the job was given and the built-ins its code used, not every built-in.
    assert.equal(out.variables.user, undefined);
  });

  test('the row limit sees the substituted code: a LIMIT from a variable counts', () => {
    const out = runInterceptors(input('select * from t limit ${n}', { variables: { n: 10 } }), policy());
    assert.equal(out.code, 'select * from t limit 10');
  });

  test('the policy sees the substituted code: a variable cannot hide a denied statement', () => {
    assert.throws(
      () => runInterceptors(input('${verb} table t', { variables: { verb: 'DROP' } }), policy({ denyPatterns: [/drop\s+table/i] })),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_STATEMENT_DENIED' && e.details.pattern === 'drop\\s+table',
    );
  });

  test('a bad variable fails before the policy runs', () => {
    assert.throws(
      () => runInterceptors(input('drop table ${nope}'), policy({ denyPatterns: [/drop/] })),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_JOB_VARIABLE_INVALID' && e.details.name === 'nope',
    );
  });

  test('the time zone of the policy decides run_date', () => {
    const early = new Date('2026-11-21T01:00:00Z');
    assert.equal(runInterceptors(input('select ${run_date}', { now: early }), policy({ timeZone: 'America/New_York', rowLimit: 0 })).code, 'select 20261119');
    assert.equal(runInterceptors(input('select ${run_date}', { now: early }), policy({ timeZone: 'Asia/Shanghai', rowLimit: 0 })).code, 'select 20261120');
  });

  test('shell code is substituted but never limited', () => {
    const out = runInterceptors(input('#@set d=${run_date}\necho $HOME ${d}', { codeType: 'shell' }), policy());
    assert.equal(out.code, '#@set d=20261120\necho $HOME 20261120');
  });

  test('submitUser feeds ${submit_user}', () => {
    const out = runInterceptors(input('select "${submit_user}", "${user}"', { submitUser: 'bob' }), policy({ rowLimit: 0 }));
    assert.equal(out.code, 'select "bob", "alice"');
  });
});
