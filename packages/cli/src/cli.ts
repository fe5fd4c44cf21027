import { readFileSync } from 'node:fs';
import { SluiceApi } from './api.ts';
import { type ParsedArgs, parseArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import { type CliConfig, loadConfig } from './config.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, note, write } from './io.ts';
import { keysCommand, parseKeysArgs } from './keys-command.ts';
import { killCommand } from './kill-command.ts';
import { logCommand } from './log-command.ts';
import { resultCommand } from './result-command.ts';
import { parseFormat } from './result-format.ts';
import { statusCommand } from './status-command.ts';
import { submitCommand } from './submit-command.ts';
import { parseTransport } from './transport-option.ts';
import { usageText } from './usage.ts';

/** The CLI's version, from its package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs `sluice` with `argv` (without the node and script paths) and returns its exit code. Errors are
 * printed on stderr as `sluice: <what>: <CODE>: <message>`; the token never appears in any output.
 * `exit` ends the process at once (used after a signal cancelled the job).
 */
export async function runCli(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv, exit: (code: ExitCode) => void): Promise<ExitCode> {
  try {
    if (argv.length === 0) {
      io.stderr.write(usageText());
      return EXIT.usage;
    }
    // `sluice keys rotate|status`: admin commands with their own few options.
    const keys = argv[0] === 'keys' ? parseKeysArgs(argv.slice(1)) : undefined;
    const args = keys?.args ?? parseArgs(argv);
    if (args.command === 'help') {
      await write(io.stdout, usageText());
      return EXIT.ok;
    }
    if (args.command === 'version') {
      await write(io.stdout, `sluice ${cliVersion()}\n`);
      return EXIT.ok;
    }
    const config = loadConfig(args, env);
    for (const w of config.warnings) note(io, `warning: ${w}`);
    if (!config.token)
      throw new CliError(
        EXIT.usage,
        'no API token: set SLUICE_TOKEN, or "token" in the config file (create one with: npm run admin -- token create --user <you>)',
      );
    const api = new SluiceApi(config.url, config.token);
    if (keys?.action) return await keysCommand(keys.action, api, io, args.values.format === 'json' ? 'json' : 'table');
    return await dispatch(args, config, api, io, exit);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`sluice: ${err.describe()}\n`);
      if (err.exitCode === EXIT.usage) io.stderr.write("Run 'sluice --help' for the options.\n");
      return err.exitCode;
    }
    io.stderr.write(`sluice: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failed;
  }
}

function dispatch(args: ParsedArgs, config: CliConfig, api: SluiceApi, io: CliIo, exit: (code: ExitCode) => void): Promise<ExitCode> {
  const ref = args.jobRef as string;
  switch (args.command) {
    case 'status':
      return statusCommand(api, ref, io);
    case 'log':
      return logCommand(api, ref, io, {
        follow: args.flags.has('follow'),
        transport: parseTransport(args.values.transport),
        baseUrl: config.url,
        token: config.token,
      });
    case 'result':
      return resultCommand(api, ref, io, { format: parseFormat(args.values.format, args.values.outPath ? 'csv' : 'table'), outDir: args.values.outPath });
    case 'kill':
      return killCommand(api, ref, io);
    default:
      return submitCommand(args, config, api, io, exit);
  }
}
