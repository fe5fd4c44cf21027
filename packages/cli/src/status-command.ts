import type { SluiceApi } from './api.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type CliIo, write } from './io.ts';
import { resolveJob } from './job-ref.ts';
import { linkisJobInfo, prettyJson } from './linkis-job-info.ts';

/**
 * `sluice status <id>` and `--status <taskID>`: prints the job as linkis-cli's job-info JSON, in which
 * DolphinScheduler's Linkis task finds `"status": "SUCCEED"` (or FAILED, CANCELLED, RUNNING…). Exits 0
 * whatever the job's state; the state is in the output.
 */
export async function statusCommand(api: SluiceApi, ref: string, io: CliIo): Promise<ExitCode> {
  const job = await resolveJob(api, ref);
  await write(io.stdout, `${prettyJson(linkisJobInfo(job))}\n`);
  return EXIT.ok;
}
