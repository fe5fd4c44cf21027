/**
 * Job variable substitution, the Sluice version of Linkis' VarSubstitutionInterceptor
 * (CustomVariableUtils → VariableUtils → VariableOperationUtils). See docs/variables.md.
 *
 * Sources, highest priority first: `@set` lines in the code, the job's `variables`, then the
 * built-ins derived from `run_date`, plus the system variables `user`, `execute_user` and
 * `submit_user`. `${name}` and `${name op operand}` are replaced first, then `&{pattern%offset}`.
 */
import { SluiceError } from '@sluice/core';
import {
  addDays,
  addMonths,
  addSeconds,
  addYears,
  type CivilDate,
  type CivilDateTime,
  formatDate,
  formatHour,
  formatMonth,
  monthBegin,
  monthEnd,
  parseCompactDate,
  parseCompactHour,
  periodBegin,
  periodEnd,
  processTimeZone,
  zonedDateTime,
} from './calendar.ts';
import { type Language, languageOf } from './code-types.ts';
import { addDecimal, type Decimal, divideDecimal, formatDecimal, multiplyDecimal, parseDecimal, subtractDecimal } from './decimal.ts';
import { commentRanges, syntaxOf } from './lexer.ts';
import { expandTimePatterns, TimePatternError } from './time-pattern.ts';

/** What substitution needs to know about the job. */
export interface VariableContext {
  readonly codeType: string;
  /** The executing user: the value of `${user}` and `${execute_user}`. */
  readonly user: string;
  /** The job's variables (Linkis `params.variable`). */
  readonly variables: Readonly<Record<string, string | number | boolean>>;
  /** The current instant; `run_date` defaults to the day before it. */
  readonly now: Date;
  /** IANA zone in which "today" and the current hour are read; default the process zone. */
  readonly timeZone?: string;
  /** The submitting user (`${submit_user}`); default `user`. */
  readonly submitUser?: string;
}

/** The substituted code and every variable in effect, as text. */
export interface SubstitutionResult {
  readonly code: string;
  readonly variables: Record<string, string>;
}

/** One `@set` definition found in code. */
export interface SetDefinition {
  readonly name: string;
  readonly value: string;
  /** 1-based line number. */
  readonly line: number;
}

type Granularity = 'day' | 'month' | 'quarter' | 'half_year' | 'year' | 'mon' | 'hour';

/** A date-valued variable: its value is `base` seen at its granularity, arithmetic moves it by whole units. */
interface DateVar {
  readonly type: 'date';
  readonly unit: Granularity;
  readonly std: boolean;
  readonly end: boolean;
  readonly base: CivilDate;
  readonly hour: number;
}
type Var = DateVar | { readonly type: 'number'; readonly text: string; readonly value: Decimal } | { readonly type: 'text'; readonly text: string };

/** The comment prefix that introduces `@set` in each language (Linkis getCustomVar). */
export const SET_PREFIX: Readonly<Record<Language, string | undefined>> = Object.freeze({
  sql: '--',
  python: '#',
  shell: '#',
  scala: '//',
  java: '!!',
  json: undefined,
});

/** Built-ins a job may set: run_date (yyyyMMdd) and the two current-hour variables (yyyyMMddHH). */
export const SETTABLE_BUILT_INS: readonly string[] = Object.freeze(['run_date', 'run_today_h', 'run_today_hour']);

/** Variables Sluice fills from the job; a job's own value for them is ignored, as in Linkis. */
export const SYSTEM_VARIABLES: readonly string[] = Object.freeze(['user', 'execute_user', 'submit_user']);

const dateVar = (unit: Granularity, base: CivilDate, std: boolean, end = false, hour = 0): DateVar => ({ type: 'date', unit, std, end, base, hour });

function withStd(out: Map<string, Var>, name: string, make: (std: boolean) => Var): void {
  out.set(name, make(false));
  out.set(`${name}_std`, make(true));
}

/** Every built-in variable for the given run_date and current hours, in documentation order. */
function builtIns(runDate: CivilDate, todayH: { date: CivilDate; hour: number }, todayHour: { date: CivilDate; hour: number }): Map<string, Var> {
  const out = new Map<string, Var>();
  const runToday = addDays(runDate, 1);
  const lastMonthOfToday = monthBegin(addMonths(runToday, -1));
  withStd(out, 'run_date', (std) => dateVar('day', runDate, std));
  withStd(out, 'run_today', (std) => dateVar('day', runToday, std));
  withStd(out, 'run_today_h', (std) => dateVar('hour', todayH.date, std, false, todayH.hour));
  withStd(out, 'run_today_hour', (std) => dateVar('hour', todayHour.date, std, false, todayHour.hour));
  withStd(out, 'run_month_begin', (std) => dateVar('month', runDate, std));
  withStd(out, 'run_month_end', (std) => dateVar('month', runDate, std, true));
  withStd(out, 'run_month_now_begin', (std) => dateVar('month', lastMonthOfToday, std));
  withStd(out, 'run_month_now_end', (std) => dateVar('month', lastMonthOfToday, std, true));
  withStd(out, 'run_quarter_begin', (std) => dateVar('quarter', runDate, std));
  withStd(out, 'run_quarter_end', (std) => dateVar('quarter', runDate, std, true));
  withStd(out, 'run_half_year_begin', (std) => dateVar('half_year', runDate, std));
  withStd(out, 'run_half_year_end', (std) => dateVar('half_year', runDate, std, true));
  withStd(out, 'run_year_begin', (std) => dateVar('year', runDate, std));
  withStd(out, 'run_year_end', (std) => dateVar('year', runDate, std, true));
  withStd(out, 'run_mon', (std) => dateVar('mon', monthBegin(runDate), std));
  withStd(out, 'run_mon_start', (std) => dateVar('mon', monthBegin(runDate), std));
  withStd(out, 'run_mon_end', (std) => dateVar('mon', monthBegin(runDate), std, true));
  withStd(out, 'run_last_mon_now', (std) => dateVar('mon', lastMonthOfToday, std));
  withStd(out, 'run_current_mon_now', (std) => dateVar('mon', monthBegin(runToday), std));
  withStd(out, 'run_mon_now', (std) => dateVar('mon', monthBegin(runToday), std));
  return out;
}

/** Names of all built-in date variables (each with its `_std` twin). */
export const BUILT_IN_VARIABLES: readonly string[] = Object.freeze([
  ...builtIns(
    { year: 2000, month: 1, day: 1 },
    { date: { year: 2000, month: 1, day: 1 }, hour: 0 },
    { date: { year: 2000, month: 1, day: 1 }, hour: 0 },
  ).keys(),
]);
const BUILT_IN_SET: ReadonlySet<string> = new Set(BUILT_IN_VARIABLES);

class OutOfRange extends Error {}

function checkYear(d: CivilDate): CivilDate {
  if (d.year < 1 || d.year > 9999) throw new OutOfRange('the date is outside the years 1–9999');
  return d;
}

/** The date variable moved by `n` of its units (days, months, quarters, half years, years, hours). */
function shiftDate(v: DateVar, n: number): DateVar {
  switch (v.unit) {
    case 'day':
      return { ...v, base: checkYear(addDays(v.base, n)) };
    case 'month':
    case 'mon':
      return { ...v, base: checkYear(addMonths(v.base, n)) };
    case 'quarter':
      return { ...v, base: checkYear(addMonths(periodBegin(v.base, 3), 3 * n)) };
    case 'half_year':
      return { ...v, base: checkYear(addMonths(periodBegin(v.base, 6), 6 * n)) };
    case 'year':
      return { ...v, base: checkYear(addYears(v.base, n)) };
    default: {
      const t = addSeconds({ ...v.base, hour: v.hour, minute: 0, second: 0, millisecond: 0 }, n * 3600);
      return { ...v, base: checkYear(t), hour: t.hour };
    }
  }
}

function dateText(v: DateVar): string {
  switch (v.unit) {
    case 'day':
      return formatDate(v.base, v.std);
    case 'month':
      return formatDate(v.end ? monthEnd(v.base) : monthBegin(v.base), v.std);
    case 'quarter':
      return formatDate(v.end ? periodEnd(v.base, 3) : periodBegin(v.base, 3), v.std);
    case 'half_year':
      return formatDate(v.end ? periodEnd(v.base, 6) : periodBegin(v.base, 6), v.std);
    case 'year':
      return formatDate(v.end ? periodEnd(v.base, 12) : periodBegin(v.base, 12), v.std);
    case 'mon':
      // Linkis run_mon_end is December of run_mon's year (DateTypeUtils.getMon sets MONTH = DECEMBER).
      return formatMonth(v.end ? { ...v.base, month: 12 } : v.base, v.std);
    default:
      return formatHour(v.base, v.hour, v.std);
  }
}

function textOf(v: Var): string {
  return v.type === 'date' ? dateText(v) : v.text;
}

/** A number is an optional sign and digits with an optional fraction, without leading zeros (`007` stays text). */
const NUMBER_RE = /^[+-]?(?:0|[1-9]\d*)(?:\.\d+)?$/;

function classify(text: string): Var {
  const value = NUMBER_RE.test(text) ? parseDecimal(text) : undefined;
  return value ? { type: 'number', text, value } : { type: 'text', text };
}

const SET_NAME_RE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=(.*)$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function invalid(name: string, reason: string, extra: Record<string, unknown> = {}): SluiceError {
  return new SluiceError('SLUICE_JOB_VARIABLE_INVALID', { name, reason, ...extra });
}

/**
 * The `@set` definitions of `code`: lines that start (after blanks) with the language's prefix and
 * `@set`, e.g. `--@set d=20261120` in SQL. The value is the rest of the line after the first `=`,
 * trimmed, without one trailing `;`. Throws SLUICE_JOB_VARIABLE_INVALID for a line without `name=`.
 */
export function parseSetDefinitions(code: string, language: Language | undefined): SetDefinition[] {
  const prefix = language ? SET_PREFIX[language] : undefined;
  if (!prefix) return [];
  const head = new RegExp(`^\\s*${escapeRegExp(prefix)}@set(.*)$`);
  const out: SetDefinition[] = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = head.exec(lines[i]!.replace(/\r$/, ''));
    if (!m) continue;
    const def = SET_NAME_RE.exec(m[1]!);
    if (!def) throw invalid('@set', `line ${i + 1}: expected ${prefix}@set name=value`, { line: i + 1 });
    let value = def[2]!.trim();
    if (value.endsWith(';')) value = value.slice(0, -1).trim();
    out.push({ name: def[1]!, value, line: i + 1 });
  }
  return out;
}

/** `${ name }` or `${ name op operand }`, Linkis' grammar (one operator, operand a name or a number). */
const EXPRESSION_RE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:([+\-*/])\s*([A-Za-z0-9_.]+)\s*)?$/;
/** Text made only of names, numbers, operators and blanks: meant as an expression, but malformed. */
const EXPRESSION_LIKE_RE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)[\sA-Za-z0-9_.+\-*/]*$/;

interface ScanOptions {
  /** Leave `${x}` of an undefined x as it is, instead of failing (shell, Scala, and comments). */
  readonly keepUndefined: boolean;
  /** Comment ranges of the text, in which undefined references are kept. */
  readonly comments?: ReadonlyArray<readonly [number, number]>;
  /** Prefix for error reasons, e.g. "in variable x". */
  readonly where: (offset: number) => string;
}

/** Names whose value the job's date and user fix: the calendar built-ins and the system variables. */
const FIXED_NAMES: ReadonlySet<string> = new Set([...BUILT_IN_VARIABLES, ...SYSTEM_VARIABLES]);

class Scope {
  private readonly resolved = new Map<string, Var>();
  private readonly resolving: string[] = [];
  private fixedVars: ReadonlyMap<string, Var> | undefined;
  /** Fixed variables the code or a user variable referred to. */
  readonly used = new Set<string>();

  /** `fixed` computes the built-ins, once and only when something refers to one. */
  constructor(
    private readonly computeFixed: () => ReadonlyMap<string, Var>,
    private readonly raw: ReadonlyMap<string, string>,
    private readonly keepUndefined: boolean,
    private readonly timeBase: () => CivilDateTime,
  ) {}

  fixed(): ReadonlyMap<string, Var> {
    this.fixedVars ??= this.computeFixed();
    return this.fixedVars;
  }

  /** The variable `name`, resolving `${…}` and `&{…}` in a user variable's value on first use. */
  get(name: string): Var | undefined {
    const fixed = FIXED_NAMES.has(name) ? this.fixed().get(name) : undefined;
    if (fixed) {
      this.used.add(name);
      return fixed;
    }
    const done = this.resolved.get(name);
    if (done) return done;
    const raw = this.raw.get(name);
    if (raw === undefined) return undefined;
    if (this.resolving.includes(name)) {
      throw invalid(name, `circular reference ${[...this.resolving.slice(this.resolving.indexOf(name)), name].join(' → ')}`);
    }
    this.resolving.push(name);
    try {
      let text = raw;
      if (text.includes('${')) text = substituteReferences(text, this, { keepUndefined: this.keepUndefined, where: () => `in the value of ${name}` });
      if (text.includes('&{')) text = expandPatterns(text, this.timeBase());
      const v = classify(text);
      this.resolved.set(name, v);
      return v;
    } finally {
      this.resolving.pop();
    }
  }

  /** Every user variable, resolved when possible (an unused variable that cannot be resolved is reported raw). */
  userTexts(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, raw] of this.raw) {
      if (FIXED_NAMES.has(name)) continue;
      try {
        out[name] = textOf(this.get(name)!);
      } catch {
        out[name] = raw;
      }
    }
    return out;
  }
}

function expandPatterns(text: string, base: CivilDateTime): string {
  try {
    return expandTimePatterns(text, base);
  } catch (e) {
    if (e instanceof TimePatternError) throw invalid(e.text, e.reason);
    throw e;
  }
}

function parseInteger(text: string): number | undefined {
  return /^[+-]?\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** `left op operand`, with Linkis' rules per type: dates ± whole units, numbers + − × ÷, text + (concatenation). */
function evaluate(name: string, left: Var, op: string, operand: string, scope: Scope): string {
  const rightVar = scope.get(operand);
  const right = rightVar ? textOf(rightVar) : operand;
  const notDefined = !rightVar && /^[A-Za-z_]/.test(operand);
  if (left.type === 'date') {
    if (op !== '+' && op !== '-') throw invalid(name, `${name} is a date; only + and - are allowed, not ${op}`);
    const n = parseInteger(right);
    if (n === undefined) {
      throw notDefined ? invalid(operand, 'is not defined') : invalid(name, `${op} needs a whole number of units, not "${right}"`);
    }
    try {
      return dateText(shiftDate(left, op === '+' ? n : -n));
    } catch (e) {
      if (e instanceof OutOfRange) throw invalid(name, e.message);
      throw e;
    }
  }
  if (left.type === 'number') {
    const r = parseDecimal(right);
    if (!r) throw notDefined ? invalid(operand, 'is not defined') : invalid(name, `${op} needs a number, not "${right}"`);
    switch (op) {
      case '+':
        return formatDecimal(addDecimal(left.value, r));
      case '-':
        return formatDecimal(subtractDecimal(left.value, r));
      case '*':
        return formatDecimal(multiplyDecimal(left.value, r));
      default:
        if (r.coef === 0n) throw invalid(name, 'division by zero');
        return formatDecimal(divideDecimal(left.value, r));
    }
  }
  if (op !== '+') throw invalid(name, `${name} is text; only + (concatenation) is allowed, not ${op}`);
  return left.text + right;
}

function inRanges(ranges: ReadonlyArray<readonly [number, number]> | undefined, offset: number): boolean {
  if (!ranges) return false;
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, e] = ranges[mid]!;
    if (offset < s) hi = mid - 1;
    else if (offset >= e) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Replaces every `${…}` reference of `text`. */
function substituteReferences(text: string, scope: Scope, options: ScanOptions): string {
  let out = '';
  let pos = 0;
  let from = 0;
  for (;;) {
    const start = text.indexOf('${', from);
    if (start < 0) break;
    const end = text.indexOf('}', start + 2);
    if (end < 0) break;
    const content = text.slice(start + 2, end);
    const whole = text.slice(start, end + 1);
    const m = EXPRESSION_RE.exec(content);
    const keepUndefined = options.keepUndefined || inRanges(options.comments, start);
    if (!m) {
      const like = EXPRESSION_LIKE_RE.exec(content);
      if (like && !(keepUndefined && !scope.get(like[1]!))) {
        throw invalid(like[1]!, `bad expression ${whole} ${options.where(start)}: expected \${name} or \${name op operand} with one of + - * /`);
      }
      // Not Linkis syntax (e.g. shell ${x:-y}, ${#x}, Scala ${a.b()}): left as it is; a reference may start inside it.
      from = start + 2;
      continue;
    }
    const name = m[1]!;
    const left = scope.get(name);
    if (!left) {
      if (keepUndefined) {
        from = end + 1;
        continue;
      }
      throw invalid(name, `is not defined ${options.where(start)}: set it with an @set line or in the job's variables`);
    }
    const value = m[2] ? evaluate(name, left, m[2], m[3]!, scope) : textOf(left);
    out += text.slice(pos, start) + value;
    pos = end + 1;
    from = end + 1;
  }
  return out + text.slice(pos);
}

function mergeRanges(ranges: Array<readonly [number, number]>): Array<readonly [number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function toText(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * Replaces the job variables of `code`: `${name}`, `${name op operand}` (e.g. `${run_date-1}`) and
 * `&{yyyyMMdd%-1d}`. Returns the new code and, as text, the variables the job was given (or @set) and
 * the built-ins it referred to. Throws
 * SLUICE_JOB_VARIABLE_INVALID for an undefined reference, a bad run_date or a bad expression.
 */
export function substituteVariables(code: string, ctx: VariableContext): SubstitutionResult {
  const language = languageOf(ctx.codeType);
  const definitions = parseSetDefinitions(code, language);

  // Priority: @set lines (the last one of a name wins), then the job's variables.
  const raw = new Map<string, string>();
  for (const [name, value] of Object.entries(ctx.variables)) raw.set(name, toText(value));
  for (const d of definitions) raw.set(d.name, d.value);
  for (const name of raw.keys()) {
    if (BUILT_IN_SET.has(name) && !SETTABLE_BUILT_INS.includes(name)) {
      throw invalid(name, 'is a built-in derived from run_date and cannot be set; set run_date instead');
    }
  }
  for (const name of SYSTEM_VARIABLES) raw.delete(name);

  // The clock, the run date and the ~50 calendar built-ins are worked out only when something refers
  // to them: most code refers to none. A run date or hour given in a bad form fails the job either way.
  const parseHour = (name: string): { date: CivilDate; hour: number } | undefined => {
    const text = raw.get(name)?.trim();
    if (text === undefined || text === '') return undefined;
    const parsed = parseCompactHour(text);
    if (!parsed) throw invalid(name, `"${text}" is not an hour in the form yyyyMMddHH`);
    return parsed;
  };
  const runDateText = raw.get('run_date');
  let givenRunDate: CivilDate | undefined;
  if (runDateText !== undefined && runDateText.trim() !== '') {
    givenRunDate = parseCompactDate(runDateText.trim()) ?? undefined;
    if (!givenRunDate) throw invalid('run_date', `"${runDateText}" is not a date in the form yyyyMMdd`);
  }
  const givenTodayH = parseHour('run_today_h');
  const givenTodayHour = parseHour('run_today_hour');
  let clock: { now: CivilDateTime; runDate: CivilDate } | undefined;
  const at = () => {
    if (!clock) {
      const now = zonedDateTime(ctx.now, ctx.timeZone ?? processTimeZone());
      clock = { now, runDate: givenRunDate ?? addDays(now, -1) };
    }
    return clock;
  };
  const computeFixed = (): Map<string, Var> => {
    const { now, runDate } = at();
    const defaultHour = { date: addDays(runDate, 1), hour: now.hour };
    const fixed = builtIns(runDate, givenTodayH ?? defaultHour, givenTodayHour ?? defaultHour);
    fixed.set('user', { type: 'text', text: ctx.user });
    fixed.set('execute_user', { type: 'text', text: ctx.user });
    fixed.set('submit_user', { type: 'text', text: ctx.submitUser ?? ctx.user });
    return fixed;
  };
  const timeBase = (): CivilDateTime => {
    const { now, runDate } = at();
    return { ...runDate, hour: now.hour, minute: now.minute, second: now.second, millisecond: now.millisecond };
  };

  // Undefined names are kept where ${…} is the language's own syntax: shell parameters and Scala interpolation.
  const keepUndefined = language === 'shell' || language === 'scala';
  const scope = new Scope(computeFixed, raw, keepUndefined, timeBase);

  let out = code;
  if (language) {
    const ranges = [...commentRanges(code, syntaxOf(language))];
    // @set lines are definitions, not code: an undefined reference in one only fails when the variable is used.
    if (definitions.length > 0) {
      const lines = code.split('\n');
      const lineStart: number[] = [0];
      for (const l of lines) lineStart.push(lineStart[lineStart.length - 1]! + l.length + 1);
      for (const d of definitions) ranges.push([lineStart[d.line - 1]!, lineStart[d.line - 1]! + lines[d.line - 1]!.length]);
    }
    const comments = mergeRanges(ranges);
    if (code.includes('${')) out = substituteReferences(code, scope, { keepUndefined, comments, where: (offset) => `at line ${lineAt(code, offset)}` });
    if (out.includes('&{')) out = expandPatterns(out, timeBase());
  }

  // What the job records: the variables it was given (or @set), and the built-ins it referred to.
  const variables: Record<string, string> = {};
  for (const name of raw.keys()) if (FIXED_NAMES.has(name)) scope.used.add(name);
  for (const name of scope.used) variables[name] = textOf(scope.fixed().get(name) as Var);
  Object.assign(variables, scope.userTexts());
  return { code: out, variables };
}
