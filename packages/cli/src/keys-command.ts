import type { SluiceApi } from './api.ts';
import { type ParsedArgs, parseArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, write } from './io.ts';
import type { OptionKey } from './options.ts';

/** What `sluice keys …` asks for. */
export type KeysAction = 'rotate' | 'status';

/** Records per master key id, as the server reports them. Never key material. */
export interface KeyUsage {
  keyId: string;
  active: boolean;
  configured: boolean;
  records: number;
}

/** The options a `keys` command takes: where the server is, who asks, and the output format. */
const KEYS_OPTIONS: readonly OptionKey[] = ['url', 'token', 'configFile', 'format'];

/**
 * Parses `sluice keys rotate|status [--url …] [--token …] [--config …] [--format table|json]`
 * (`argv` starts after `keys`). Help and version flags keep their usual meaning.
 */
export function parseKeysArgs(argv: readonly string[]): { action?: KeysAction; args: ParsedArgs } {
  const action = argv[0]?.startsWith('-') ? undefined : argv[0];
  const args = parseArgs(action === undefined ? argv : argv.slice(1));
  if (args.command === 'help' || args.command === 'version') return { args };
  if (action !== 'rotate' && action !== 'status')
    throw new CliError(EXIT.usage, `keys takes rotate or status, not ${action === undefined ? 'nothing' : JSON.stringify(action)}`);
  if (args.command !== 'submit' || args.scriptFile !== undefined) throw new CliError(EXIT.usage, `unexpected arguments after keys ${action}`);
  const extra = (Object.keys(args.values) as OptionKey[]).filter((k) => !KEYS_OPTIONS.includes(k));
  const other = [...extra, ...args.flags, ...Object.entries(args.maps).flatMap(([k, m]) => (Object.keys(m).length ? [k] : []))];
  if (other.length > 0 || args.async) throw new CliError(EXIT.usage, `keys ${action} takes only --url, --token, --config and --format`);
  const format = args.values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new CliError(EXIT.usage, `keys ${action} prints table or json, not ${JSON.stringify(format)}`);
  return { action, args };
}

function usageTable(keys: readonly KeyUsage[]): string {
  const rows = [
    ['KEY ID', 'RECORDS', 'ACTIVE', 'CONFIGURED'],
    ...keys.map((k) => [k.keyId, String(k.records), k.active ? 'yes' : '', k.configured ? 'yes' : 'NO']),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * `sluice keys status`: which master key ids wrap how many data-source records.
 * `sluice keys rotate`: re-wraps every data key under the gateway's active master key while jobs run.
 * Both need an admin token. Rotation exits 0 only when no record is left under another key, so a
 * script can remove the old key from SLUICE_MASTER_KEYS after a 0.
 */
export async function keysCommand(action: KeysAction, api: SluiceApi, io: CliIo, format: 'table' | 'json'): Promise<ExitCode> {
  if (action === 'status') {
    const s = await api.keyStatus();
    if (format === 'json') await write(io.stdout, `${JSON.stringify(s, null, 2)}\n`);
    else await write(io.stdout, `active master key: ${s.activeKeyId}\n${usageTable(s.keys)}\n`);
    return EXIT.ok;
  }
  const r = await api.rotateKeys();
  const left = r.after.filter((k) => !k.active && k.records > 0);
  if (format === 'json') await write(io.stdout, `${JSON.stringify(r, null, 2)}\n`);
  else
    await write(
      io.stdout,
      `re-wrapped ${r.rewrapped} record(s) under master key ${r.activeKeyId}\nbefore:\n${usageTable(r.before)}\nafter:\n${usageTable(r.after)}\n`,
    );
  if (left.length > 0) {
    io.stderr.write(
      `[sluice] still under other keys: ${left.map((k) => `${k.keyId} (${k.records})`).join(', ')}; ` +
        `keys not configured on this gateway are left alone, and a gateway whose active key is older keeps using it. ` +
        `Run the rotation again once every gateway has ${r.activeKeyId} first.\n`,
    );
    return EXIT.failed;
  }
  io.stderr.write('[sluice] every record is under the active key: the old keys can be removed from SLUICE_MASTER_KEYS\n');
  return EXIT.ok;
}
