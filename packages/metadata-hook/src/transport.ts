import type { RunEvent } from './run-event.ts';

/** Delivers one event to a metadata service. Throwing means "not delivered; try again later". */
export interface LineageTransport {
  /** A short name for logs (`http`, `atlas`, `console`, `file`). */
  readonly kind: string;
  send(event: RunEvent): Promise<void>;
  close?(): Promise<void>;
}

/** A delivery failure, with the HTTP status when there was one. Its message never carries credentials. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * A receiver's answer, shortened for an error message (which the dispatcher logs and stores), with
 * any of the given secrets masked: a receiver may echo the request, credentials included.
 */
export function answerExcerpt(text: string, secrets: readonly (string | undefined)[], max = 200): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out.slice(0, max);
}
