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
