/**
 * `@sluice/cli`: the `sluice` command. The process entry is `src/main.ts` (run by `bin/sluice.mjs`);
 * this module exports the pieces for embedding and tests.
 */
export { SluiceApi } from './api.ts';
export { type Command, type ParsedArgs, parseArgs } from './argv.ts';
export { cliVersion, runCli } from './cli.ts';
export { CliError } from './cli-error.ts';
export { type CliConfig, DEFAULT_LEASE_SECONDS, DEFAULT_URL, loadConfig } from './config.ts';
export { EXIT, type ExitCode } from './exit-codes.ts';
export type { CliIo } from './io.ts';
export { followJob, type Transport } from './job-follower.ts';
export { resolveJob } from './job-ref.ts';
export { type KeysAction, type KeyUsage, keysCommand, parseKeysArgs } from './keys-command.ts';
export { LINKIS_STATUS, linkisJobInfo, taskIdLine } from './linkis-job-info.ts';
export { type ResultFormat, RowFormatter } from './result-format.ts';
export { buildSubmitRequest, DEFAULT_CREATOR } from './submit-request.ts';
