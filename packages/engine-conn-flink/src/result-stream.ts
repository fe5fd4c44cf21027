import { setTimeout as sleep } from 'node:timers/promises';
import type { SqlGatewayClient } from './gateway-client.ts';
import { GatewayAbortedError } from './gateway-errors.ts';
import type { ResultPage } from './result-page.ts';

/** Waits between fetches that brought nothing: starts at `minMs`, grows by half up to `maxMs`. */
export interface PollBackoff {
  minMs: number;
  maxMs: number;
}

/** The default backoff: 50 ms growing to 1 s. */
export const DEFAULT_BACKOFF: PollBackoff = { minMs: 50, maxMs: 1000 };

/**
 * The result pages of an operation, from token 0 by following `nextResultUri` until EOS. NOT_READY
 * pages are not yielded: the stream waits (with backoff) and asks again. PAYLOAD pages are yielded
 * even when empty, so the caller sees the columns as soon as there are some; after an empty page the
 * stream waits before the next fetch. A page is fetched only when the caller asks for it, so a slow
 * consumer holds the gateway back. Aborting `signal` ends the stream with a GatewayAbortedError.
 */
export async function* resultPages(
  client: SqlGatewayClient,
  firstUri: string,
  signal: AbortSignal,
  backoff: PollBackoff = DEFAULT_BACKOFF,
): AsyncGenerator<ResultPage> {
  let uri: string | undefined = firstUri;
  let wait = backoff.minMs;
  while (uri) {
    const page = await client.fetchResults(uri, signal);
    if (page.resultType !== 'NOT_READY') yield page;
    if (page.resultType === 'EOS') return;
    uri = page.nextResultUri ?? (page.resultType === 'NOT_READY' ? uri : undefined);
    if (page.resultType === 'NOT_READY' || page.rows.length === 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        throw new GatewayAbortedError();
      }
      wait = Math.min(backoff.maxMs, Math.round(wait * 1.5));
    } else wait = backoff.minMs;
  }
}
