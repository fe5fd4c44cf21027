import type { SluiceApi } from './api.ts';
import { CliError } from './cli-error.ts';

/** A running lease renewal; `stop()` ends it. */
export interface LeaseRenewer {
  stop(): void;
}

/**
 * Renews the client lease of a synchronous job every third of its length (`POST /jobs/{id}/lease`).
 * While renewals arrive the server lets the job run; when they stop (the CLI was killed with -9, say)
 * the server cancels the job once the lease lapses. A failed renewal is reported once per failure
 * streak and retried on the next tick, so a short network blip does not cost the job.
 */
export function startLeaseRenewer(api: SluiceApi, jobId: string, leaseSeconds: number, warn: (text: string) => void): LeaseRenewer {
  const everyMs = Math.max(1000, Math.floor((leaseSeconds * 1000) / 3));
  let failing = false;
  let stopped = false;
  let inFlight = false;
  const timer = setInterval(async () => {
    if (inFlight || stopped) return;
    inFlight = true;
    try {
      const out = await api.renewLease(jobId, everyMs);
      if (failing) warn('the client lease is renewed again');
      failing = false;
      if (out.leaseUntil === null) stop(); // the job has ended: nothing left to hold
    } catch (err) {
      if (!failing && !stopped)
        warn(
          `cannot renew the client lease (the server cancels the job if this lasts ${leaseSeconds} s): ${err instanceof CliError ? err.describe() : (err as Error).message}`,
        );
      failing = true;
    } finally {
      inFlight = false;
    }
  }, everyMs);
  function stop(): void {
    stopped = true;
    clearInterval(timer);
  }
  return { stop };
}
