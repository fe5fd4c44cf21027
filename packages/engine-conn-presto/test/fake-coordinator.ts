import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Raw header lines as [name (lower case), value], repeated headers kept apart. */
  headers: [string, string][];
  body: string;
}

/** What the fake answers one request with; `destroy` drops the connection without an answer. */
export type FakeReply = { status: number; headers?: [string, string][]; body?: string } | { destroy: true };

/**
 * A FAKE coordinator for unit tests of the client: it answers each request with the next scripted
 * reply, so tests can inject what a real Trino never sends on cue (a proxy's 502/503/504, a dropped
 * connection) and count exactly what the client sent. The protocol behaviour itself is tested
 * against the real server in test/*.test.ts.
 */
export class FakeCoordinator {
  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;
  private readonly script: ((req: RecordedRequest) => FakeReply)[] = [];
  url = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([String(req.rawHeaders[i]).toLowerCase(), String(req.rawHeaders[i + 1])]);
        const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(recorded);
        const next = this.script.shift();
        const reply: FakeReply = next ? next(recorded) : { status: 500, body: 'the fake has no scripted reply left' };
        if ('destroy' in reply) {
          req.socket.destroy();
          return;
        }
        for (const [name, value] of reply.headers ?? []) res.appendHeader(name, value);
        res.statusCode = reply.status;
        res.end(reply.body ?? '');
      });
    });
  }

  /** Listens on 127.0.0.1 at a free port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Queues replies, answered in order. */
  reply(...replies: (FakeReply | ((req: RecordedRequest) => FakeReply))[]): this {
    for (const r of replies) this.script.push(typeof r === 'function' ? r : () => r);
    return this;
  }

  /** A QueryResults JSON body of query `id` with `next` as nextUri (null: the last page). */
  page(id: string, next: string | null, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
      id,
      infoUri: `${this.url}/ui/query.html?${id}`,
      ...(next ? { nextUri: `${this.url}${next}` } : {}),
      stats: { state: next ? 'RUNNING' : 'FINISHED', queued: false, scheduled: true, totalSplits: 4, completedSplits: next ? 2 : 4 },
      ...extra,
    });
  }

  /** Values of a header across the requests, e.g. every `x-trino-user` sent. */
  headerValues(req: RecordedRequest, name: string): string[] {
    return req.headers.filter(([n]) => n === name).map(([, v]) => v);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
