// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests are about ${…} text in job code
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { processTimeZone } from './calendar.ts';
import { BUILT_IN_VARIABLES, parseSetDefinitions, substituteVariables, type VariableContext } from './variables.ts';

/** 2026-11-21 10:30:45.123 UTC, so run_date defaults to 20261120 in UTC. */
const NOW = new Date('2026-11-21T10:30:45.123Z');

function run(code: string, variables: VariableContext['variables'] = {}, extra: Partial<VariableContext> = {}) {
  return substituteVariables(code, { codeType: 'sql', user: 'alice', variables, now: NOW, timeZone: 'UTC', ...extra });
}
const sub = (code: string, variables: VariableContext['variables'] = {}, extra: Partial<VariableContext> = {}) => run(code, variables, extra).code;
const at = (runDate: string, expr: string) => sub(`\${${expr}}`, { run_date: runDate });
/** Code that refers to every built-in, so the job records them all. */
const EVERY_BUILT_IN = BUILT_IN_VARIABLES.map((name) => `\${${name}}`).join(' ');

function invalidVariable(name?: string, reason?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, 'SLUICE_JOB_VARIABLE_INVALID');
    if (name !== undefined) assert.equal(e.details.name, name);
    if (reason) assert.match(String(e.details.reason), reason);
    return true;
  };
}

describe('run_date default', () => {
  test('is yesterday in the given time zone', () => {
    assert.equal(sub('${run_date}'), '20261120');
    // 2026-11-21T01:00Z is still 20 November (20:00) in New York, already 21 November (09:00) in Shanghai.
    const early = new Date('2026-11-21T01:00:00Z');
    assert.equal(sub('${run_date}', {}, { now: early, timeZone: 'America/New_York' }), '20261119');
    assert.equal(sub('${run_date}', {}, { now: early, timeZone: 'Asia/Shanghai' }), '20261120');
    assert.equal(sub('${run_date}', {}, { now: new Date('2026-11-20T17:00:00Z'), timeZone: 'Asia/Shanghai' }), '20261120');
    assert.equal(sub('${run_date}', {}, { now: new Date('2026-11-20T17:00:00Z'), timeZone: 'UTC' }), '20261119');
  });

  test('crosses year and leap-day boundaries', () => {
    assert.equal(sub('${run_date}', {}, { now: new Date('2027-01-01T12:00:00Z') }), '20261231');
    assert.equal(sub('${run_date}', {}, { now: new Date('2024-03-01T12:00:00Z') }), '20240229');
    assert.equal(sub('${run_date}', {}, { now: new Date('2026-03-01T12:00:00Z') }), '20260228');
  });

  test('uses the process time zone when none is given', () => {
    const withDefault = substituteVariables('${run_date} ${run_today_h}', { codeType: 'sql', user: 'u', variables: {}, now: NOW });
    assert.equal(withDefault.code, sub('${run_date} ${run_today_h}', {}, { timeZone: processTimeZone() }));
  });

  test('an unknown time zone is a configuration error', () => {
    assert.throws(
      () => sub('${run_date}', {}, { timeZone: 'Mars/Olympus_Mons' }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CONFIG_INVALID',
    );
  });

  test('an empty run_date means the default', () => {
    assert.equal(sub('${run_date}', { run_date: '' }), '20261120');
  });
});

describe('run_date set by the job', () => {
  test('accepts yyyyMMdd as text or number', () => {
    assert.equal(sub('${run_date_std}', { run_date: '20240229' }), '2024-02-29');
    assert.equal(sub('${run_date_std}', { run_date: 20240101 }), '2024-01-01');
  });

  test('rejects anything that is not a real yyyyMMdd date', () => {
    for (const bad of ['2026-11-20', '20261131', '20260229', '2026112', '202611200', 'yesterday', '00001231']) {
      assert.throws(() => sub('select 1', { run_date: bad }), invalidVariable('run_date', /yyyyMMdd/), bad);
    }
  });

  test('run_today_h and run_today_hour may be set as yyyyMMddHH', () => {
    const r = run('${run_today_h} ${run_today_h_std} ${run_today_hour_std+1}', { run_today_h: '2026010203', run_today_hour: '2026010223' });
    assert.equal(r.code, '2026010203 2026-01-02 03 2026-01-03 00');
    assert.throws(() => sub('select 1', { run_today_h: '2026112024' }), invalidVariable('run_today_h'));
  });

  test('other built-ins are derived and cannot be set', () => {
    assert.throws(() => sub('select 1', { run_month_begin: '20260101' }), invalidVariable('run_month_begin', /set run_date instead/));
    assert.throws(() => sub('--@set run_today=20260101\nselect 1'), invalidVariable('run_today'));
  });
});

describe('built-in values', () => {
  test('every built-in for run_date=20261120 (the table of docs/variables.md)', () => {
    const { variables } = run(EVERY_BUILT_IN, { run_date: '20261120' });
    const expected: Record<string, string> = {
      run_date: '20261120',
      run_date_std: '2026-11-20',
      run_today: '20261121',
      run_today_std: '2026-11-21',
      run_today_h: '2026112110',
      run_today_h_std: '2026-11-21 10',
      run_today_hour: '2026112110',
      run_today_hour_std: '2026-11-21 10',
      run_month_begin: '20261101',
      run_month_begin_std: '2026-11-01',
      run_month_end: '20261130',
      run_month_end_std: '2026-11-30',
      run_month_now_begin: '20261001',
      run_month_now_begin_std: '2026-10-01',
      run_month_now_end: '20261031',
      run_month_now_end_std: '2026-10-31',
      run_quarter_begin: '20261001',
      run_quarter_begin_std: '2026-10-01',
      run_quarter_end: '20261231',
      run_quarter_end_std: '2026-12-31',
      run_half_year_begin: '20260701',
      run_half_year_begin_std: '2026-07-01',
      run_half_year_end: '20261231',
      run_half_year_end_std: '2026-12-31',
      run_year_begin: '20260101',
      run_year_begin_std: '2026-01-01',
      run_year_end: '20261231',
      run_year_end_std: '2026-12-31',
      run_mon: '202611',
      run_mon_std: '2026-11',
      run_mon_start: '202611',
      run_mon_start_std: '2026-11',
      run_mon_end: '202612',
      run_mon_end_std: '2026-12',
      run_last_mon_now: '202610',
      run_last_mon_now_std: '2026-10',
      run_current_mon_now: '202611',
      run_current_mon_now_std: '2026-11',
      run_mon_now: '202611',
      run_mon_now_std: '2026-11',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(variables[name], value, name);
    assert.deepEqual(Object.keys(expected).sort(), [...BUILT_IN_VARIABLES].sort());
    // And the same values through ${…} in code.
    assert.equal(sub('${run_quarter_end_std}|${run_month_now_end}|${run_mon_end_std}', { run_date: '20261120' }), '2026-12-31|20261031|2026-12');
  });

  test('leap day 20240229 matches the Linkis documentation table', () => {
    const { variables: v } = run(EVERY_BUILT_IN, { run_date: '20240229' });
    assert.equal(v.run_today, '20240301');
    assert.equal(v.run_mon, '202402');
    assert.equal(v.run_month_begin, '20240201');
    assert.equal(v.run_month_end, '20240229');
    assert.equal(v.run_month_now_begin, '20240201');
    assert.equal(v.run_month_now_end_std, '2024-02-29');
    assert.equal(v.run_quarter_end, '20240331');
    assert.equal(v.run_half_year_end, '20240630');
    assert.equal(v.run_year_end_std, '2024-12-31');
    assert.equal(v.run_last_mon_now, '202402');
    assert.equal(v.run_mon_now, '202403');
  });

  test('year end: run_today is in the next year', () => {
    const { variables: v } = run(EVERY_BUILT_IN, { run_date: '20261231' });
    assert.equal(v.run_today, '20270101');
    assert.equal(v.run_month_now_begin, '20261201');
    assert.equal(v.run_month_now_end, '20261231');
    assert.equal(v.run_last_mon_now, '202612');
    assert.equal(v.run_current_mon_now, '202701');
    assert.equal(v.run_quarter_begin, '20261001');
    assert.equal(v.run_half_year_begin, '20260701');
  });

  test('first day of a year: the "now" month variables look at the month before run_today', () => {
    const { variables: v } = run(EVERY_BUILT_IN, { run_date: '20270101' });
    assert.equal(v.run_month_begin, '20270101');
    assert.equal(v.run_month_now_begin, '20261201');
    assert.equal(v.run_last_mon_now, '202612');
    assert.equal(v.run_quarter_begin, '20270101');
    assert.equal(v.run_half_year_end, '20270630');
  });

  test('month, quarter and half-year ends', () => {
    assert.equal(run('select ${run_quarter_end}', { run_date: '20260331' }).variables.run_quarter_end, '20260331');
    assert.equal(run('select ${run_quarter_begin}', { run_date: '20260401' }).variables.run_quarter_begin, '20260401');
    assert.equal(run('select ${run_half_year_end}', { run_date: '20260630' }).variables.run_half_year_end, '20260630');
    assert.equal(run('select ${run_half_year_begin}', { run_date: '20260701' }).variables.run_half_year_begin, '20260701');
    assert.equal(run('select ${run_quarter_end_std}', { run_date: '20260930' }).variables.run_quarter_end_std, '2026-09-30');
    assert.equal(run('select ${run_month_end}', { run_date: '20260415' }).variables.run_month_end, '20260430');
  });

  test('leap-year rules for February ends and run_today', () => {
    assert.equal(run('select ${run_today}', { run_date: '20230228' }).variables.run_today, '20230301');
    assert.equal(run('select ${run_today}', { run_date: '20240228' }).variables.run_today, '20240229');
    assert.equal(run('select ${run_today}', { run_date: '19000228' }).variables.run_today, '19000301');
    assert.equal(run('select ${run_today}', { run_date: '20000228' }).variables.run_today, '20000229');
    assert.equal(run('select ${run_month_end}', { run_date: '21000215' }).variables.run_month_end, '21000228');
    assert.equal(run('select ${run_month_now_end}', { run_date: '20240310' }).variables.run_month_now_end, '20240229');
  });
});

describe('arithmetic on dates', () => {
  test('day variables move by days', () => {
    assert.equal(at('20261120', 'run_date-1'), '20261119');
    assert.equal(at('20261120', ' run_date  +  30 '), '20261220');
    assert.equal(at('20261120', 'run_date_std-365'), '2025-11-20');
    assert.equal(at('20240301', 'run_date-1'), '20240229');
    assert.equal(at('20230301', 'run_date-1'), '20230228');
    assert.equal(at('20261231', 'run_today_std+0'), '2027-01-01');
  });

  test('month variables move by months and keep begin/end', () => {
    assert.equal(at('20261120', 'run_month_begin-1'), '20261001');
    assert.equal(at('20261120', 'run_month_end-9'), '20260228');
    assert.equal(at('20240131', 'run_month_end+1'), '20240229');
    assert.equal(at('20261120', 'run_month_end_std+3'), '2027-02-28');
    assert.equal(at('20261120', 'run_month_now_begin-1'), '20260901');
  });

  test('quarter, half-year and year variables move by their own unit', () => {
    assert.equal(at('20261120', 'run_quarter_begin-1'), '20260701');
    assert.equal(at('20261120', 'run_quarter_end+1'), '20270331');
    assert.equal(at('20260215', 'run_quarter_end_std-1'), '2025-12-31');
    assert.equal(at('20200228', 'run_half_year_begin-1'), '20190701');
    assert.equal(at('20261120', 'run_half_year_end+1'), '20270630');
    assert.equal(at('20200228', 'run_year_begin_std-3'), '2017-01-01');
    assert.equal(at('20200228', 'run_year_end+10'), '20301231');
  });

  test('yyyyMM variables move by months; run_mon_end stays December of the year (as Linkis)', () => {
    assert.equal(at('20261120', 'run_mon-11'), '202512');
    assert.equal(at('20261120', 'run_mon_std+2'), '2027-01');
    assert.equal(at('20261120', 'run_last_mon_now-1'), '202609');
    assert.equal(at('20261120', 'run_mon_end-1'), '202612');
    assert.equal(at('20261120', 'run_mon_end-11'), '202512');
  });

  test('hour variables move by hours across midnight', () => {
    assert.equal(at('20261120', 'run_today_h+14'), '2026112200');
    assert.equal(at('20261120', 'run_today_h_std-11'), '2026-11-20 23');
  });

  test('the operand may be a variable', () => {
    assert.equal(sub('${run_date-n}', { n: 7 }), '20261113');
    assert.equal(sub('--@set back=-2\n${run_date-back}'), '--@set back=-2\n20261122');
  });

  test('only whole numbers with + and -', () => {
    assert.throws(() => sub('${run_date*2}'), invalidVariable('run_date', /only \+ and -/));
    assert.throws(() => sub('${run_date/2}'), invalidVariable('run_date'));
    assert.throws(() => sub('${run_date+1.5}'), invalidVariable('run_date', /whole number/));
    assert.throws(() => sub('${run_date-days}'), invalidVariable('days', /not defined/));
    assert.throws(() => sub('${run_date-9999999}'), invalidVariable('run_date', /years 1–9999/));
  });
});

describe('arithmetic on numbers and text', () => {
  test('numbers are exact decimals', () => {
    const vars = { n: 5, f: '20.1', x: '0.1', big: '9223372036854775807', neg: '-3' };
    assert.equal(sub('${n*3} ${n/2} ${n-10} ${n+0}', vars), '15 2.5 -5 5');
    assert.equal(sub('${f*2} ${f-1} ${f/3}', vars), '40.2 19.1 6.7');
    assert.equal(sub('${x+0.2}', vars), '0.3');
    assert.equal(sub('${big+1} ${big*big}', vars), '9223372036854775808 85070591730234615847396907784232501249');
    assert.equal(sub('${n/3}', vars), '1.666666666666666666666666666666667');
    assert.equal(sub('${neg*neg} ${n*neg}', vars), '9 -15');
    assert.equal(sub('${n*f}', vars), '100.5');
  });

  test('a number keeps its own spelling when used without arithmetic', () => {
    assert.equal(sub('${a} ${b}', { a: '1.50', b: '+5' }), '1.50 +5');
  });

  test('division by zero and non-numeric operands fail', () => {
    assert.throws(() => sub('${n/0}', { n: 5 }), invalidVariable('n', /division by zero/));
    assert.throws(() => sub('${n+abc}', { n: 5 }), invalidVariable('abc', /not defined/));
    assert.throws(() => sub('${n+t}', { n: 5, t: 'x' }), invalidVariable('n', /needs a number/));
  });

  test('text supports + as concatenation only', () => {
    assert.equal(sub('${t+_bak}', { t: 'orders' }), 'orders_bak');
    assert.equal(sub('${t+s}', { t: 'orders', s: '2026' }), 'orders2026');
    assert.throws(() => sub('${t-1}', { t: 'orders' }), invalidVariable('t', /concatenation/));
  });

  test('leading zeros make text, so ids keep their zeros', () => {
    assert.equal(sub('${code} ${code+1}', { code: '007' }), '007 0071');
  });

  test('booleans and numbers from the job become text', () => {
    const r = run('${flag} ${n}', { flag: true, n: 2.5 });
    assert.equal(r.code, 'true 2.5');
    assert.equal(r.variables.flag, 'true');
    assert.equal(r.variables.n, '2.5');
  });
});

describe('@set definitions', () => {
  test('each language uses its own comment prefix', () => {
    assert.equal(sub('--@set a=1\nselect ${a}'), '--@set a=1\nselect 1');
    assert.equal(sub('#@set a=2\nprint(${a})', {}, { codeType: 'python' }), '#@set a=2\nprint(2)');
    assert.equal(sub('#@set a=3\necho ${a}', {}, { codeType: 'shell' }), '#@set a=3\necho 3');
    assert.equal(sub('//@set a=4\nprintln(${a})', {}, { codeType: 'scala' }), '//@set a=4\nprintln(4)');
    assert.equal(sub('!!@set a=5\nint a = ${a};', {}, { codeType: 'java' }), '!!@set a=5\nint a = 5;');
    assert.equal(sub('  --@set   a = spaced value ;\nselect "${a}"', {}, { codeType: 'HQL' }), '  --@set   a = spaced value ;\nselect "spaced value"');
  });

  test('a prefix of another language defines nothing', () => {
    assert.throws(() => sub('--@set a=1\nprint(${a})', {}, { codeType: 'python' }), invalidVariable('a', /not defined/));
    assert.throws(() => sub('#@set a=1\nselect ${a}'), invalidVariable('a'));
  });

  test('only whole lines define: a trailing --@set is a comment', () => {
    assert.throws(() => sub('select 1 --@set a=2\nselect ${a}'), invalidVariable('a'));
  });

  test('@set beats the job variables; the last @set of a name wins', () => {
    assert.equal(sub('--@set a=code\nselect "${a}"', { a: 'params' }), '--@set a=code\nselect "code"');
    assert.equal(sub('--@set a=1\n--@set a=2\nselect ${a}'), '--@set a=1\n--@set a=2\nselect 2');
    assert.equal(sub('--@set run_date=20200101\nselect ${run_date}', { run_date: '20210101' }), '--@set run_date=20200101\nselect 20200101');
    assert.equal(sub('select ${run_date}', { run_date: '20210101' }), 'select 20210101');
  });

  test('values keep = signs and quotes; one trailing ; is dropped', () => {
    const defs = parseSetDefinitions("--@set a=x=y;\n--@set b='q';;\n-- @set c=1\nselect 1", 'sql');
    assert.deepEqual(defs, [
      { name: 'a', value: 'x=y', line: 1 },
      { name: 'b', value: "'q';", line: 2 },
    ]);
    assert.deepEqual(parseSetDefinitions('--@set a=1', 'json'), []);
    assert.deepEqual(parseSetDefinitions('--@set a=1', undefined), []);
  });

  test('an empty value is an empty string, and CRLF line ends are fine', () => {
    assert.equal(sub("--@set e=\r\nselect '${e}'"), "--@set e=\r\nselect ''");
    assert.equal(sub('--@set a=1;\r\nselect ${a+1}\r\n'), '--@set a=1;\r\nselect 2\r\n');
  });

  test('a malformed @set line is an error naming the line', () => {
    assert.throws(() => sub('select 1;\n--@set nothing here'), invalidVariable('@set', /line 2/));
  });

  test('a value may use other variables, resolved when used', () => {
    assert.equal(sub('--@set d=${run_date-7}\nselect ${d}, ${d+1}').split('\n')[1], 'select 20261113, 20261114');
    assert.equal(sub('select "${full}"', { full: '${t+_bak}', t: 'orders' }), 'select "orders_bak"');
    assert.equal(sub('select "${p}"', { p: '&{yyyy-MM%-1M}' }), 'select "2026-10"');
  });

  test('a circular definition is an error', () => {
    // The first reference met is ${b} on the first @set line.
    assert.throws(() => sub('--@set a=${b}\n--@set b=${a}\nselect ${a}'), invalidVariable('b', /circular reference b → a → b/));
    assert.throws(() => sub('select ${a}', { a: '${a}' }), invalidVariable('a', /circular reference a → a/));
  });

  test('an unused variable with an undefined reference does not fail the job', () => {
    const r = run('--@set a=${nope}\nselect 1');
    assert.equal(r.code, '--@set a=${nope}\nselect 1');
    assert.equal(r.variables.a, '${nope}');
  });
});

describe('system variables', () => {
  test('user, execute_user and submit_user come from the job, not from variables', () => {
    const r = run('--@set user=mallory\nselect "${user}", "${execute_user}", "${submit_user}"', { user: 'eve', execute_user: 'eve' }, { submitUser: 'bob' });
    assert.equal(r.code.split('\n')[1], 'select "alice", "alice", "bob"');
    assert.equal(r.variables.user, 'alice');
  });
});

describe('undefined references', () => {
  test('are errors naming the variable and the line in SQL', () => {
    assert.throws(() => sub('select 1,\n  "${nope}"'), invalidVariable('nope', /line 2/));
    assert.throws(() => sub("select '${run_dat}'"), invalidVariable('run_dat'));
  });

  test('are kept inside comments, where defined ones are still replaced', () => {
    assert.equal(sub('-- todo ${later}\n/* ${and_this} ${run_date} */ select 1'), '-- todo ${later}\n/* ${and_this} 20261120 */ select 1');
    assert.equal(sub('# ${later}\nprint(1)', {}, { codeType: 'python' }), '# ${later}\nprint(1)');
    assert.throws(() => sub("print('${later}')", {}, { codeType: 'python' }), invalidVariable('later'));
    assert.throws(() => sub("select '-- ${nope}'"), invalidVariable('nope'));
  });

  test('are kept in shell and Scala, where ${…} is the language’s own syntax', () => {
    assert.equal(sub('echo ${HOME} ${run_date} ${FOO-}', {}, { codeType: 'sh' }), 'echo ${HOME} 20261120 ${FOO-}');
    assert.equal(sub('println(s"${name} ${run_date}")', {}, { codeType: 'scala' }), 'println(s"${name} 20261120")');
  });

  test('text that is not Linkis syntax is left alone', () => {
    assert.equal(sub('select "${hiveconf:x}", "${1abc}", "${}", "${a[0]}", "$run_date"'), 'select "${hiveconf:x}", "${1abc}", "${}", "${a[0]}", "$run_date"');
    assert.equal(sub('echo ${x:-${run_date}}', {}, { codeType: 'shell' }), 'echo ${x:-20261120}');
  });

  test('malformed expressions are errors', () => {
    assert.throws(() => sub('select ${run_date+}'), invalidVariable('run_date', /bad expression/));
    assert.throws(() => sub('select ${run_date+1+1}'), invalidVariable('run_date', /bad expression/));
    assert.throws(() => sub('select ${a b}', { a: 1 }), invalidVariable('a', /bad expression/));
    assert.throws(() => sub('echo ${run_date--1}', {}, { codeType: 'shell' }), invalidVariable('run_date', /bad expression/));
  });
});

describe('time patterns', () => {
  test('are formatted from run_date at the current time of day', () => {
    assert.equal(sub('&{yyyyMMdd}'), '20261120');
    assert.equal(sub('&{yyyyMMdd%-1d}'), '20261119');
    assert.equal(sub('&{ yyyy-MM-01%-2M }'), '2026-09-01');
    assert.equal(sub('&{yyyy-01-01%-2y}'), '2024-01-01');
    assert.equal(sub('&{HH%-1H}'), '09');
    assert.equal(sub('&{yyyyMMddHHmmss.SSS}'), '20261120103045.123');
    assert.equal(sub('&{yyyyMMdd}', { run_date: '20240101' }), '20240101');
  });

  test('apply offsets left to right, clamping month ends', () => {
    assert.equal(sub('&{yyyy-MM-dd%+1M%-1d}'), '2026-12-19');
    assert.equal(sub('&{yyyyMMdd%-1M}', { run_date: '20260331' }), '20260228');
    assert.equal(sub('&{yyyyMMdd%+1y}', { run_date: '20240229' }), '20250228');
    assert.equal(sub('&{yyyyMMddHH%+14H}'), '2026112100');
    assert.equal(sub('&{HH:mm%-31m}'), '09:59');
  });

  test('support text, quotes and other fields', () => {
    assert.equal(sub('&{EEE, d MMM yyyy}'), 'Fri, 20 Nov 2026');
    assert.equal(sub('&{EEEE MMMM yy D QQQ h a}'), 'Friday November 26 324 Q4 10 AM');
    assert.equal(sub("&{yyyy'年'MM'月'}"), '2026年11月');
    assert.equal(sub("&{yyyy''MM 'at' HH}"), "2026'11 at 10");
  });

  test('read the hour in the given time zone', () => {
    assert.equal(sub('&{HH}', {}, { timeZone: 'Asia/Shanghai' }), '18');
  });

  test('with offsets must be valid', () => {
    assert.throws(() => sub('&{yyyyMMdd%-1x}'), invalidVariable('&{yyyyMMdd%-1x}', /bad offset/));
    assert.throws(() => sub('&{yyyyww%-1d}'), invalidVariable('&{yyyyww%-1d}', /not supported/));
    assert.throws(() => sub("&{yyyy'MM%-1d}"), invalidVariable(undefined, /unterminated quote/));
  });

  test('without offsets, text that is not a pattern is left alone', () => {
    assert.equal(sub('sleep 1&{ echo hi; }', {}, { codeType: 'shell' }), 'sleep 1&{ echo hi; }');
    assert.equal(sub('x &{}'), 'x &{}');
  });
});

describe('code types', () => {
  test('an unknown code type is returned unchanged', () => {
    const r = run('${nope} ${run_date} &{yyyy}', {}, { codeType: 'brainfuck' });
    assert.equal(r.code, '${nope} ${run_date} &{yyyy}');
    // Nothing was substituted, so no built-in was used, and none is recorded.
    assert.equal(r.variables.run_date, undefined);
  });

  test('json is substituted but has no @set', () => {
    assert.equal(sub('{"dt": "${run_date}", "p": "&{yyyyMMdd%-1d}"}', {}, { codeType: 'data_calc' }), '{"dt": "20261120", "p": "20261119"}');
  });
});

describe('what a job records', () => {
  test('the variables it was given, and only the built-ins it referred to', () => {
    const r = run('--@set t=orders\nselect * from ${t} where dt = ${run_date_std}', { n: 1 });
    assert.deepEqual(r.variables, { run_date_std: '2026-11-20', t: 'orders', n: '1' });
  });

  test('code that refers to nothing records nothing, a given run_date is recorded', () => {
    assert.deepEqual(run('select 1').variables, {});
    assert.deepEqual(run('select 1', { run_date: '20260101' }).variables, { run_date: '20260101' });
  });

  test('a bad run_date fails the job even when nothing refers to it', () => {
    assert.throws(() => run('select 1', { run_date: '2026-01-01' }), invalidVariable('run_date'));
    assert.throws(() => run('select 1', { run_today_h: 'soon' }), invalidVariable('run_today_h'));
  });

  test('a user variable that refers to a built-in records the built-in too', () => {
    const r = run('select ${d}', { d: '${run_date}' });
    assert.equal(r.code, 'select 20261120');
    assert.deepEqual(r.variables, { run_date: '20261120', d: '20261120' });
  });
});
