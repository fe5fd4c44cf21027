import { randomUUID } from 'node:crypto';
import type { JobView } from '@sluice/core';
import type { SluiceApi } from './api.ts';
import type { ParsedArgs } from './argv.ts';
import { cancelOnSignals, type JobHandle } from './cancel-on-signal.ts';
import { CliError } from './cli-error.ts';
import type { CliConfig } from './config.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, note, write } from './io.ts';
import { followJob } from './job-follower.ts';
import { startLeaseRenewer } from './lease-renewer.ts';
import { taskIdLine } from './linkis-job-info.ts';
import { ProgressReporter } from './progress-reporter.ts';
import { parseFormat } from './result-format.ts';
import { writeResults } from './result-output.ts';
import { buildSubmitRequest } from './submit-request.ts';
import { parseTransport } from './transport-option.ts';

/** The exit code of a job that ended in `state`. */
export function exitCodeOf(state: JobView['state']): ExitCode {
  switch (state) {
    case 'Succeed':
      return EXIT.ok;
    case 'Cancelled':
      return EXIT.cancelled;
    case 'Timeout':
      return EXIT.timeout;
    default:
      return EXIT.failed;
  }
}

/**
 * `sluice submit` (and linkis-cli's default action). With `--async` it submits, prints the job's
 * ids (`JobId:`, `TaskId:`, `ExecId:` and a `{"taskID": "<n>", …}` line for DolphinScheduler) and
 * exits 0. Otherwise it holds a client lease, streams the log to stdout, prints or writes the result
 * sets, and exits with the job's outcome (see {@link EXIT}); SIGINT/SIGTERM cancel the job first.
 */
export async function submitCommand(args: ParsedArgs, config: CliConfig, api: SluiceApi, io: CliIo, exit: (code: ExitCode) => void): Promise<ExitCode> {
  const request = buildSubmitRequest(args, config);
  const outDir = args.values.outPath;
  const format = parseFormat(args.values.format, outDir ? 'csv' : 'table');
  const transport = parseTransport(args.values.transport);
  const idempotencyKey = randomUUID();

  if (args.async) {
    const job = await api.submit(request.job, idempotencyKey);
    await checkUser(api, job, request.expectedUser);
    note(io, `job ${job.seq} submitted (id ${job.id}, ${job.engineType}); not waiting for it (--async)`);
    await write(io.stdout, `JobId:${job.seq}\nTaskId:${job.seq}\nExecId:${job.id}\n${taskIdLine(job)}\n`);
    return EXIT.ok;
  }

  const handle: JobHandle = {};
  const guard = cancelOnSignals(api, handle, (text) => note(io, text), exit);
  try {
    const submitted = api.submit(request.job, idempotencyKey).then((job) => {
      handle.id = job.id;
      handle.label = `job ${job.seq}`;
      return job;
    });
    handle.pending = submitted;
    const job = await submitted;
    await checkUser(api, job, request.expectedUser);
    note(io, `job ${job.seq} submitted (id ${job.id}, ${job.engineType}, client lease ${config.leaseSeconds} s)`);
    const lease = startLeaseRenewer(api, job.id, config.leaseSeconds, (text) => note(io, text));
    const reporter = new ProgressReporter(io, `job ${job.seq}`);
    let final: JobView;
    try {
      final = await followJob({ api, baseUrl: config.url, token: config.token, jobId: job.id, transport, reporter });
    } finally {
      lease.stop();
      reporter.finish();
    }
    const code = exitCodeOf(final.state);
    if (code === EXIT.ok) {
      await writeResults(api, final, { format, outDir }, io);
      note(io, `job ${final.seq} succeeded`);
    } else {
      const reason = final.error ? `${final.error.code}: ${final.error.message}` : 'no reason given';
      io.stderr.write(`[sluice] job ${final.seq} ${final.state}: ${reason}\n`);
    }
    return code;
  } finally {
    // A signal's cancellation, once started, decides the exit code (130/143), not the job's end.
    if (guard.pending) await guard.pending;
    guard.dispose();
  }
}

/**
 * Sluice runs a job as its token's user. When `-proxyUser`/`-submitUser` named someone else, the job
 * is cancelled at once and the run fails: Sluice's API cannot submit on behalf of another user yet.
 */
async function checkUser(api: SluiceApi, job: JobView, expected: string | undefined): Promise<void> {
  if (expected === undefined || job.user === expected) return;
  await api.cancel(job.id).catch(() => undefined);
  throw new CliError(
    EXIT.rejected,
    `-proxyUser/-submitUser ${expected}: this token belongs to ${job.user}. Sluice runs every job as its token's user and cannot yet submit ` +
      `on behalf of another user, so job ${job.seq} was cancelled. Use a token of ${expected}, or drop the option.`,
  );
}
