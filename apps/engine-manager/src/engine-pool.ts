import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type DataSourceConnection, type Engine, SluiceError } from '@sluice/core';
import type { ResolvedEngine } from '@sluice/engines';
import { type Pool, withTransaction } from '@sluice/infra';

/** Engine states, as the registry in PostgreSQL records them. */
export type EngineState = 'Starting' | 'Idle' | 'Busy' | 'ShuttingDown' | 'Failed';

/** How long an engine's Idle/Busy changes are coalesced before its registry row is written. */
const MIRROR_DELAY_MS = 100;

/** An engine this manager owns. */
export interface PooledEngine {
  id: string;
  key: string;
  user: string;
  label: string;
  engine: Engine;
  running: number;
  executeOnce: boolean;
  lastUsed: number;
  state: EngineState;
}

/** What a job asks of its engine, besides the user and the engine type. */
export interface EngineWanted {
  executeOnce: boolean;
  startupParams: Record<string, unknown>;
  dataSource?: DataSourceConnection;
  labels?: Record<string, string>;
}

export interface EnginePoolOptions {
  managerId: string;
  workRoot: string;
  idleMs: number;
  maxPerUser: number;
  concurrency: number;
  /** How long a job waits for an engine slot before failing with SLUICE_ENGINE_QUOTA. */
  acquireTimeoutMs: number;
  onEvent?: (msg: string, data: Record<string, unknown>) => void;
  /** Asks the manager owning an idle engine to stop it, freeing a slot of the user's quota. */
  requestReclaim?: (managerId: string, engineId: string) => Promise<void>;
}

/**
 * The engines one manager owns: reuse per (user, engineType) or per the connector's share key, fresh engines for `executeOnce`, a cap
 * on engines per user across all managers (counted in PostgreSQL), a cap on tasks per engine, and an
 * idle reaper. Every state change is mirrored to `sluice_engines`.
 */
export class EnginePool {
  private readonly engines = new Map<string, PooledEngine>();
  private readonly waiters: (() => void)[] = [];
  private readonly mirror = new Map<string, Promise<void>>();
  private readonly mirrorTimers = new Map<string, NodeJS.Timeout>();
  private reaper: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly db: Pool,
    private readonly opts: EnginePoolOptions,
  ) {}

  start(): void {
    this.reaper = setInterval(() => void this.reapIdle(), Math.min(5_000, Math.max(200, this.opts.idleMs / 4)));
    this.reaper.unref();
  }

  /** Engines currently held, for status endpoints and tests. */
  list(): PooledEngine[] {
    return [...this.engines.values()];
  }

  /** Which pooled engines a job may reuse (`key`), whom they count against, and whether it needs a fresh one. */
  private placement(user: string, resolved: ResolvedEngine, opts: EngineWanted): { key: string; owner: string; executeOnce: boolean } {
    // An engine on a data source is bound to its published version: publishing a new one opens new engines.
    const ds = opts.dataSource ? `\u001f${opts.dataSource.name}@${opts.dataSource.version}` : '';
    // A connector with share levels may key engines by more than the user; the owner is whom the engine counts against.
    const share = resolved.connector.shareFor?.({ user, params: opts.startupParams, labels: opts.labels ?? {} });
    return {
      key: `${share?.key ?? user}\u001f${resolved.label}${ds}`,
      owner: share?.owner ?? user,
      executeOnce: opts.executeOnce || share?.fresh === true,
    };
  }

  /**
   * The engine `acquire` would hand out now without waiting if it has no task running, else
   * undefined. Nothing is taken: for hints to the engine a job will likely run on.
   */
  peekIdle(user: string, resolved: ResolvedEngine, opts: EngineWanted): PooledEngine | undefined {
    const { key, executeOnce } = this.placement(user, resolved, opts);
    if (executeOnce) return undefined;
    const reusable = this.reusable(key);
    return reusable?.running === 0 ? reusable : undefined;
  }

  private reusable(key: string): PooledEngine | undefined {
    for (const e of this.engines.values()) {
      if (e.key === key && !e.executeOnce && (e.state === 'Idle' || e.state === 'Busy') && e.running < this.opts.concurrency) return e;
    }
    return undefined;
  }

  /**
   * Returns an engine with a free task slot for (user, engine), launching one if allowed, else waiting
   * for a slot. The caller must `release()` it.
   */
  async acquire(user: string, resolved: ResolvedEngine, opts: EngineWanted & { signal: AbortSignal }): Promise<PooledEngine> {
    const { key, owner, executeOnce } = this.placement(user, resolved, opts);
    const deadline = Date.now() + this.opts.acquireTimeoutMs;
    for (;;) {
      if (opts.signal.aborted) throw new SluiceError('SLUICE_JOB_CANCELLED', {});
      if (!executeOnce) {
        const reusable = this.reusable(key);
        if (reusable) {
          reusable.running++;
          this.setState(reusable, 'Busy');
          return reusable;
        }
      }
      const launched = await this.launch(key, owner, resolved, { ...opts, executeOnce });
      if (launched) return launched;
      // At the cap. An idle engine of this user for another engine type here makes room at once;
      // the same engine type is picked up by the reuse check on the next turn.
      const idleOther = [...this.engines.values()].find((e) => e.user === owner && e.key !== key && e.running === 0 && e.state === 'Idle');
      if (idleOther) {
        await this.stop(idleOther, 'evicted for another engine type');
        continue;
      }
      // Otherwise another manager may hold the user's quota in idle engines: ask it to give one back.
      await this.reclaimElsewhere(owner);
      if (Date.now() > deadline) throw new SluiceError('SLUICE_ENGINE_QUOTA', { user: owner, count: this.opts.maxPerUser });
      await this.waitForSlot(Math.min(500, deadline - Date.now()), opts.signal);
    }
  }

  private waitForSlot(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, Math.max(10, ms));
      signal.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async reclaimElsewhere(user: string): Promise<void> {
    if (!this.opts.requestReclaim) return;
    const r = await this.db.query<{ id: string; manager_id: string }>(
      "SELECT id, manager_id FROM sluice_engines WHERE username = $1 AND ended_at IS NULL AND state = 'Idle' AND manager_id <> $2 ORDER BY last_used_at LIMIT 1",
      [user, this.opts.managerId],
    );
    const victim = r.rows[0];
    if (victim) await this.opts.requestReclaim(victim.manager_id, victim.id).catch(() => {});
  }

  /** Handles a reclaim request: stops the engine if it is still idle here. */
  async reclaim(engineId: string): Promise<boolean> {
    const e = this.engines.get(engineId);
    if (!e || e.running > 0 || e.state !== 'Idle') return false;
    await this.stop(e, 'reclaimed for another engine manager');
    return true;
  }

  /**
   * Registers a new engine if the user is below the cap, atomically across all managers (a per-user
   * advisory lock around the count and the insert), then launches it. Null when at the cap.
   */
  private async launch(key: string, user: string, resolved: ResolvedEngine, opts: EngineWanted): Promise<PooledEngine | null> {
    const id = randomUUID();
    const registered = await withTransaction(this.db, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('sluice-engines:' || $1))", [user]);
      const live = await c.query<{ n: string }>('SELECT count(*) AS n FROM sluice_engines WHERE username = $1 AND ended_at IS NULL', [user]);
      if (Number(live.rows[0]?.n ?? 0) >= this.opts.maxPerUser) return false;
      await c.query(
        `INSERT INTO sluice_engines (id, manager_id, username, engine_type, state, running, execute_once) VALUES ($1, $2, $3, $4, 'Starting', 1, $5)`,
        [id, this.opts.managerId, user, resolved.label, opts.executeOnce],
      );
      return true;
    });
    if (!registered) return null;
    const workDir = path.join(this.opts.workRoot, id);
    mkdirSync(workDir, { recursive: true });
    let engine: Engine;
    try {
      engine = await resolved.connector.launch({
        engineId: id,
        user,
        version: resolved.version,
        workDir,
        params: opts.startupParams,
        dataSource: opts.dataSource,
        labels: opts.labels,
      });
    } catch (err) {
      await this.db.query("UPDATE sluice_engines SET state = 'Failed', running = 0, ended_at = now(), end_reason = $2 WHERE id = $1", [id, String(err)]);
      rmSync(workDir, { recursive: true, force: true });
      this.wake();
      if (err instanceof SluiceError) throw err;
      throw new SluiceError('SLUICE_ENGINE_LAUNCH_FAILED', { engine: resolved.label, reason: (err as Error).message });
    }
    const pooled: PooledEngine = {
      id,
      key,
      user,
      label: resolved.label,
      engine,
      running: 1,
      executeOnce: opts.executeOnce,
      lastUsed: Date.now(),
      state: 'Busy',
    };
    this.engines.set(id, pooled);
    engine.onExit((reason) => void this.onEngineExit(pooled, reason));
    await this.db.query("UPDATE sluice_engines SET state = 'Busy', pid = $2 WHERE id = $1", [id, engine.pid ?? null]);
    this.opts.onEvent?.('engine started', { engineId: id, user, engineType: resolved.label, enginePid: engine.pid });
    return pooled;
  }

  /** Gives a task slot back. An executeOnce engine, or one that failed, is stopped instead. */
  async release(e: PooledEngine, opts: { broken?: boolean } = {}): Promise<void> {
    e.running = Math.max(0, e.running - 1);
    e.lastUsed = Date.now();
    if (opts.broken || e.executeOnce || this.closing) {
      if (e.running === 0) await this.stop(e, opts.broken ? 'engine failed' : 'execute once');
    } else if (e.running === 0 && e.state === 'Busy') {
      this.setState(e, 'Idle');
    }
    this.wake();
  }

  /**
   * Records an Idle/Busy change. The in-memory state is what scheduling uses, so the registry row is
   * written off the job's critical path: at most one write per engine every MIRROR_DELAY_MS, carrying
   * the latest state, so a warm engine that turns Busy and Idle for every short job costs no write
   * per job. Writes of one engine stay in order.
   */
  private setState(e: PooledEngine, state: EngineState): void {
    e.state = state;
    if (this.mirrorTimers.has(e.id)) return;
    const timer = setTimeout(() => {
      this.mirrorTimers.delete(e.id);
      this.writeMirror(e);
    }, MIRROR_DELAY_MS);
    timer.unref();
    this.mirrorTimers.set(e.id, timer);
  }

  private writeMirror(e: PooledEngine): void {
    if (!this.engines.has(e.id) || (e.state !== 'Idle' && e.state !== 'Busy')) return;
    const state = e.state;
    const running = e.running;
    const prev = this.mirror.get(e.id) ?? Promise.resolve();
    const next = prev
      .then(() =>
        this.db.query('UPDATE sluice_engines SET state = $2, running = $3, last_used_at = now() WHERE id = $1 AND ended_at IS NULL', [e.id, state, running]),
      )
      .then(
        () => {},
        () => {},
      );
    this.mirror.set(e.id, next);
    void next.then(() => {
      if (this.mirror.get(e.id) === next) this.mirror.delete(e.id);
    });
  }

  private clearMirror(id: string): void {
    const t = this.mirrorTimers.get(id);
    if (t) clearTimeout(t);
    this.mirrorTimers.delete(id);
  }

  private async onEngineExit(e: PooledEngine, reason: string): Promise<void> {
    if (!this.engines.has(e.id)) return;
    this.engines.delete(e.id);
    this.clearMirror(e.id);
    e.state = 'Failed';
    this.opts.onEvent?.('engine exited', { engineId: e.id, reason });
    await this.db
      .query("UPDATE sluice_engines SET state = 'Failed', running = 0, ended_at = now(), end_reason = $2 WHERE id = $1", [e.id, reason])
      .catch(() => {});
    // Whatever the engine left in its private directory goes with it, as on a normal stop.
    await rm(path.join(this.opts.workRoot, e.id), { recursive: true, force: true }).catch(() => {});
    this.wake();
  }

  /** Stops one engine and records why. */
  async stop(e: PooledEngine, reason: string): Promise<void> {
    if (!this.engines.delete(e.id)) return;
    this.clearMirror(e.id);
    e.state = 'ShuttingDown';
    await this.db.query("UPDATE sluice_engines SET state = 'ShuttingDown' WHERE id = $1", [e.id]).catch(() => {});
    await e.engine.close().catch(() => {});
    await this.db.query('UPDATE sluice_engines SET running = 0, ended_at = now(), end_reason = $2 WHERE id = $1', [e.id, reason]).catch(() => {});
    rmSync(path.join(this.opts.workRoot, e.id), { recursive: true, force: true });
    this.opts.onEvent?.('engine stopped', { engineId: e.id, reason });
    this.wake();
  }

  private async reapIdle(): Promise<void> {
    const now = Date.now();
    for (const e of [...this.engines.values()]) {
      if (e.running === 0 && e.state === 'Idle' && now - e.lastUsed >= this.opts.idleMs) await this.stop(e, 'idle timeout');
    }
  }

  /** Stops every engine (manager shutdown). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.engines.values()].map((e) => this.stop(e, 'manager stopped')));
  }
}
