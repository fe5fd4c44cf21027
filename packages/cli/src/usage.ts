import { EXIT } from './exit-codes.ts';
import { GLUED_OPTION_NAMES, OPTIONS } from './options.ts';

/** How a name is shown: linkis-cli's job parameters with one dash (`-engineType`), the rest with two. */
function spell(name: string): string {
  return name.length === 1 || GLUED_OPTION_NAMES.includes(name) ? `-${name}` : `--${name}`;
}

/** The text of `sluice --help`. */
export function usageText(): string {
  const rows = OPTIONS.map((o) => {
    const names = o.names.map(spell).join(', ');
    return [`${names}${o.arg ? ` ${o.arg}` : ''}`, o.help] as const;
  });
  const width = Math.min(46, Math.max(...rows.map(([l]) => l.length)));
  const options = rows.map(([l, h]) => (l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${h}` : `  ${l.padEnd(width)}  ${h}`)).join('\n');
  return `usage:
  sluice submit [options] (--code <code> | --file <file> | <file>)   run a job and wait for it
  sluice status|log|result|kill <id>                                 a job by id or numeric taskID
  sluice -engineType duckdb-1.5 -codeType sql -code "select 1"       linkis-cli style
  sluice --async true -engineType duckdb-1.5 -code "…"               submit, print the taskID, exit
  sluice --status|--log|--result|--kill <taskID>                     linkis-cli style job commands
  sluice keys status|rotate [--format table|json]                    admins: master keys of data-source secrets

Every option works with one or two dashes, and as --name=value.

options:
${options}

configuration (later wins): config file (--config, else SLUICE_CONFIG, else ~/.sluice/config.json:
{"url", "token", "leaseSeconds", "creator", "engineType"}), then SLUICE_URL and SLUICE_TOKEN, then flags.

exit codes: ${EXIT.ok} succeeded, ${EXIT.failed} job failed, ${EXIT.usage} bad options, ${EXIT.rejected} refused by the server,
  ${EXIT.unreachable} server unreachable, ${EXIT.timeout} job timed out, ${EXIT.cancelled} job cancelled,
  ${EXIT.sigint}/${EXIT.sigterm} SIGINT/SIGTERM (the job was cancelled first); a closed terminal (SIGHUP) ends the
  CLI and the client lease cancels the job, unless run with nohup.
`;
}
