/**
 * Linkis time patterns `&{pattern%±Nunit…}` (VariableOperationUtils): the pattern is a
 * java.time.DateTimeFormatter pattern applied to run_date at the current wall-clock time, after the
 * offsets (units y M d H m s) are applied left to right. `&{yyyyMMdd%-1d}` is the day before run_date.
 */
import { addDays, addMonths, addSeconds, addYears, type CivilDateTime, dayOfWeek, dayOfYear, pad } from './calendar.ts';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const QUARTER_ORDINALS = ['1st', '2nd', '3rd', '4th'];

/** Most pattern letters each letter may repeat; a letter not listed is not supported. */
const MAX_COUNT: Record<string, number> = {
  y: 19,
  M: 5,
  L: 5,
  d: 2,
  D: 3,
  H: 2,
  h: 2,
  k: 2,
  K: 2,
  m: 2,
  s: 2,
  S: 9,
  a: 1,
  E: 5,
  Q: 5,
  q: 5,
};

type Item = { readonly literal: string } | { readonly letter: string; readonly count: number };

/** A compiled pattern, or the reason it is not one. */
export type CompiledPattern = { ok: true; items: Item[] } | { ok: false; reason: string };

/**
 * Compiles the supported subset of DateTimeFormatter patterns: letters y M L d D H h k K m s S a E Q q,
 * `'quoted text'` (`''` is a quote), optional-section brackets `[` `]` (always printed), other
 * characters verbatim.
 */
export function compileTimePattern(pattern: string): CompiledPattern {
  const items: Item[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      const count = j - i;
      const max = MAX_COUNT[c];
      if (max === undefined) return { ok: false, reason: `pattern letter ${c} is not supported` };
      if (count > max) return { ok: false, reason: `too many pattern letters ${c}` };
      items.push({ letter: c, count });
      i = j;
    } else if (c === "'") {
      if (pattern[i + 1] === "'") {
        items.push({ literal: "'" });
        i += 2;
        continue;
      }
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) return { ok: false, reason: 'unterminated quote' };
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j];
        j++;
      }
      items.push({ literal: text });
      i = j + 1;
    } else if (c === '{' || c === '}' || c === '#') {
      return { ok: false, reason: `reserved character ${c}` };
    } else {
      if (c !== '[' && c !== ']') items.push({ literal: c });
      i++;
    }
  }
  return { ok: true, items };
}

function number(value: number, count: number): string {
  return count === 1 ? String(value) : pad(value, count);
}

function formatItem(item: Item, t: CivilDateTime): string {
  if ('literal' in item) return item.literal;
  const { letter, count } = item;
  switch (letter) {
    case 'y':
      return count === 2 ? pad(t.year % 100, 2) : number(t.year, count);
    case 'M':
    case 'L': {
      const name = MONTHS[t.month - 1]!;
      if (count <= 2) return number(t.month, count);
      return count === 3 ? name.slice(0, 3) : count === 4 ? name : name.slice(0, 1);
    }
    case 'd':
      return number(t.day, count);
    case 'D':
      return number(dayOfYear(t), count);
    case 'H':
      return number(t.hour, count);
    case 'h':
      return number(t.hour % 12 || 12, count);
    case 'k':
      return number(t.hour || 24, count);
    case 'K':
      return number(t.hour % 12, count);
    case 'm':
      return number(t.minute, count);
    case 's':
      return number(t.second, count);
    case 'S':
      return `${pad(t.millisecond, 3)}000000`.slice(0, count);
    case 'a':
      return t.hour < 12 ? 'AM' : 'PM';
    case 'E': {
      const name = DAYS[dayOfWeek(t) - 1]!;
      return count <= 3 ? name.slice(0, 3) : count === 4 ? name : name.slice(0, 1);
    }
    default: {
      // Q, q
      const quarter = Math.floor((t.month - 1) / 3) + 1;
      if (count === 1 || count === 5) return String(quarter);
      if (count === 2) return pad(quarter, 2);
      return count === 3 ? `Q${quarter}` : `${QUARTER_ORDINALS[quarter - 1]} quarter`;
    }
  }
}

/** Formats `t` with a compiled pattern. */
export function formatTimePattern(items: readonly Item[], t: CivilDateTime): string {
  return items.map((item) => formatItem(item, t)).join('');
}

/** Applies one offset such as `-1d`, `+2M`, `3H`; undefined when it is not one. */
export function applyOffset(t: CivilDateTime, offset: string): CivilDateTime | undefined {
  const m = /^([+-]?\d{1,9})([yMdHms])$/.exec(offset);
  if (!m) return undefined;
  const n = Number(m[1]);
  const keepTime = (d: { year: number; month: number; day: number }): CivilDateTime => ({ ...t, year: d.year, month: d.month, day: d.day });
  switch (m[2]) {
    case 'y':
      return keepTime(addYears(t, n));
    case 'M':
      return keepTime(addMonths(t, n));
    case 'd':
      return keepTime(addDays(t, n));
    case 'H':
      return addSeconds(t, n * 3600);
    case 'm':
      return addSeconds(t, n * 60);
    default:
      return addSeconds(t, n);
  }
}

/** Raised for a `&{…}` that has offsets but is malformed; `text` is the whole placeholder. */
export class TimePatternError extends Error {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {
    super(`${text}: ${reason}`);
  }
}

/**
 * Replaces every `&{…}` of `text`. A placeholder with `%` offsets must be valid, else
 * {@link TimePatternError}; one without offsets that is not a supported pattern (e.g. shell
 * `&{ echo; }`) is left as it is, as Linkis leaves patterns DateTimeFormatter rejects.
 */
export function expandTimePatterns(text: string, base: CivilDateTime): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const start = text.indexOf('&{', pos);
    if (start < 0) break;
    const end = text.indexOf('}', start + 2);
    if (end < 0) break;
    const whole = text.slice(start, end + 1);
    const [pattern = '', ...offsets] = text
      .slice(start + 2, end)
      .trim()
      .split('%');
    const compiled = compileTimePattern(pattern);
    if (offsets.length === 0 && (!compiled.ok || pattern === '')) {
      out += text.slice(pos, end + 1);
      pos = end + 1;
      continue;
    }
    if (!compiled.ok) throw new TimePatternError(whole, compiled.reason);
    if (pattern === '') throw new TimePatternError(whole, 'the pattern before % is empty');
    let t = base;
    for (const offset of offsets) {
      const next = applyOffset(t, offset.trim());
      if (!next) throw new TimePatternError(whole, `bad offset "${offset}": expected a signed integer and a unit y, M, d, H, m or s, e.g. -1d`);
      t = next;
    }
    if (t.year < 1 || t.year > 9999) throw new TimePatternError(whole, 'the date is outside the years 1–9999');
    out += text.slice(pos, start) + formatTimePattern(compiled.items, t);
    pos = end + 1;
  }
  return out + text.slice(pos);
}
