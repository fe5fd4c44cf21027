import type { JobView } from '@sluice/core';
import type { SluiceApi } from './api.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, note, write } from './io.ts';
import { resolveJob } from './job-ref.ts';
import { LINKIS_STATUS, linkisJobInfo, prettyJson } from './linkis-job-info.ts';

const FINAL = new Set(['Succeed', 'Failed', 'Cancelled', 'Timeout']);

/**
 * `sluice kill <id>` and `--kill <taskID>`: cancels the job and waits (up to `waitMs`) until it has
 * stopped, like linkis-cli. Exits 0 when the job ended Cancelled, 1 when it had already ended or
 * ended otherwise, and prints the job-info JSON either way.
 */
export async function killCommand(api: SluiceApi, ref: string, io: CliIo, waitMs = 60_000): Promise<ExitCode> {
  let job = await resolveJob(api, ref);
  if (FINAL.has(job.state)) {
    io.stderr.write(`[sluice] kill aborted: job ${job.seq} has already ended (${LINKIS_STATUS[job.state]})\n`);
    await write(io.stdout, `${prettyJson(linkisJobInfo(job))}\n`);
    return EXIT.failed;
  }
  job = await api.cancel(job.id);
  note(io, `kill request sent for job ${job.seq}`);
  const deadline = Date.now() + waitMs;
  while (!FINAL.has(job.state) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    job = await api.getJob(job.id);
  }
  const done: JobView = job;
  if (done.state === 'Cancelled') note(io, `kill successful: taskID=${done.seq}, status=${LINKIS_STATUS[done.state]}`);
  else io.stderr.write(`[sluice] kill failed: job ${done.seq} is ${LINKIS_STATUS[done.state]}\n`);
  await write(io.stdout, `${prettyJson(linkisJobInfo(done))}\n`);
  return done.state === 'Cancelled' ? EXIT.ok : EXIT.failed;
}
