import { type Principal, WS_CLOSE_SLOW_CONSUMER } from '@sluice/core';
import type { WebSocket } from 'ws';
import type { LinkisContext } from '../context.ts';
import { LINKIS_REST_PREFIX, type LinkisMessage } from '../envelope.ts';
import { linkisErrorMessage } from '../error-envelope.ts';
import { legacyExecIdOf } from '../exec-id.ts';
import { toLinkisLog } from '../log-format.ts';
import { MAX_LOG_PAGE, readLinkisLog } from '../routes/entrance-routes.ts';
import { translateSubmit } from '../submit-translation.ts';
import { idParts, linkisProgress } from '../task-view.ts';
import { type LinkisPushHub, PUSH_MESSAGES, type PushTarget } from './linkis-push-hub.ts';

const MAX_INVALID_FRAMES = 20;

/** Messages of the pushes and replies, as the Linkis entrance words them. */
export const WS_MESSAGES = {
  execute: 'Request execution succeeded(请求执行成功)',
  ...PUSH_MESSAGES,
  kill: 'Kill task succeeded(kill任务成功)',
  pause: 'Temporarily does not support the task pause(暂时不支持任务暂停)',
  empty: 'Empty message!',
} as const;

/**
 * One connection of the Linkis WebSocket `/ws/api/entrance/connect`. Frames in are
 * `{method, data, websocketTag}` with Linkis methods (`/api/rest_j/v1/entrance/execute`,
 * `…/entrance/{id}/log|status|progress|kill|pause`); replies and pushes out are Linkis envelopes whose
 * `method` is the full path. Pushes (log, progress, status, waitingSize) come from the
 * {@link LinkisPushHub}: for the jobs this socket executed or first asked the status of, and for its
 * user's jobs whose own socket is gone or that were submitted over REST.
 */
export class LinkisWsSession implements PushTarget {
  private closed = false;
  private invalid = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly principal: Principal,
    private readonly ctx: LinkisContext,
    private readonly hub: LinkisPushHub,
    private readonly instance: string,
  ) {
    hub.join(this);
    socket.on('message', (data, isBinary) => void this.onFrame(isBinary ? '' : data.toString()));
    socket.on('close', () => void this.dispose());
    socket.on('error', () => void this.dispose());
  }

  /** The user pushes of this socket are for. */
  get user(): string {
    return this.principal.user;
  }

  /** Whether pushes can still be sent. */
  get open(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Sends a reply or push; a socket whose unsent data passes the limit is closed as a slow consumer. */
  send(msg: LinkisMessage): void {
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
    this.ctx.progress.watch(job.id, job.seq);
    await this.hub.execute(job, this, tag, this.instance);
  }

  private async jobCall(method: string, id: string, op: string, data: Record<string, unknown>, tag: unknown): Promise<void> {
    const job = await this.ctx.job(this.principal, id);
    const base = { execID: id, taskID: Number(job.seq), websocketTag: tag };
    switch (op) {
      case 'status':
        this.send({ method, status: 0, message: WS_MESSAGES.status, data: { ...base, status: job.state } });
        await this.hub.claim(job, this, tag, this.instance);
        return;
      case 'progress': {
        const progressInfo = this.ctx.progress.get(job.id, job.seq, job.state);
        this.send({ method, status: 0, message: WS_MESSAGES.progress, data: { ...base, progress: linkisProgress(job), progressInfo } });
        return;
      }
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

  private async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hub.leave(this);
  }
}
