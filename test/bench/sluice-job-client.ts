import { Agent, request as httpRequest } from 'node:http';
import WebSocket from 'ws';

/** Timings of one Sluice job as a client sees it, in milliseconds from just before the POST. */
export interface SluiceJobSample {
  /** POST /api/v1/jobs returned (the job is persisted and enqueued). */
  ackMs: number;
  /** A final status was seen on the WebSocket. */
  finalMs: number;
  /** GET /api/v1/jobs/:id/results/0 returned the row: the submit→result latency. */
  totalMs: number;
  /** True when the `subscribed` frame already carried the final state (the job beat the subscribe). */
  finalInSubscribed: boolean;
  /** WebSocket frames received for the job up to its final status. */
  frames: number;
}

const FINAL = new Set(['Succeed', 'Failed', 'Cancelled', 'Timeout']);
const JOB_TIMEOUT_MS = 30_000;

interface Waiter {
  frames: number;
  resolve: (v: { state: string; inSubscribed: boolean; error: unknown; frames: number }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type Frame = { type: string; jobId?: string; state?: string; job?: { state: string; error: unknown }; error?: unknown };

/**
 * One benchmark client of the Sluice gateway: real HTTP for submit and results, and ONE long-lived
 * WebSocket on which it subscribes to each job right after the submit.
 *
 * HTTP goes through `node:http` with a keep-alive agent, as a service calling Sluice would
 * do it. Node's `fetch` costs 0.3–0.5 ms more per request on these machines (WHATWG streams, Response
 * objects), which the figures would otherwise charge to Sluice.
 */
export class SluiceJobClient {
  private readonly waiters = new Map<string, Waiter>();
  // Sockets are reused, and a request that finds them all busy opens another: in the open loop, one slow
  // request must not hold up the client's next ones.
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly socket: WebSocket,
  ) {
    socket.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as Frame));
    socket.on('close', () => this.failAll(new Error('the WebSocket closed')));
  }

  /** Opens the client's WebSocket. */
  static async connect(baseUrl: string, token: string): Promise<SluiceJobClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new SluiceJobClient(baseUrl, token, socket);
  }

  private onFrame(f: Frame): void {
    const w = f.jobId ? this.waiters.get(f.jobId) : undefined;
    if (!w || !f.jobId) return;
    w.frames++;
    if (f.type === 'subscribed' && f.job && FINAL.has(f.job.state)) this.settle(f.jobId, w, { state: f.job.state, inSubscribed: true, error: f.job.error });
    else if (f.type === 'status' && f.state && FINAL.has(f.state)) this.settle(f.jobId, w, { state: f.state, inSubscribed: false, error: f.error });
    else if (f.type === 'error') {
      this.waiters.delete(f.jobId);
      clearTimeout(w.timer);
      w.reject(new Error(`WebSocket error for job ${f.jobId}: ${JSON.stringify(f.error)}`));
    }
  }

  private settle(jobId: string, w: Waiter, v: { state: string; inSubscribed: boolean; error: unknown }): void {
    this.waiters.delete(jobId);
    clearTimeout(w.timer);
    w.resolve({ ...v, frames: w.frames });
  }

  private failAll(e: Error): void {
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(e);
      this.waiters.delete(id);
    }
  }

  private request(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${this.baseUrl}${path}`, { method, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> });
          } catch (err) {
            reject(new Error(`${method} ${path}: HTTP ${res.statusCode}, not JSON: ${(err as Error).message}`));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Runs one job in one request: POST it with `?wait=`, so the response comes when the job has ended,
   * with the first rows of its result sets inline. Throws when it fails or the rows are not `expectedRows`.
   */
  async runJobWaiting(code: string, expectedRows: unknown[][], creator: string): Promise<SluiceJobSample> {
    const t0 = performance.now();
    const out = await this.request('POST', `/api/v1/jobs?wait=${JOB_TIMEOUT_MS / 1000}`, { code, creator });
    const totalMs = performance.now() - t0;
    if (out.status !== 201) throw new Error(`submit: HTTP ${out.status} ${JSON.stringify(out.json)}`);
    if (out.json.state !== 'Succeed') throw new Error(`job ${String(out.json.id)} ended ${String(out.json.state)}: ${JSON.stringify(out.json.error)}`);
    const first = (out.json.results as { rows?: unknown }[] | undefined)?.[0];
    if (JSON.stringify(first?.rows) !== JSON.stringify(expectedRows)) throw new Error(`job ${String(out.json.id)}: rows ${JSON.stringify(first?.rows)}`);
    return { ackMs: totalMs, finalMs: totalMs, totalMs, finalInSubscribed: false, frames: 0 };
  }

  /**
   * Runs one job: POST it, subscribe on the WebSocket, wait for its final status, read result set 0.
   * Throws when any step fails or the row is not `expectedRows`.
   */
  async runJob(code: string, expectedRows: unknown[][], creator: string): Promise<SluiceJobSample> {
    const t0 = performance.now();
    const submitted = await this.request('POST', '/api/v1/jobs', { code, creator });
    const ackMs = performance.now() - t0;
    const jobId = submitted.json.id;
    if (submitted.status !== 201 || typeof jobId !== 'string') throw new Error(`submit: HTTP ${submitted.status} ${JSON.stringify(submitted.json)}`);
    const final = new Promise<{ state: string; inSubscribed: boolean; error: unknown; frames: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new Error(`job ${jobId}: no final status within ${JOB_TIMEOUT_MS} ms`));
      }, JOB_TIMEOUT_MS);
      this.waiters.set(jobId, { frames: 0, resolve, reject, timer });
    });
    this.socket.send(JSON.stringify({ v: 1, type: 'subscribe', jobId }));
    const end = await final;
    const finalMs = performance.now() - t0;
    // A well-behaved client drops the subscription of a finished job; the reply is not waited for.
    this.socket.send(JSON.stringify({ v: 1, type: 'unsubscribe', jobId }));
    if (end.state !== 'Succeed') throw new Error(`job ${jobId} ended ${end.state}: ${JSON.stringify(end.error)}`);
    const rows = await this.request('GET', `/api/v1/jobs/${jobId}/results/0`);
    const totalMs = performance.now() - t0;
    if (rows.status !== 200) throw new Error(`results: HTTP ${rows.status} ${JSON.stringify(rows.json)}`);
    if (JSON.stringify(rows.json.rows) !== JSON.stringify(expectedRows)) throw new Error(`job ${jobId}: rows ${JSON.stringify(rows.json.rows)}`);
    return { ackMs, finalMs, totalMs, finalInSubscribed: end.inSubscribed, frames: end.frames };
  }

  /** Closes the WebSocket. */
  close(): void {
    this.failAll(new Error('the client closed'));
    this.socket.close();
    this.agent.destroy();
  }
}
