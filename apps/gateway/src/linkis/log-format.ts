/**
 * Linkis' log shape: a 4-element array `[error, warn, info, all]`, each a `\n`-joined string
 * (`LogReader.readArray`). Blank lines are dropped, as Linkis drops them.
 */

/** The level Linkis files a line under. */
export type LinkisLogLevel = 'error' | 'warn' | 'info';

const STAMP = String.raw`(?:[0-9\-/]{10} [0-9:]{8}\S* )?`;
const ERROR = new RegExp(`^${STAMP}(?:SYSTEM-)?ERROR\\b`);
const WARN = new RegExp(`^${STAMP}(?:SYSTEM-)?WARN(?:ING)?\\b`);

/**
 * The level of one line: Linkis classifies by a `yyyy-MM-dd HH:mm:ss.SSS LEVEL ` header; Sluice
 * lines have no timestamp, so a leading `ERROR`/`WARN` (optionally after one) decides, else INFO.
 */
export function logLevelOf(line: string): LinkisLogLevel {
  if (ERROR.test(line)) return 'error';
  if (WARN.test(line)) return 'warn';
  return 'info';
}

/** Files lines into Linkis' `[error, warn, info, all]`. */
export function toLinkisLog(lines: readonly string[]): [string, string, string, string] {
  const out: Record<LinkisLogLevel | 'all', string[]> = { error: [], warn: [], info: [], all: [] };
  for (const line of lines) {
    if (line.trim() === '') continue;
    out[logLevelOf(line)].push(line);
    out.all.push(line);
  }
  return [out.error.join('\n'), out.warn.join('\n'), out.info.join('\n'), out.all.join('\n')];
}

/** The closing line Linkis writes, which linkis-cli waits for ("Your job completed with"). */
export function completionLine(state: string): string {
  return state === 'Succeed'
    ? 'Congratulations. Your job completed with status Success.'
    : `Sorry. Your job completed with a status ${state}. You can view logs for the reason.`;
}
