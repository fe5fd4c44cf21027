import { createSluiceClient, type SluiceClient } from '@sluice/client';
import type { JobView, LogLine, ResultSetView, SubmitJob } from '@sluice/core';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import type { KeyUsage } from './keys-command.ts';

/** A page of a job's log. */
export interface LogPage {
  jobId: string;
  lines: LogLine[];
  nextFrom: number;
  complete: boolean;
}

/** The server's error body. */
interface ErrorBody {
  code?: string;
  message?: string;
}

const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_DELAYS_MS = [250, 1000, 2000];

/**
 * The REST calls the CLI makes, on the typed client of `@sluice/client`. A server error becomes a
 * {@link CliError} with the server's code and message (exit 3); a server that cannot be reached
 * becomes exit 4. Reads, and submissions that carry an Idempotency-Key, are retried on network errors.
 */
export class SluiceApi {
  readonly client: SluiceClient;

  constructor(
    readonly baseUrl: string,
    token: string | undefined,
  ) {
    this.client = createSluiceClient({ baseUrl, token: token ?? '' });
  }

  /** Submits a job. The key makes a retried request return the job created before. */
  submit(job: SubmitJob, idempotencyKey: string): Promise<JobView> {
    return this.call('submit the job', true, (signal) =>
      this.client.POST('/api/v1/jobs', { body: job, headers: { 'Idempotency-Key': idempotencyKey }, signal }),
    ) as Promise<JobView>;
  }

  /** Reads a job by its id (a ULID). */
  getJob(id: string): Promise<JobView> {
    return this.call('read the job', true, (signal) => this.client.GET('/api/v1/jobs/{id}', { params: { path: { id } }, signal })) as Promise<JobView>;
  }

  /** The newest job this token may see whose numeric seq is at most `maxSeq`. */
  async newestJobUpTo(maxSeq: bigint): Promise<JobView | undefined> {
    const page = await this.call('look up the job', true, (signal) =>
      this.client.GET('/api/v1/jobs', { params: { query: { cursor: String(maxSeq + 1n), limit: 1 } }, signal }),
    );
    return (page as { items: JobView[] }).items[0];
  }

  /** Reads log lines from line `from`. */
  log(id: string, from: number, limit = 1000): Promise<LogPage> {
    return this.call('read the log', true, (signal) =>
      this.client.GET('/api/v1/jobs/{id}/log', { params: { path: { id }, query: { from, limit } }, signal }),
    ) as Promise<LogPage>;
  }

  /** Lists a job's result sets. */
  async resultSets(id: string): Promise<ResultSetView[]> {
    const out = await this.call('list the result sets', true, (signal) => this.client.GET('/api/v1/jobs/{id}/results', { params: { path: { id } }, signal }));
    return (out as { items: ResultSetView[] }).items;
  }

  /** Reads a page of rows of result set `n`. */
  async rows(id: string, n: number, offset: number, limit: number): Promise<unknown[][]> {
    const out = await this.call('read the result rows', true, (signal) =>
      this.client.GET('/api/v1/jobs/{id}/results/{n}', { params: { path: { id, n }, query: { offset, limit } }, signal }),
    );
    return (out as { rows: unknown[][] }).rows;
  }

  /** Asks the server to cancel a job. */
  cancel(id: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<JobView> {
    return this.call(
      'cancel the job',
      true,
      (signal) => this.client.POST('/api/v1/jobs/{id}/cancel', { params: { path: { id } }, signal }),
      timeoutMs,
    ) as Promise<JobView>;
  }

  /** Renews the client lease of a job; `leaseUntil` is null once the job has ended. */
  renewLease(id: string, timeoutMs: number): Promise<{ jobId: string; leaseUntil: string | null }> {
    return this.call(
      'renew the client lease',
      false,
      (signal) => this.client.POST('/api/v1/jobs/{id}/lease', { params: { path: { id } }, signal }),
      timeoutMs,
    ) as Promise<{
      jobId: string;
      leaseUntil: string | null;
    }>;
  }

  /** Admins: which master key ids wrap how many data-source records. */
  keyStatus(): Promise<{ activeKeyId: string; keys: KeyUsage[] }> {
    return this.call('read the master-key status', true, (signal) => this.client.GET('/api/v1/admin/keys', { signal })) as Promise<{
      activeKeyId: string;
      keys: KeyUsage[];
    }>;
  }

  /** Admins: re-wraps every data key under the active master key. Safe to repeat, so it is retried. */
  rotateKeys(): Promise<{ activeKeyId: string; rewrapped: number; notConfigured: number; before: KeyUsage[]; after: KeyUsage[] }> {
    return this.call('rotate the master key', true, (signal) => this.client.POST('/api/v1/admin/keys/rotate', { signal }), 600_000) as Promise<{
      activeKeyId: string;
      rewrapped: number;
      notConfigured: number;
      before: KeyUsage[];
      after: KeyUsage[];
    }>;
  }

  private async call(
    what: string,
    retry: boolean,
    send: (signal: AbortSignal) => Promise<{ data?: unknown; error?: unknown; response: Response }>,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      let out: { data?: unknown; error?: unknown; response: Response };
      try {
        out = await send(AbortSignal.timeout(timeoutMs));
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (retry && delay !== undefined) {
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        throw new CliError(EXIT.unreachable, `cannot ${what}: Sluice at ${this.baseUrl} is unreachable (${describeNetworkError(err)})`);
      }
      if (out.response.ok) return out.data;
      if (out.response.status >= 502 && out.response.status <= 504 && retry && RETRY_DELAYS_MS[attempt] !== undefined) {
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
        continue;
      }
      const body = (out.error ?? {}) as ErrorBody;
      if (typeof body.code === 'string' && typeof body.message === 'string') throw new CliError(EXIT.rejected, body.message, body.code, `cannot ${what}`);
      throw new CliError(EXIT.unreachable, `cannot ${what}: ${this.baseUrl} answered HTTP ${out.response.status}, not a Sluice API response`);
    }
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
