import type { SluiceApi } from './api.ts';
import { CliError } from './cli-error.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

/** The job a signal should cancel: known once the submission was answered. */
export interface JobHandle {
  /** The job id, once known. */
  id?: string;
  /** How messages name the job, e.g. `job 42`. */
  label?: string;
  /** The submission in flight, if the signal arrives before the server answered. */
  pending?: Promise<unknown>;
}

/** Installed signal handlers; `dispose()` removes them. */
export interface SignalGuard {
  /**
   * Set once a signal arrived: the cancellation under way, which ends by exiting the process. The
   * submit command awaits it before it returns, so the job's own outcome cannot exit first.
   */
  readonly pending: Promise<void> | undefined;
  dispose(): void;
}

// SIGHUP is left alone on purpose: by default it ends the CLI (and the client lease then cancels the
// job), while `nohup sluice …` keeps it ignored so the run survives a closed terminal.
const SIGNALS: Readonly<Record<'SIGINT' | 'SIGTERM', ExitCode>> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };
const CANCEL_TIMEOUT_MS = 10_000;

/**
 * Cancels the remote job when the CLI gets SIGINT or SIGTERM, then exits with 130 or 143.
 * A submission still in flight is awaited first (up to 10 s), so a job is never left running because
 * the signal came early. A second signal exits at once. (`kill -9` cannot be caught; the client
 * lease covers it.)
 */
export function cancelOnSignals(api: SluiceApi, job: JobHandle, note: (text: string) => void, exit: (code: ExitCode) => void): SignalGuard {
  let pending: Promise<void> | undefined;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const [signal, code] of Object.entries(SIGNALS) as [NodeJS.Signals, ExitCode][]) {
    const handler = () => {
      if (pending) {
        exit(code);
        return;
      }
      pending = cancel(signal).finally(() => exit(code));
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }

  async function cancel(signal: NodeJS.Signals): Promise<void> {
    if (!job.id && job.pending) {
      await Promise.race([job.pending.catch(() => undefined), new Promise((r) => setTimeout(r, CANCEL_TIMEOUT_MS))]);
    }
    if (!job.id) {
      note(`${signal}: no job was submitted; exiting`);
      return;
    }
    const label = job.label ?? `job ${job.id}`;
    note(`${signal}: cancelling ${label} …`);
    try {
      const after = await api.cancel(job.id, CANCEL_TIMEOUT_MS);
      note(`${label} ${after.state === 'Cancelled' ? 'is cancelled' : 'is being cancelled (the engine stops it)'}`);
    } catch (err) {
      if (err instanceof CliError && err.code === 'SLUICE_JOB_ALREADY_FINAL') note(`${label} had already ended`);
      else note(`could not cancel ${label} (${err instanceof CliError ? err.describe() : String(err)}); the server cancels it when its client lease lapses`);
    }
  }

  return {
    get pending() {
      return pending;
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
