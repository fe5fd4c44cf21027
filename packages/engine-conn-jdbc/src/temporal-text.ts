/**
 * ISO-8601 text of the date and time values databases print. The databases print exact values; these
 * functions only reshape the text (a `T` between date and time, `+HH:MM` offsets, signed years), so
 * nothing is rounded or shifted.
 */

/** `+05` → `+05:00`, `-03:30` stays, `+05:53:28` (historic local mean time) stays. */
export function normalizeOffset(offset: string): string {
  return /^[+-]\d{2}$/.test(offset) ? `${offset}:00` : offset;
}

/** A year of the proleptic Gregorian calendar as ISO prints it: 4 digits, with a sign below 0 or above 9999. */
function isoYear(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0');
  return (year < 0 ? '-' : '+') + String(Math.abs(year)).padStart(6, '0');
}

/** Rewrites a `YYYY…` year with an optional ` BC` suffix as an ISO year (1 BC is year 0000). */
function withEra(yearText: string, bc: boolean): string {
  const year = Number(yearText);
  return isoYear(bc ? 1 - year : year);
}

const DATE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::\d{2}){0,2})?( BC)?$/;
const TIME_TZ = /^(\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::\d{2}){0,2})$/;

/**
 * A date as `YYYY-MM-DD` from PostgreSQL's ISO text (`2024-01-31`, `0044-03-15 BC`); `infinity` and
 * `-infinity` stay; anything else is returned unchanged.
 */
export function isoDate(text: string): string {
  const m = DATE.exec(text);
  if (!m) return text;
  return `${withEra(m[1]!, Boolean(m[4]))}-${m[2]}-${m[3]}`;
}

/**
 * A timestamp as ISO-8601 text: `2024-01-31 12:00:00.5` → `2024-01-31T12:00:00.5`, with the offset
 * made `+HH:MM` when the text carries one. Infinite and unknown forms are returned unchanged.
 */
export function isoTimestamp(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  const offset = m[5] ? normalizeOffset(m[5]) : '';
  return `${withEra(m[1]!, Boolean(m[6]))}-${m[2]}-${m[3]}T${m[4]}${offset}`;
}

/** A time with time zone: `12:00:00+05` → `12:00:00+05:00`. */
export function isoTimeTz(text: string): string {
  const m = TIME_TZ.exec(text);
  return m ? `${m[1]}${normalizeOffset(m[2]!)}` : text;
}
