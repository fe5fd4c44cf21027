/**
 * ISO-8601 text for Spark's dates, timestamps and intervals, computed from their integer encodings
 * (days, microseconds, months) so nothing is rounded through a JavaScript Date.
 */

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400n * MICROS_PER_SECOND;

function two(n: bigint | number): string {
  return String(n).padStart(2, '0');
}

function yearText(year: number): string {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, '0');
  return `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
}

/** `YYYY-MM-DD` for days since 1970-01-01 in the proleptic Gregorian calendar (Spark's calendar). */
export function dateText(days: number): string {
  // Days to civil date (the era-based algorithm of H. Hinnant's date library).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${yearText(year)}-${two(month)}-${two(day)}`;
}

function fractionText(micros: bigint): string {
  return micros === 0n ? '' : `.${String(micros).padStart(6, '0').replace(/0+$/, '')}`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]` for microseconds since the epoch; with `utc`, a `Z` suffix (Spark's
 * TIMESTAMP is an instant, sent in UTC; TIMESTAMP_NTZ has no zone).
 */
export function timestampText(micros: bigint, utc: boolean): string {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    days -= 1n;
    rest += MICROS_PER_DAY;
  }
  const seconds = rest / MICROS_PER_SECOND;
  const time = `${two(seconds / 3600n)}:${two((seconds / 60n) % 60n)}:${two(seconds % 60n)}${fractionText(rest % MICROS_PER_SECOND)}`;
  return `${dateText(Number(days))}T${time}${utc ? 'Z' : ''}`;
}

/** ISO-8601 duration for a day-time interval in microseconds, e.g. `P1DT2H3M4.5S`, `-PT1S`, `PT0S`. */
export function dayTimeIntervalText(micros: bigint): string {
  const negative = micros < 0n;
  let rest = negative ? -micros : micros;
  const days = rest / MICROS_PER_DAY;
  rest %= MICROS_PER_DAY;
  const hours = rest / (3600n * MICROS_PER_SECOND);
  rest %= 3600n * MICROS_PER_SECOND;
  const minutes = rest / (60n * MICROS_PER_SECOND);
  rest %= 60n * MICROS_PER_SECOND;
  let time = '';
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (rest) time += `${rest / MICROS_PER_SECOND}${fractionText(rest % MICROS_PER_SECOND)}S`;
  let text = `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
  if (text === 'P') text = 'PT0S';
  return negative ? `-${text}` : text;
}

/** ISO-8601 duration for a year-month interval in months, e.g. `P1Y2M`, `-P3M`, `P0M`. */
export function yearMonthIntervalText(months: number): string {
  const negative = months < 0;
  const abs = Math.abs(months);
  const years = Math.floor(abs / 12);
  const rest = abs % 12;
  const text = `P${years ? `${years}Y` : ''}${rest || !years ? `${rest}M` : ''}`;
  return negative ? `-${text}` : text;
}
