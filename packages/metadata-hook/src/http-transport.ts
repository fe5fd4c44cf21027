import type { RunEvent } from './run-event.ts';
import { answerExcerpt, type LineageTransport, TransportError } from './transport.ts';

/** The OpenLineage HTTP transport's settings (as the OpenLineage clients name them). */
export interface HttpTransportOptions {
  /** Base URL of the receiver, e.g. `http://marquez:5000`. */
  url: string;
  /** Path of the lineage endpoint; `/api/v1/lineage` (Marquez) by default. DataHub uses `/api/v2/lineage`. */
  endpoint?: string;
  /** Bearer token (`Authorization: Bearer …`). Never logged, never put in an error message. */
  apiKey?: string;
  /** Request timeout; 5 s by default. */
  timeoutMs?: number;
  /** Extra headers. */
  headers?: Readonly<Record<string, string>>;
}

/** POSTs each event as JSON to an OpenLineage API (Marquez, DataHub, OpenMetadata, Atlan…). Any 2xx is delivered. */
export class HttpTransport implements LineageTransport {
  readonly kind = 'http';
  private readonly target: string;

  constructor(private readonly opts: HttpTransportOptions) {
    this.target = new URL(opts.endpoint ?? '/api/v1/lineage', opts.url.endsWith('/') ? opts.url : `${opts.url}/`).toString();
  }

  async send(event: RunEvent): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(this.opts.headers ?? {}) };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let res: Response;
    try {
      res = await fetch(this.target, { method: 'POST', headers, body: JSON.stringify(event), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new TransportError(`POST ${this.target} failed: ${cause}`);
    }
    // Drain the body so the connection is reused.
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new TransportError(`POST ${this.target} answered ${res.status}: ${answerExcerpt(text, [this.opts.apiKey])}`, res.status);
  }
}
