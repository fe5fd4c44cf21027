import {
  asJobEvent,
  type EventBus,
  isFinalState,
  type JobEvent,
  type Principal,
  SluiceError,
  topics,
  toSluiceError,
  WS_CLOSE_PROTOCOL_ERROR,
  WS_CLOSE_SLOW_CONSUMER,
  WS_PROTOCOL_VERSION,
  WsClientMessageSchema,
  type WsServerMessage,
} from '@sluice/core';
import type { EntranceApi } from '@sluice/entrance';
import type { WebSocket } from 'ws';

const MAX_INVALID_FRAMES = 20;
const BACKLOG_PAGE = 2000;

interface Subscription {
  jobId: string;
  /** The next log line this client has not received yet. */
  next: number;
  /** The client asked for live result rows. */
  rows: boolean;
  /** Events are handled strictly in order, one at a time. */
  chain: Promise<void>;
  unsubscribe: () => Promise<void>;
  closed: boolean;
}

/**
 * One WebSocket connection of `/api/v1/ws`: typed, versioned frames in; status, progress, log and
 * result frames out.
 *
 * Log delivery is exactly-once per subscription: the bus subscription starts before the backlog is
 * read, every line carries its number, lines below `next` are dropped and gaps are filled from the
 * store. A client that reconnects and subscribes from its last line + 1 misses nothing.
 */
export class WsSession {
  private readonly subs = new Map<string, Subscription>();
  private invalid = 0;
  private closed = false;
  private corked = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly principal: Principal,
    private readonly entrance: EntranceApi,
    private readonly bus: EventBus,
    private readonly maxBufferBytes: number,
  ) {
    socket.on('message', (data, isBinary) => void this.onFrame(isBinary ? null : data.toString()));
    socket.on('close', () => void this.dispose());
    socket.on('error', () => void this.dispose());
  }

  private send(msg: WsServerMessage): void {
    if (this.closed) return;
    // Bounded buffering: a client that does not read cannot make the gateway hold unbounded data.
    if (this.socket.bufferedAmount > this.maxBufferBytes) {
      this.socket.close(WS_CLOSE_SLOW_CONSUMER, 'slow consumer: reconnect and subscribe from your last line');
      void this.dispose();
      return;
    }
    this.cork();
    this.socket.send(JSON.stringify(msg));
  }

  /** Frames sent in the same tick (a job's last log, result and status) leave in one write. */
  private cork(): void {
    if (this.corked) return;
    const raw = (this.socket as unknown as { _socket?: { cork?(): void; uncork?(): void } })._socket;
    if (!raw?.cork || !raw.uncork) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork?.();
    });
  }

  private sendError(err: unknown, reqId?: string, jobId?: string): void {
    const e = toSluiceError(err);
    this.send({ v: WS_PROTOCOL_VERSION, type: 'error', reqId, jobId, error: e.toBody() });
  }

  private async onFrame(text: string | null): Promise<void> {
    let json: unknown;
    try {
      json = text === null ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = WsClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.invalid++;
      const summary =
        json === undefined ? 'frames must be JSON text' : parsed.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ');
      const reqId = typeof (json as { reqId?: unknown })?.reqId === 'string' ? (json as { reqId: string }).reqId : undefined;
      this.sendError(new SluiceError('SLUICE_WS_MESSAGE_INVALID', { summary }), reqId);
      if (this.invalid >= MAX_INVALID_FRAMES) this.socket.close(WS_CLOSE_PROTOCOL_ERROR, 'too many invalid frames');
      return;
    }
    const m = parsed.data;
    try {
      switch (m.type) {
        case 'ping':
          this.send({ v: WS_PROTOCOL_VERSION, type: 'pong', reqId: m.reqId });
          break;
        case 'submit': {
          const { job } = await this.entrance.submit(this.principal, m.job, m.idempotencyKey);
          this.send({ v: WS_PROTOCOL_VERSION, type: 'submitted', reqId: m.reqId, job });
          if (m.subscribe !== false) await this.subscribe(job.id, 1, m.reqId, m.rows === true);
          break;
        }
        case 'subscribe':
          await this.subscribe(m.jobId, m.fromLine ?? 1, m.reqId, m.rows === true);
          break;
        case 'unsubscribe':
          await this.unsubscribe(m.jobId);
          this.send({ v: WS_PROTOCOL_VERSION, type: 'unsubscribed', reqId: m.reqId, jobId: m.jobId });
          break;
        case 'cancel': {
          const job = await this.entrance.cancel(this.principal, m.jobId);
          this.send({ v: WS_PROTOCOL_VERSION, type: 'cancelled', reqId: m.reqId, job });
          break;
        }
      }
    } catch (err) {
      this.sendError(err, m.reqId, 'jobId' in m ? m.jobId : undefined);
    }
  }

  private async subscribe(ref: string, fromLine: number, reqId?: string, rows = false): Promise<void> {
    // A job id can be subscribed before the row is read; a numeric taskID must be resolved first.
    const jobId = /^[0-9A-Z]{26}$/.test(ref) ? ref : (await this.entrance.get(this.principal, ref)).id;
    await this.unsubscribe(jobId);
    const sub: Subscription = { jobId, next: fromLine, rows, chain: Promise.resolve(), unsubscribe: async () => {}, closed: false };
    this.subs.set(jobId, sub);
    // Subscribe first, then read the job and the backlog: events that arrive meanwhile queue on the chain.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    sub.chain = gate;
    sub.unsubscribe = await this.bus.subscribe(topics.job(jobId), (raw) => {
      const ev = asJobEvent(raw);
      if (!ev || sub.closed) return;
      sub.chain = sub.chain.then(() => this.deliver(sub, ev)).catch(() => {});
    });
    try {
      const job = await this.entrance.get(this.principal, jobId).catch(async (err) => {
        await this.unsubscribe(jobId);
        throw err;
      });
      this.send({ v: WS_PROTOCOL_VERSION, type: 'subscribed', reqId, jobId, job });
      // Nothing stored yet beyond what the client has: skip the read.
      if (job.logLines >= sub.next) await this.catchUp(sub, job.logLines);
      // A finished job sends nothing more once its log is caught up.
      if (isFinalState(job.state) && sub.next > job.logLines) await this.unsubscribe(jobId);
    } finally {
      release();
    }
  }

  /** Sends stored lines from `sub.next` up to `toLine`. */
  private async catchUp(sub: Subscription, toLine: number): Promise<void> {
    while (!sub.closed && sub.next <= toLine) {
      const page = await this.entrance.log(this.principal, sub.jobId, sub.next, Math.min(BACKLOG_PAGE, toLine - sub.next + 1));
      if (page.lines.length === 0) return;
      this.send({ v: WS_PROTOCOL_VERSION, type: 'log', jobId: sub.jobId, fromLine: sub.next, lines: page.lines.map((l) => l.text) });
      sub.next = page.nextFrom;
    }
  }

  private async deliver(sub: Subscription, ev: JobEvent): Promise<void> {
    if (sub.closed) return;
    if (ev.type === 'rows' && !sub.rows) return;
    if (ev.type !== 'log') {
      this.send(ev);
      // Every log line is published before the final status, so the subscription is complete.
      if (ev.type === 'status' && isFinalState(ev.state)) await this.unsubscribe(sub.jobId);
      return;
    }
    if (ev.toLine < sub.next) return; // already delivered
    if (ev.fromLine > sub.next || !ev.lines) {
      await this.catchUp(sub, ev.toLine); // a gap, or a batch too big for the bus
      return;
    }
    const lines = ev.lines.slice(sub.next - ev.fromLine);
    this.send({ v: WS_PROTOCOL_VERSION, type: 'log', jobId: sub.jobId, fromLine: sub.next, lines });
    sub.next = ev.toLine + 1;
  }

  private async unsubscribe(jobId: string): Promise<void> {
    const sub = this.subs.get(jobId);
    if (!sub) return;
    sub.closed = true;
    this.subs.delete(jobId);
    await sub.unsubscribe().catch(() => {});
  }

  private async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs.keys()].map((id) => this.unsubscribe(id)));
  }
}
