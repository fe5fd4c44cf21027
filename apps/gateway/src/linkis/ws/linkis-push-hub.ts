import { isFinalState, type JobEvent, JobEventSchema, type JobState, type JobView, type Principal, topics } from '@sluice/core';
import type { LinkisContext } from '../context.ts';
import { LINKIS_REST_PREFIX, type LinkisMessage } from '../envelope.ts';
import { legacyExecIdOf } from '../exec-id.ts';
import { completionLine, toLinkisLog } from '../log-format.ts';
import { toLinkisProgressInfo } from '../progress-info.ts';
import { idParts } from '../task-view.ts';

const BACKLOG_PAGE = 2000;
/** Waiting jobs of one group read at most to work out a queue position. */
const WAITING_WALK_CAP = 2000;
/** How often waiting jobs get their queue position: Linkis' entrance pushes it every 30 s. */
export const WAITING_SIZE_INTERVAL_MS = 30_000;

/** Messages of the pushes, as the Linkis entrance words them. */
export const PUSH_MESSAGES = {
  log: 'Return log information(返回日志信息)',
  progress: 'return the schedule information (返回进度信息!)',
  status: 'Get the status of the task successfully(获取任务状态成功)',
  waitingSize: 'Get waiting size succeed.',
} as const;

/** A socket pushes can go to. */
export interface PushTarget {
  readonly user: string;
  readonly open: boolean;
  send(msg: LinkisMessage): void;
}

/** A job this gateway pushes: to the socket that submitted (or first asked about) it, else to all its user's sockets. */
interface Follow {
  jobId: string;
  user: string;
  creator: string;
  engineType: string;
  priority: number;
  seq: string;
  execID: string;
  taskID: number;
  tag: unknown;
  owner: PushTarget | null;
  state: JobState;
  /** The next Sluice log line not pushed yet. */
  next: number;
  chain: Promise<void>;
  unsubscribe: () => Promise<void>;
  closed: boolean;
}

/**
 * Pushes of the Linkis WebSocket, per gateway, as Linkis' `EntranceWebSocketService` sends them:
 * incremental log, progress (with `progressInfo`), every status change, and every 30 s the queue
 * position (`waitingSize`) of a job still waiting for admission. A job is pushed to the socket that
 * submitted it (`entrance/execute`) or, for a job nobody claimed, the socket that first asked for its
 * status; when that socket is gone, or the job was submitted over REST, to every socket of the job's
 * user on this gateway. Each job has one bus subscription however many sockets watch it; log lines are
 * pushed in order and once (the subscription starts before the backlog is read; gaps are read back).
 */
export class LinkisPushHub {
  private readonly sockets = new Map<string, Set<PushTarget>>();
  private readonly follows = new Map<string, Follow>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;

  constructor(
    private readonly ctx: LinkisContext,
    waitingIntervalMs = WAITING_SIZE_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => void this.pushWaitingSizes(), waitingIntervalMs).unref();
  }

  /** A socket of `target.user` opened. */
  join(target: PushTarget): void {
    const set = this.sockets.get(target.user) ?? new Set<PushTarget>();
    set.add(target);
    this.sockets.set(target.user, set);
  }

  /** A socket closed: its jobs go on to the user's other sockets, or stop when there are none. */
  async leave(target: PushTarget): Promise<void> {
    const set = this.sockets.get(target.user);
    set?.delete(target);
    if (set && set.size === 0) this.sockets.delete(target.user);
    const stops: Promise<void>[] = [];
    for (const f of this.follows.values()) {
      if (f.owner === target) f.owner = null;
      if (!f.owner && !this.sockets.has(f.user)) stops.push(this.stop(f.jobId));
    }
    await Promise.all(stops);
  }

  /** Whether a user has a socket on this gateway. */
  hasSockets(user: string): boolean {
    return this.sockets.has(user);
  }

  /**
   * Follows a job from its first log line for `owner` (a WebSocket `execute`); a job followed already
   * changes owner and tag.
   */
  async execute(job: JobView, owner: PushTarget, tag: unknown, instance: string): Promise<void> {
    const f = this.follows.get(job.id);
    if (f) {
      f.owner = owner;
      f.tag = tag;
      return;
    }
    await this.start(job, { owner, tag, instance, fromStart: true });
  }

  /** A socket asked for a job's status: like Linkis, the first socket to ask about an unclaimed running job gets its pushes. */
  async claim(job: JobView, owner: PushTarget, tag: unknown, instance: string): Promise<void> {
    if (isFinalState(job.state)) return;
    const f = this.follows.get(job.id);
    if (f) {
      if (!f.owner?.open) {
        f.owner = owner;
        f.tag ??= tag;
      }
      return;
    }
    await this.start(job, { owner, tag, instance, fromStart: false });
  }

  /** A job submitted over REST: its pushes go to every socket of its user here, if there are any. */
  async submitted(job: JobView, instance: string): Promise<void> {
    if (!this.sockets.has(job.user) || this.follows.has(job.id)) return;
    await this.start(job, { owner: null, tag: null, instance, fromStart: true });
  }

  private targets(f: Follow): PushTarget[] {
    if (f.owner?.open) return [f.owner];
    return [...(this.sockets.get(f.user) ?? [])].filter((t) => t.open);
  }

  private push(f: Follow, kind: keyof typeof PUSH_MESSAGES, data: Record<string, unknown>): void {
    const msg: LinkisMessage = {
      method: `${LINKIS_REST_PREFIX}/entrance/${f.execID}/${kind}`,
      status: 0,
      message: PUSH_MESSAGES[kind],
      data: { execID: f.execID, taskID: f.taskID, websocketTag: f.tag, ...data },
    };
    for (const t of this.targets(f)) t.send(msg);
  }

  private pushLog(f: Follow, lines: string[]): void {
    if (lines.length) this.push(f, 'log', { log: toLinkisLog(lines), fromLine: f.next - 1 });
  }

  private principal(f: Follow): Principal {
    return { user: f.user, admin: false };
  }

  /** Subscribes first, then reads the job (and the backlog); bus events queue behind that read. */
  private async start(job: JobView, how: { owner: PushTarget | null; tag: unknown; instance: string; fromStart: boolean }): Promise<void> {
    const f: Follow = {
      jobId: job.id,
      user: job.user,
      creator: job.creator,
      engineType: job.engineType,
      priority: job.priority,
      seq: job.seq,
      execID: legacyExecIdOf(idParts(job), how.instance),
      taskID: Number(job.seq),
      tag: how.tag,
      owner: how.owner,
      state: job.state,
      next: how.fromStart ? 1 : job.logLines + 1,
      chain: Promise.resolve(),
      unsubscribe: async () => {},
      closed: false,
    };
    this.follows.set(job.id, f);
    let release!: () => void;
    f.chain = new Promise<void>((r) => {
      release = r;
    });
    try {
      f.unsubscribe = await this.ctx.deps.bus.subscribe(topics.job(job.id), (raw) => {
        const ev = JobEventSchema.safeParse(raw);
        if (!ev.success || f.closed) return;
        f.chain = f.chain.then(() => this.deliver(f, ev.data)).catch(() => {});
      });
      const now = await this.ctx.deps.entrance.get(this.principal(f), job.id);
      f.state = now.state;
      if (how.fromStart) await this.catchUp(f, now.logLines);
      else f.next = Math.max(f.next, now.logLines + 1);
      if (isFinalState(now.state)) await this.finish(f, now.state);
      else this.push(f, 'status', { status: now.state });
    } catch {
      await this.stop(job.id);
    } finally {
      release();
    }
  }

  private async catchUp(f: Follow, toLine: number): Promise<void> {
    while (!f.closed && f.next <= toLine) {
      const page = await this.ctx.deps.entrance.log(this.principal(f), f.jobId, f.next, Math.min(BACKLOG_PAGE, toLine - f.next + 1));
      if (page.lines.length === 0) return;
      f.next = page.nextFrom;
      this.pushLog(
        f,
        page.lines.map((l) => l.text),
      );
    }
  }

  private async deliver(f: Follow, ev: JobEvent): Promise<void> {
    if (f.closed) return;
    switch (ev.type) {
      case 'progress':
        this.push(f, 'progress', { progress: ev.progress, progressInfo: toLinkisProgressInfo(String(f.taskID), ev.progress, ev.info) });
        return;
      case 'status': {
        f.state = ev.state;
        if (!isFinalState(ev.state)) {
          this.push(f, 'status', { status: ev.state });
          return;
        }
        // Every line is stored before the final status: read what the bus may not have carried.
        const job = await this.ctx.deps.entrance.get(this.principal(f), f.jobId);
        await this.catchUp(f, job.logLines);
        await this.finish(f, ev.state);
        return;
      }
      case 'log': {
        if (ev.toLine < f.next) return;
        if (ev.fromLine > f.next || !ev.lines) {
          await this.catchUp(f, ev.toLine);
          return;
        }
        const lines = ev.lines.slice(f.next - ev.fromLine);
        f.next = ev.toLine + 1;
        this.pushLog(f, lines);
        return;
      }
      default:
        return;
    }
  }

  /** Ends a followed job: the closing log line Linkis clients wait for, the final status, then no more pushes. */
  private async finish(f: Follow, state: JobState): Promise<void> {
    if (f.closed) return;
    this.push(f, 'log', { log: toLinkisLog([completionLine(state)]), fromLine: f.next });
    this.push(f, 'status', { status: state });
    await this.stop(f.jobId);
  }

  private async stop(jobId: string): Promise<void> {
    const f = this.follows.get(jobId);
    if (!f) return;
    f.closed = true;
    this.follows.delete(jobId);
    await f.unsubscribe().catch(() => {});
  }

  /**
   * Pushes `waitingSize` for every followed job still waiting for admission: how many jobs of its
   * group (user, creator, engine) are admitted before it (higher priority, or same priority and older),
   * 0 for the next one. One read of the group's waiting jobs serves all its followed jobs.
   */
  async pushWaitingSizes(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const groups = new Map<string, Follow[]>();
      for (const f of this.follows.values()) {
        if (f.state !== 'Inited' || f.closed) continue;
        const key = `${f.user}\u001f${f.creator}\u001f${f.engineType}`;
        groups.set(key, [...(groups.get(key) ?? []), f]);
      }
      for (const list of groups.values()) {
        const first = list[0] as Follow;
        const waiting = await this.waitingOf(first).catch(() => null);
        if (!waiting) continue;
        for (const f of list) {
          if (f.closed || f.state !== 'Inited') continue;
          const ahead = waiting.filter((w) => w.id !== f.jobId && (w.priority > f.priority || (w.priority === f.priority && BigInt(w.seq) < BigInt(f.seq))));
          this.push(f, 'waitingSize', { waitingSize: ahead.length });
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  private async waitingOf(f: Follow): Promise<{ id: string; priority: number; seq: string }[]> {
    const out: { id: string; priority: number; seq: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.ctx.deps.entrance.list(this.principal(f), {
        state: ['Inited'],
        creator: f.creator,
        engineType: f.engineType,
        cursor,
        limit: 500,
      });
      // `engineType` also matches other versions of the engine; the group is the exact label.
      for (const j of page.items) if (j.engineType === f.engineType) out.push({ id: j.id, priority: j.priority, seq: j.seq });
      cursor = page.nextCursor ?? undefined;
    } while (cursor && out.length < WAITING_WALK_CAP);
    return out;
  }

  /** Stops the timer and every subscription. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.follows.keys()].map((id) => this.stop(id)));
  }
}
