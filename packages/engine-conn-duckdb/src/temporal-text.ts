/**
 * ISO-8601 text for DuckDB dates and times, computed from their integer encodings so nothing is lost
 * (JavaScript Date stops at milliseconds and at year 275760). Years use astronomical numbering:
 * 1 BC is 0000; years outside 0000–9999 get a sign and at least six digits (ISO expanded form).
 */

const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

function formatYear(year: number): string {
  if (year >= 0 && year <= 9999) return pad(year, 4);
  return (year < 0 ? '-' : '+') + pad(Math.abs(year), 6);
}

/** `YYYY-MM-DD` for a count of days since 1970-01-01 (proleptic Gregorian calendar). */
export function formatDate(days: number): string {
  // Howard Hinnant's civil_from_days.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${formatYear(year)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/**
 * `HH:MM:SS[.fraction]` for a time of day given in sub-second units (`unitsPerSecond` is 1e6 for
 * microseconds, 1e9 for nanoseconds). Trailing zeros of the fraction are dropped.
 */
export function formatTimeOfDay(units: bigint, unitsPerSecond: bigint = 1_000_000n): string {
  const seconds = units / unitsPerSecond;
  const fraction = units % unitsPerSecond;
  const h = seconds / 3600n;
  const m = (seconds / 60n) % 60n;
  const s = seconds % 60n;
  let text = `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
  if (fraction !== 0n) {
    const digits = String(unitsPerSecond).length - 1;
    text += `.${pad(fraction, digits).replace(/0+$/, '')}`;
  }
  return text;
}

/** `+HH:MM` / `-HH:MM` (with `:SS` when needed) for an offset in seconds east of UTC. */
export function formatOffset(offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const text = `${sign}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}`;
  return abs % 60 === 0 ? text : `${text}:${pad(abs % 60, 2)}`;
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction]` for a count of sub-second units since 1970-01-01T00:00:00. */
export function formatTimestamp(units: bigint, unitsPerSecond: bigint = 1_000_000n): string {
  const unitsPerDay = (MICROS_PER_DAY / 1_000_000n) * unitsPerSecond;
  const days = floorDiv(units, unitsPerDay);
  const timeOfDay = units - days * unitsPerDay;
  return `${formatDate(Number(days))}T${formatTimeOfDay(timeOfDay, unitsPerSecond)}`;
}
