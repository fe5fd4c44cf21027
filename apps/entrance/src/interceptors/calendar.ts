/**
 * Calendar arithmetic on plain dates, without time zones. The only place a time zone is used is
 * {@link zonedDateTime}, which reads "now" on the wall clock of a zone; every later step is plain
 * calendar arithmetic, so a daylight-saving change never shifts a date variable.
 */
import { SluiceError } from '@sluice/core';

/** A calendar date; `month` is 1–12. */
export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A wall-clock date and time without a zone. */
export interface CivilDateTime extends CivilDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

/** Whether `year` has 29 February (proleptic Gregorian). */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days of `month` (1–12) in `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
export function daysFromCivil(d: CivilDate): number {
  const y = d.month <= 2 ? d.year - 1 : d.year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = d.month > 2 ? d.month - 3 : d.month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d.day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date `days` days after 1970-01-01 (H. Hinnant's civil_from_days). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Whether year/month/day name a real date. */
export function isValidDate(year: number, month: number, day: number): boolean {
  return Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day) && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** `d` plus `n` days (n may be negative). */
export function addDays(d: CivilDate, n: number): CivilDate {
  return civilFromDays(daysFromCivil(d) + n);
}

/** `d` plus `n` months; the day is clamped to the last day of the target month (31 Mar − 1 month = 28/29 Feb). */
export function addMonths(d: CivilDate, n: number): CivilDate {
  const index = d.year * 12 + (d.month - 1) + n;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return { year, month, day: Math.min(d.day, daysInMonth(year, month)) };
}

/** `d` plus `n` years; 29 Feb becomes 28 Feb in a common year. */
export function addYears(d: CivilDate, n: number): CivilDate {
  return addMonths(d, 12 * n);
}

/** First day of the month of `d`. */
export function monthBegin(d: CivilDate): CivilDate {
  return { year: d.year, month: d.month, day: 1 };
}

/** Last day of the month of `d`. */
export function monthEnd(d: CivilDate): CivilDate {
  return { year: d.year, month: d.month, day: daysInMonth(d.year, d.month) };
}

/** First day of the period of `months` months (3 = quarter, 6 = half year, 12 = year) holding `d`. */
export function periodBegin(d: CivilDate, months: 3 | 6 | 12): CivilDate {
  return { year: d.year, month: Math.floor((d.month - 1) / months) * months + 1, day: 1 };
}

/** Last day of the period of `months` months holding `d`. */
export function periodEnd(d: CivilDate, months: 3 | 6 | 12): CivilDate {
  return monthEnd(addMonths(periodBegin(d, months), months - 1));
}

/** ISO day of week: 1 = Monday … 7 = Sunday. */
export function dayOfWeek(d: CivilDate): number {
  return ((((daysFromCivil(d) + 3) % 7) + 7) % 7) + 1;
}

/** Day of the year, 1–366. */
export function dayOfYear(d: CivilDate): number {
  return daysFromCivil(d) - daysFromCivil({ year: d.year, month: 1, day: 1 }) + 1;
}

/** `dt` plus `seconds` seconds of wall-clock time (no daylight-saving gaps: it has no zone). */
export function addSeconds(dt: CivilDateTime, seconds: number): CivilDateTime {
  const total = dt.hour * 3600 + dt.minute * 60 + dt.second + seconds;
  const dayShift = Math.floor(total / 86400);
  const rest = total - dayShift * 86400;
  const date = addDays(dt, dayShift);
  return {
    ...date,
    hour: Math.floor(rest / 3600),
    minute: Math.floor((rest % 3600) / 60),
    second: rest % 60,
    millisecond: dt.millisecond,
  };
}

/** Zero-pads a non-negative integer to `width` digits. */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `yyyyMMdd`, or `yyyy-MM-dd` when `std`. */
export function formatDate(d: CivilDate, std: boolean): string {
  return std ? `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}` : `${pad(d.year, 4)}${pad(d.month, 2)}${pad(d.day, 2)}`;
}

/** `yyyyMM`, or `yyyy-MM` when `std`. */
export function formatMonth(d: CivilDate, std: boolean): string {
  return std ? `${pad(d.year, 4)}-${pad(d.month, 2)}` : `${pad(d.year, 4)}${pad(d.month, 2)}`;
}

/** `yyyyMMddHH`, or `yyyy-MM-dd HH` when `std`. */
export function formatHour(d: CivilDate, hour: number, std: boolean): string {
  return `${formatDate(d, std)}${std ? ' ' : ''}${pad(hour, 2)}`;
}

/** Parses a strict `yyyyMMdd` (eight digits, a real date, year ≥ 1); undefined otherwise. */
export function parseCompactDate(s: string): CivilDate | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  return year >= 1 && isValidDate(year, month, day) ? { year, month, day } : undefined;
}

/** Parses a strict `yyyyMMddHH` (hour 00–23); undefined otherwise. */
export function parseCompactHour(s: string): { date: CivilDate; hour: number } | undefined {
  const m = /^(\d{8})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const date = parseCompactDate(m[1]!);
  const hour = Number(m[2]);
  return date && hour <= 23 ? { date, hour } : undefined;
}

/** The time zone of this process (the `TZ` environment variable, else the system zone). */
export function processTimeZone(): string {
  // Building a DateTimeFormat is costly and the process zone does not change while it runs.
  processZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone;
  return processZone;
}

let processZone: string | undefined;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (e) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: 'timeZone', reason: `unknown time zone "${timeZone}": ${(e as Error).message}` });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock date and time of the instant `now` in `timeZone` (an IANA name such as Asia/Shanghai). */
export function zonedDateTime(now: Date, timeZone: string): CivilDateTime {
  if (Number.isNaN(now.getTime())) throw new SluiceError('SLUICE_JOB_VARIABLE_INVALID', { name: 'now', reason: 'the current time is not a valid date' });
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(now)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: now.getUTCMilliseconds(),
  };
}
