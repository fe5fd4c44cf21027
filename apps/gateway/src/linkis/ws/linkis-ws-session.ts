import { isFinalState, type JobEvent, JobEventSchema, type JobState, type JobView, type Principal, topics, WS_CLOSE_SLOW_CONSUMER } from '@sluice/core';
import type { WebSocket } from 'ws';
import type { LinkisContext } from '../context.ts';
import { LINKIS_REST_PREFIX, type LinkisMessage } from '../envelope.ts';
import { linkisErrorMessage } from '../error-envelope.ts';
import { legacyExecIdOf } from '../exec-id.ts';
import { completionLine, toLinkisLog } from '../log-format.ts';
import { MAX_LOG_PAGE, readLinkisLog } from '../routes/entrance-routes.ts';
import { translateSubmit } from '../submit-translation.ts';
import { idParts, linkisProgress } from '../task-view.ts';

const BACKLOG_PAGE = 2000;
const MAX_INVALID_FRAMES = 20;

/** Messages of the pushes and replies, as the Linkis entrance words them. */
export const WS_MESSAGES = {
  execute: 'Request execution succeeded(请求执行成功)',
  log: 'Return log information(返回日志信息)',
  progress: 'return the schedule information (返回进度信息!)',
  status: 'Get the status of the task successfully(获取任务状态成功)',
  kill: 'Kill task succeeded(kill任务成功)',
  pause: 'Temporarily does not support the task pause(暂时不支持任务暂停)',
  empty: 'Empty message!',
} as const;

/** A job this socket follows: pushes carry its execID, taskID and the tag of the execute frame. */
interface Subscription {
  jobId: string;
  execID: string;
  taskID: number;
  tag: unknown;
  /** The next Sluice log line this client has not received. */
  next: number;
  chain: Promise<void>;
  unsubscribe: () => Promise<void>;
  closed: boolean;
}

/**
 * One connection of the Linkis WebSocket `/ws/api/entrance/connect`. Frames in are
 * `{method, data, websocketTag}` with Linkis methods (`/api/rest_j/v1/entrance/execute`,
 * `…/entrance/{id}/log|status|progress|kill|pause`); replies and pushes out are Linkis envelopes whose
 * `method` is the full path. After `execute` the socket follows the job over the Sluice bus: log,
 * progress and status pushes, the log in order and without gaps (the bus subscription starts before
 * the backlog is read, and gaps are filled from the store).
 */
export class LinkisWsSession {
  private readonly subs = new Map<string, Subscription>();
  private closed = false;
  private invalid = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly principal: Principal,
    private readonly ctx: LinkisContext,
    private readonly instance: string,
  ) {
    socket.on('message', (data, isBinary) => void this.onFrame(isBinary ? '' : data.toString()));
    socket.on('close', () => void this.dispose());
    socket.on('error', () => void this.dispose());
  }

  private send(msg: LinkisMessage): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.ctx.deps.config.SLUICE_WS_MAX_BUFFER_BYTES) {
      this.socket.close(WS_CLOSE_SLOW_CONSUMER, 'slow consumer');
      void this.dispose();
      return;
    }
    this.socket.send(JSON.stringify(msg));
  }

  private error(method: string | null, err: unknown, tag: unknown): void {
    const msg = linkisErrorMessage(method, err);
    msg.data.websocketTag = tag;
    this.send(msg);
  }

  private async onFrame(text: string): Promise<void> {
    let frame: { method?: unknown; data?: unknown; websocketTag?: unknown } | undefined;
    try {
      frame = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      frame = undefined;
    }
    if (!frame || typeof frame !== 'object' || typeof frame.method !== 'string') {
      this.invalid++;
      this.send({ method: null, status: 1, message: WS_MESSAGES.empty, data: {} });
      if (this.invalid >= MAX_INVALID_FRAMES) this.socket.close(4002, 'too many invalid frames');
      return;
    }
    const tag = frame.websocketTag ?? null;
    const full = frame.method.startsWith(LINKIS_REST_PREFIX) ? frame.method : frame.method.replace(/^\/api\//, `${LINKIS_REST_PREFIX}/`);
    const path = full.slice(LINKIS_REST_PREFIX.length).replace(/^\/+/, '');
    const data = (typeof frame.data === 'object' && frame.data !== null ? frame.data : {}) as Record<string, unknown>;
    try {
      if (path === 'entrance/execute' || path === 'entrance/submit') return await this.execute(full, data, tag);
      const m = /^entrance\/([^/]+)\/(log|status|progress|kill|pause)$/.exec(path);
      if (!m) {
        this.send({
          method: full,
          status: 1,
          message: `Unresolvable webSocket request, URI is(无法解析的webSocket请求，URI为：${frame.method}`,
          data: { websocketTag: tag },
        });
        return;
      }
      await this.jobCall(full, m[1] as string, m[2] as string, data, tag);
    } catch (err) {
      this.error(full, err, tag);
    }
  }

  private async execute(method: string, data: Record<string, unknown>, tag: unknown): Promise<void> {
    const { job: body } = translateSubmit(data, this.principal, this.ctx.engines);
    const { job } = await this.ctx.deps.entrance.submit(this.principal, body);
    const execID = legacyExecIdOf(idParts(job), this.instance);
    this.send({ method, status: 0, message: WS_MESSAGES.execute, data: { execID, taskID: Number(job.seq), websocketTag: tag } });
    await this.follow(job, execID, tag);
  }

  private async jobCall(method: string, id: string, op: string, data: Record<string, unknown>, tag: unknown): Promise<void> {
    const job = await this.ctx.job(this.principal, id);
    const base = { execID: id, taskID: Number(job.seq), websocketTag: tag };
    switch (op) {
      case 'status':
        this.send({ method, status: 0, message: WS_MESSAGES.status, data: { ...base, status: job.state } });
        return;
      case 'progress':
        this.send({ method, status: 0, message: WS_MESSAGES.progress, data: { ...base, progress: linkisProgress(job), progressInfo: [] } });
        return;
      case 'log': {
        const size = Number(data.size ?? 100);
        const page = await readLinkisLog(this.ctx, this.principal, job.id, Number(data.fromLine ?? 0) || 0, size < 0 ? MAX_LOG_PAGE : size || 100);
        this.send({ method, status: 0, message: WS_MESSAGES.log, data: { ...base, log: toLinkisLog(page.lines), fromLine: page.fromLine } });
        return;
      }
      case 'kill':
        await this.ctx.deps.entrance.cancel(this.principal, job.id);
        this.send({ method, status: 0, message: WS_MESSAGES.kill, data: base });
        return;
      default:
        this.send({ method, status: 1, message: WS_MESSAGES.pause, data: base });
    }
  }

  private push(sub: Subscription, kind: 'log' | 'progress' | 'status', data: Record<string, unknown>): void {
    this.send({
      method: `${LINKIS_REST_PREFIX}/entrance/${sub.execID}/${kind}`,
      status: 0,
      message: WS_MESSAGES[kind],
      data: { execID: sub.execID, taskID: sub.taskID, websocketTag: sub.tag, ...data },
    });
  }

  private pushLog(sub: Subscription, lines: string[]): void {
    if (lines.length) this.push(sub, 'log', { log: toLinkisLog(lines), fromLine: sub.next - 1 });
  }

  /** Follows a job: subscribe first, then send the backlog; bus events queue behind it. */
  private async follow(job: JobView, execID: string, tag: unknown): Promise<void> {
    await this.stop(job.id);
    const sub: Subscription = {
      jobId: job.id,
      execID,
      taskID: Number(job.seq),
      tag,
      next: 1,
      chain: Promise.resolve(),
      unsubscribe: async () => {},
      closed: false,
    };
    this.subs.set(job.id, sub);
    let release!: () => void;
    sub.chain = new Promise<void>((r) => {
      release = r;
    });
    sub.unsubscribe = await this.ctx.deps.bus.subscribe(topics.job(job.id), (raw) => {
      const ev = JobEventSchema.safeParse(raw);
      if (!ev.success || sub.closed) return;
      sub.chain = sub.chain.then(() => this.deliver(sub, ev.data)).catch(() => {});
    });
    try {
      const now = await this.ctx.deps.entrance.get(this.principal, job.id);
      await this.catchUp(sub, now.logLines);
      if (isFinalState(now.state)) await this.finish(sub, now.state);
      else this.push(sub, 'status', { status: now.state });
    } catch (err) {
      this.error(`${LINKIS_REST_PREFIX}/entrance/${execID}/status`, err, tag);
      await this.stop(job.id);
    } finally {
      release();
    }
  }

  private async catchUp(sub: Subscription, toLine: number): Promise<void> {
    while (!sub.closed && sub.next <= toLine) {
      const page = await this.ctx.deps.entrance.log(this.principal, sub.jobId, sub.next, Math.min(BACKLOG_PAGE, toLine - sub.next + 1));
      if (page.lines.length === 0) return;
      sub.next = page.nextFrom;
      this.pushLog(
        sub,
        page.lines.map((l) => l.text),
      );
    }
  }

  private async deliver(sub: Subscription, ev: JobEvent): Promise<void> {
    if (sub.closed) return;
    switch (ev.type) {
      case 'progress':
        this.push(sub, 'progress', { progress: ev.progress, progressInfo: [] });
        return;
      case 'status': {
        if (!isFinalState(ev.state)) {
          this.push(sub, 'status', { status: ev.state });
          return;
        }
        // Every line is stored before the final status: read what the bus may not have carried.
        const job = await this.ctx.deps.entrance.get(this.principal, sub.jobId);
        await this.catchUp(sub, job.logLines);
        await this.finish(sub, ev.state);
        return;
      }
      case 'log': {
        if (ev.toLine < sub.next) return;
        if (ev.fromLine > sub.next || !ev.lines) {
          await this.catchUp(sub, ev.toLine);
          return;
        }
        const lines = ev.lines.slice(sub.next - ev.fromLine);
        sub.next = ev.toLine + 1;
        this.pushLog(sub, lines);
        return;
      }
      default:
        return;
    }
  }

  /** Ends a followed job: the closing log line Linkis clients wait for, the final status, then no more pushes. */
  private async finish(sub: Subscription, state: JobState): Promise<void> {
    if (sub.closed) return;
    this.push(sub, 'log', { log: toLinkisLog([completionLine(state)]), fromLine: sub.next });
    this.push(sub, 'status', { status: state });
    await this.stop(sub.jobId);
  }

  private async stop(jobId: string): Promise<void> {
    const sub = this.subs.get(jobId);
    if (!sub) return;
    sub.closed = true;
    this.subs.delete(jobId);
    await sub.unsubscribe().catch(() => {});
  }

  private async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs.keys()].map((id) => this.stop(id)));
  }
}
