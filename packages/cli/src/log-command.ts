import type { SluiceApi } from './api.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, write } from './io.ts';
import { followJob, type Transport } from './job-follower.ts';
import { resolveJob } from './job-ref.ts';
import { ProgressReporter } from './progress-reporter.ts';

/**
 * `sluice log <id>` and `--log <taskID>`: prints the job's log written so far. With `--follow` it keeps
 * printing until the job ends (over the WebSocket API, or by polling).
 */
export async function logCommand(
  api: SluiceApi,
  ref: string,
  io: CliIo,
  opts: { follow: boolean; transport: Transport; baseUrl: string; token?: string },
): Promise<ExitCode> {
  const job = await resolveJob(api, ref);
  if (opts.follow) {
    const reporter = new ProgressReporter(io, `job ${job.seq}`);
    try {
      await followJob({ api, baseUrl: opts.baseUrl, token: opts.token, jobId: job.id, transport: opts.transport, reporter });
    } finally {
      reporter.finish();
    }
    return EXIT.ok;
  }
  for (let from = 1; ; ) {
    const page = await api.log(job.id, from, 5000);
    if (page.lines.length === 0) break;
    await write(io.stdout, `${page.lines.map((l) => l.text).join('\n')}\n`);
    from = page.nextFrom;
  }
  return EXIT.ok;
}
