import type { SluiceApi } from './api.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, note } from './io.ts';
import { resolveJob } from './job-ref.ts';
import type { ResultFormat } from './result-format.ts';
import { writeResults } from './result-output.ts';

/**
 * `sluice result <id>` and `--result <taskID>`: prints the job's result sets (or writes them to
 * `-outPath`). A job that has not ended shows the result sets it has so far.
 */
export async function resultCommand(api: SluiceApi, ref: string, io: CliIo, target: { format: ResultFormat; outDir?: string }): Promise<ExitCode> {
  const job = await resolveJob(api, ref);
  if (!['Succeed', 'Failed', 'Cancelled', 'Timeout'].includes(job.state)) note(io, `job ${job.seq} is still ${job.state}; these are its result sets so far`);
  await writeResults(api, job, target, io);
  return EXIT.ok;
}
