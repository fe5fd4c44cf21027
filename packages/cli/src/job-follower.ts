import type { JobState, JobView, WsServerMessage } from '@sluice/core';
import WebSocket from 'ws';
import type { SluiceApi } from './api.ts';
import { CliError } from './cli-error.ts';
import { EXIT } from './exit-codes.ts';
import type { ProgressReporter } from './progress-reporter.ts';

/** How the CLI follows a job: the WebSocket API, or REST polling of the log and the job. */
export type Transport = 'ws' | 'poll';

const FINAL: ReadonlySet<JobState> = new Set(['Succeed', 'Failed', 'Cancelled', 'Timeout']);
const WS_CLOSE_AUTH = 4001;
const WS_CLOSE_SLOW_CONSUMER = 4008;

/** Options of {@link followJob}. */
export interface FollowOptions {
  api: SluiceApi;
  baseUrl: string;
  token?: string;
  jobId: string;
  /** The first log line to print (1 prints the whole log). */
  fromLine?: number;
  transport: Transport;
  reporter: ProgressReporter;
  /** Pause between polls when nothing new arrived. */
  pollMs?: number;
  /** How often the job is read over REST while the WebSocket streams (the bus is best-effort). */
  checkMs?: number;
  /** Give up (exit 4) after the server was unreachable for this long in a row. */
  maxOutageMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Prints a job's log as it is written and reports its state and progress, until the job ends; then
 * returns the final job. Every log line is printed once, in order: the follower keeps the number of
 * the next line, subscribes from it again after a dropped connection or close code 4008 (slow
 * consumer), fills any gap from `GET /jobs/{id}/log`, and reads the rest of the log over REST once
 * the job has ended. When the WebSocket cannot be opened at all it follows by REST polling instead.
 */
export async function followJob(opts: FollowOptions): Promise<JobView> {
  const follower = new JobFollower(opts);
  return follower.run();
}

class JobFollower {
  private next: number;
  private wsFailures = 0;
  private outageSince: number | undefined;

  constructor(private readonly o: FollowOptions) {
    this.next = o.fromLine ?? 1;
  }

  async run(): Promise<JobView> {
    let transport = this.o.transport;
    while (transport === 'ws') {
      const { outcome, why } = await this.followOverWs();
      if (outcome === 'final') break;
      if (outcome === 'dropped') this.o.reporter.note(`the WebSocket ${why}; resuming from log line ${this.next}`);
      this.wsFailures = outcome === 'unavailable' ? this.wsFailures + 1 : 0;
      if (this.wsFailures >= 3) {
        this.o.reporter.note('the WebSocket API cannot be reached; following the job by polling instead');
        transport = 'poll';
        break;
      }
      await sleep(Math.min(250 * 2 ** this.wsFailures, 5000));
    }
    // After the WebSocket saw the end, this only reads the rest of the log; otherwise it polls.
    return this.poll();
  }

  /** Prints lines numbered from `fromLine`, skipping any printed before. */
  private async print(fromLine: number, lines: readonly string[]): Promise<void> {
    const skip = this.next - fromLine;
    if (skip >= lines.length) return;
    await this.o.reporter.log(skip > 0 ? lines.slice(skip) : lines);
    this.next = fromLine + lines.length;
  }

  private report(job: Pick<JobView, 'state' | 'progress'>): void {
    this.o.reporter.setProgress(job.progress);
    this.o.reporter.setState(job.state);
  }

  /** Calls the API, riding out an outage up to maxOutageMs. */
  private async tolerant<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const out = await call();
        this.outageSince = undefined;
        return out;
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable) throw err;
        this.outageSince ??= Date.now();
        if (Date.now() - this.outageSince > (this.o.maxOutageMs ?? 120_000)) throw err;
        await sleep(1000);
      }
    }
  }

  private async poll(): Promise<JobView> {
    let emptyFinal = 0;
    for (;;) {
      const page = await this.tolerant(() => this.o.api.log(this.o.jobId, this.next, 1000));
      await this.print(
        page.lines[0]?.n ?? this.next,
        page.lines.map((l) => l.text),
      );
      if (page.complete) break;
      if (page.lines.length > 0) continue;
      const job = await this.tolerant(() => this.o.api.getJob(this.o.jobId));
      this.report(job);
      if (FINAL.has(job.state)) {
        if (++emptyFinal >= 3) break; // ended, and no line is coming
        continue;
      }
      await sleep(this.o.pollMs ?? 1000);
    }
    const job = await this.tolerant(() => this.o.api.getJob(this.o.jobId));
    this.report(job);
    return job;
  }

  private wsUrl(): string {
    const u = new URL(this.o.baseUrl);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v1/ws`;
    return u.toString();
  }

  /** One WebSocket connection: resolves when the job ended, the connection dropped, or never opened. */
  private followOverWs(): Promise<{ outcome: 'final' | 'dropped' | 'unavailable'; why: string }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.wsUrl(), { headers: this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}, handshakeTimeout: 10_000 });
      let opened = false;
      let settled = false;
      let chain: Promise<void> = Promise.resolve();
      let lastFrameAt = Date.now();
      const timers: NodeJS.Timeout[] = [];
      const finish = (outcome: 'final' | 'dropped' | 'unavailable' | CliError, why = '') => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearInterval(t);
        socket.removeAllListeners('message');
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
        // Let the frames already being printed finish, so `next` is exact.
        chain.then(
          () => (outcome instanceof CliError ? reject(outcome) : resolve({ outcome, why })),
          (err) => reject(err),
        );
      };
      const enqueue = (work: () => Promise<void>) => {
        chain = chain.then(work).catch((err) => finish(err instanceof CliError ? err : new CliError(EXIT.failed, String(err))));
      };

      socket.on('open', () => {
        opened = true;
        lastFrameAt = Date.now();
        socket.send(JSON.stringify({ v: 1, type: 'subscribe', reqId: 'follow', jobId: this.o.jobId, fromLine: this.next }));
        timers.push(
          setInterval(() => {
            if (Date.now() - lastFrameAt > 45_000) finish('dropped', 'went silent for 45 s');
            else if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ v: 1, type: 'ping' }));
          }, 15_000),
          setInterval(() => {
            enqueue(async () => {
              const job = await this.o.api.getJob(this.o.jobId).catch(() => undefined);
              if (job && FINAL.has(job.state)) {
                this.report(job);
                finish('final');
              }
            });
          }, this.o.checkMs ?? 5000),
        );
      });
      socket.on('message', (data) => {
        lastFrameAt = Date.now();
        const m = parseFrame(data.toString());
        if (!m) return;
        switch (m.type) {
          case 'subscribed':
            enqueue(async () => {
              this.report(m.job);
              if (FINAL.has(m.job.state)) finish('final');
            });
            break;
          case 'log':
            enqueue(async () => {
              if (m.fromLine > this.next) await this.fillGap(m.fromLine - 1);
              await this.print(m.fromLine, m.lines);
            });
            break;
          case 'status':
            enqueue(async () => {
              this.o.reporter.setState(m.state);
              if (FINAL.has(m.state)) finish('final');
            });
            break;
          case 'progress':
            enqueue(async () => this.o.reporter.setProgress(m.progress));
            break;
          case 'error':
            if (m.reqId === 'follow') finish(new CliError(EXIT.rejected, m.error.message, m.error.code, 'cannot follow the job'));
            break;
          default:
            break;
        }
      });
      socket.on('unexpected-response', (_req, res) => {
        finish(
          res.statusCode === 401 || res.statusCode === 403
            ? new CliError(EXIT.rejected, `the WebSocket API refused the token (HTTP ${res.statusCode})`, 'SLUICE_AUTH_INVALID')
            : 'unavailable',
        );
      });
      socket.on('error', (err) => finish(opened ? 'dropped' : 'unavailable', `connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})`));
      socket.on('close', (code, reason) => {
        if (code === WS_CLOSE_AUTH) finish(new CliError(EXIT.rejected, 'the WebSocket API refused the token', reason.toString() || 'SLUICE_AUTH_INVALID'));
        else if (!opened) finish('unavailable');
        else finish('dropped', code === WS_CLOSE_SLOW_CONSUMER ? 'was closed by the server (4008: the CLI read too slowly)' : `was closed (${code})`);
      });
    });
  }

  /** Reads lines `next..toLine` over REST (a gap in the stream). */
  private async fillGap(toLine: number): Promise<void> {
    while (this.next <= toLine) {
      const page = await this.o.api.log(this.o.jobId, this.next, Math.min(1000, toLine - this.next + 1));
      if (page.lines.length === 0) return;
      await this.print(
        page.lines[0]?.n ?? this.next,
        page.lines.map((l) => l.text),
      );
    }
  }
}

function parseFrame(text: string): WsServerMessage | undefined {
  try {
    return JSON.parse(text) as WsServerMessage;
  } catch {
    return undefined;
  }
}
