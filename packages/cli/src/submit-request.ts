import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SubmitJob } from '@sluice/core';
import type { ParsedArgs } from './argv.ts';
import { CliError } from './cli-error.ts';
import type { CliConfig } from './config.ts';
import { EXIT } from './exit-codes.ts';

/** The creator of jobs the CLI submits when `-creator` is not given. */
export const DEFAULT_CREATOR = 'sluice-cli';

/** A job to submit, and who the command line says should run it. */
export interface SubmitRequest {
  job: SubmitJob;
  /**
   * The user named by `-proxyUser` or `-submitUser`. Sluice runs a job as the token's user, so the
   * CLI checks the job's user against this name once the server answered.
   */
  expectedUser?: string;
  /** Where the code came from, for messages: `-code`, a file name or stdin. */
  source: string;
}

/**
 * Builds the job of `sluice submit` from the command line and the configuration, and checks every
 * value before anything is sent. A synchronous submission carries `clientLeaseSeconds`; an `--async`
 * one does not.
 */
export function buildSubmitRequest(args: ParsedArgs, config: CliConfig, readStdin: () => string = () => readFileSync(0, 'utf8')): SubmitRequest {
  const { values, maps } = args;
  const sources = [values.code !== undefined && '-code', values.codePath !== undefined && '-codePath', args.scriptFile !== undefined && 'a script file'].filter(
    Boolean,
  );
  if (sources.length === 0) throw usage("nothing to run: give -code '<code>', -codePath <file> or a script file");
  if (sources.length > 1) throw usage(`give only one of -code, -codePath and a script file, not ${sources.join(' and ')}`);
  const file = values.codePath ?? args.scriptFile;
  let code: string;
  let source: string;
  if (values.code !== undefined) {
    code = values.code;
    source = '-code';
  } else if (file === '-') {
    code = readStdin();
    source = 'stdin';
  } else {
    try {
      code = readFileSync(file as string, 'utf8');
    } catch (err) {
      throw usage(`cannot read the code file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    source = file as string;
  }
  if (code.trim() === '') throw usage(`the code from ${source} is empty`);

  const { submitUser, proxyUser } = values;
  if (proxyUser !== undefined && submitUser !== undefined && proxyUser !== submitUser) throw proxyNotSupported(proxyUser, submitUser);

  const mode = values.mode ?? 'ujes';
  if (mode !== 'ujes' && mode !== 'once') throw usage(`--mode takes ujes or once, not ${JSON.stringify(mode)}`);

  const labels: Record<string, string> = { ...maps.labels };
  for (const [k, v] of Object.entries(maps.sourceMap)) labels[`source.${k}`] = v;
  if (values.scriptPath !== undefined) labels.scriptPath = values.scriptPath;
  if (values.yarnCluster !== undefined) labels.yarnCluster = values.yarnCluster;

  const job: SubmitJob = { code, creator: config.creator ?? DEFAULT_CREATOR };
  const engineType = config.engineType ?? (file && /\.(sh|bash)$/i.test(path.basename(file)) ? 'shell' : undefined);
  if (engineType !== undefined) job.engineType = engineType;
  if (values.codeType !== undefined) job.codeType = values.codeType;
  if (values.dataSource !== undefined) job.dataSource = values.dataSource;
  if (Object.keys(maps.variables).length) job.variables = { ...maps.variables };
  if (Object.keys(labels).length) job.labels = labels;
  if (Object.keys(maps.runtimeParams).length) job.runtimeParams = { ...maps.runtimeParams };
  if (Object.keys(maps.startupParams).length) job.startupParams = { ...maps.startupParams };
  if (values.priority !== undefined) job.priority = integer('--priority', values.priority, 0, 10);
  if (values.queueTimeout !== undefined) job.queueTimeoutSeconds = integer('--queue-timeout', values.queueTimeout, 1, 7 * 86400);
  if (values.runTimeout !== undefined) job.runTimeoutSeconds = integer('--run-timeout', values.runTimeout, 1, 7 * 86400);
  if (args.flags.has('executeOnce') || mode === 'once') job.executeOnce = true;
  if (!args.async) job.clientLeaseSeconds = config.leaseSeconds;
  return { job, expectedUser: proxyUser ?? submitUser, source };
}

/** The error for a request to run a job as another user, which Sluice's API cannot do yet. */
export function proxyNotSupported(proxyUser: string, actualUser: string): CliError {
  return new CliError(
    EXIT.usage,
    `-proxyUser ${proxyUser} asks to run the job as another user than ${actualUser}. Sluice runs every job as the user its token belongs to, ` +
      `and its API cannot yet submit on behalf of another user (not even with an admin token). Use a token of ${proxyUser}, or drop -proxyUser.`,
  );
}

function integer(option: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw usage(`${option} takes a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return Number(text);
}

function usage(message: string): CliError {
  return new CliError(EXIT.usage, message);
}
