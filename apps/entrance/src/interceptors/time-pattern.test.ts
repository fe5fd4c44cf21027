import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyOffset, compileTimePattern, expandTimePatterns, TimePatternError } from './time-pattern.ts';

const BASE = { year: 2026, month: 11, day: 20, hour: 10, minute: 30, second: 45, millisecond: 123 };
const x = (text: string, base = BASE) => expandTimePatterns(text, base);

describe('time patterns', () => {
  test('number fields pad to the letter count', () => {
    assert.equal(x('&{y M d H m s}'), '2026 11 20 10 30 45');
    assert.equal(x('&{yyyy-MM-dd HH:mm:ss}', { ...BASE, month: 1, day: 2, hour: 3, minute: 4, second: 5 }), '2026-01-02 03:04:05');
    assert.equal(x('&{yy}', { ...BASE, year: 2005 }), '05');
    assert.equal(x('&{yyyyy}'), '02026');
    assert.equal(x('&{S SSS SSSSSS}'), '1 123 123000');
  });

  test('text fields and 12-hour clocks', () => {
    assert.equal(x('&{MMM MMMM MMMMM}'), 'Nov November N');
    assert.equal(x('&{E EEEE EEEEE}'), 'Fri Friday F');
    assert.equal(x('&{h K k a}', { ...BASE, hour: 0 }), '12 0 24 AM');
    assert.equal(x('&{hh a}', { ...BASE, hour: 13 }), '01 PM');
    assert.equal(x('&{Q QQ QQQ QQQQ}'), '4 04 Q4 4th quarter');
    assert.equal(x('&{DDD}', { ...BASE, month: 1, day: 5 }), '005');
  });

  test('quotes and optional sections', () => {
    assert.equal(x("&{'week' yyyy}"), 'week 2026');
    assert.equal(x("&{''yyyy''}"), "'2026'");
    assert.equal(x("&{'it''s' d}"), "it's 20");
    assert.equal(x('&{yyyy[-MM]}'), '2026-11');
  });

  test('offsets', () => {
    assert.equal(x('&{yyyyMMdd%-1d} &{yyyyMMdd%+1d} &{yyyyMMdd%1d}'), '20261119 20261121 20261121');
    assert.equal(x('&{yyyyMMddHHmmss%+90s}'), '20261120103215');
    assert.equal(x('&{yyyyMMdd%-1M%-30d}', { ...BASE, month: 3, day: 31 }), '20260129');
    assert.equal(applyOffset(BASE, '1w'), undefined);
    assert.equal(applyOffset(BASE, '- 1d'), undefined);
  });

  test('several placeholders and surrounding text', () => {
    assert.equal(x('a &{yyyy} b &{MM} c'), 'a 2026 b 11 c');
    assert.equal(x('no pattern'), 'no pattern');
    assert.equal(x('unterminated &{yyyy'), 'unterminated &{yyyy');
  });

  test('compile errors', () => {
    assert.deepEqual(compileTimePattern('ddd'), { ok: false, reason: 'too many pattern letters d' });
    assert.deepEqual(compileTimePattern('aa'), { ok: false, reason: 'too many pattern letters a' });
    assert.deepEqual(compileTimePattern('ww'), { ok: false, reason: 'pattern letter w is not supported' });
    assert.deepEqual(compileTimePattern('yyyy#'), { ok: false, reason: 'reserved character #' });
    assert.equal(compileTimePattern('yyyy-MM-dd').ok, true);
  });

  test('a malformed placeholder with offsets throws, one without is kept', () => {
    assert.throws(() => x('&{yyyyMMdd%x}'), TimePatternError);
    assert.throws(() => x('&{%-1d}'), /empty/);
    assert.throws(() => x('&{yyyy%-9000y}'), /years 1–9999/);
    assert.equal(x('&{ echo hi; }'), '&{ echo hi; }');
  });
});
