import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { type Config, EVENT_VERSION, type EventBus, type JobQueue, ManagerCommandSchema, type QueueConsumer, type ResultStore, topics } from '@sluice/core';
import type { EngineCatalog } from '@sluice/engines';
import type { JobStore, LineageRecorder, Logger } from '@sluice/entrance';
import { createSidePool, LivenessLock, type Pool } from '@sluice/infra';
import { EnginePool } from './engine-pool.ts';
import { type DataSourceResolver, JobRunner } from './job-runner.ts';

/** What an engine manager needs from its process. */
export interface EngineManagerDeps {
  config: Config;
  db: Pool;
  store: JobStore;
  bus: EventBus;
  queue: JobQueue;
  results: ResultStore;
  catalog: EngineCatalog;
  log: Logger;
  dataSources?: DataSourceResolver;
  lineage?: LineageRecorder;
}

/**
 * One engine manager: consumes the queue, runs jobs on pooled engines, heart-beats its leases, obeys
 * cancel commands addressed to it and reclaims idle engines. Any number run side by side; the job
 * claim in PostgreSQL guarantees a job attempt runs on one of them only.
 */
export class EngineManager {
  readonly id = `em-${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly engines: EnginePool;
  readonly runner: JobRunner;
  private consumer: QueueConsumer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private beatDb: Pool | undefined;
  private beating = false;
  /** Held while this manager runs: a lapsed lease of a manager that holds it is a stall, not a death (ADR 19). */
  private liveness: LivenessLock | undefined;

  constructor(private readonly deps: EngineManagerDeps) {
    const c = deps.config;
    this.engines = new EnginePool(deps.db, {
      managerId: this.id,
      workRoot: path.join(c.home, 'engines'),
      idleMs: c.SLUICE_ENGINE_IDLE_SECONDS * 1000,
      maxPerUser: c.SLUICE_MAX_ENGINES_PER_USER,
      concurrency: c.SLUICE_ENGINE_CONCURRENCY,
      acquireTimeoutMs: Math.min(c.SLUICE_QUEUE_TIMEOUT_SECONDS * 1000, 10 * 60_000),
      onEvent: (msg, data) => deps.log.info(data, msg),
      requestReclaim: (managerId, engineId) => deps.bus.publish(topics.manager(managerId), { v: EVENT_VERSION, type: 'reclaim', engineId }),
    });
    // A job submitted through this process is handed to this runner without being read back.
    deps.store.keepAdmittedJobsForRunners();
    this.runner = new JobRunner(
      c,
      this.id,
      deps.store,
      deps.bus,
      deps.queue,
      deps.results,
      deps.catalog,
      this.engines,
      deps.log,
      deps.dataSources,
      deps.lineage,
    );
  }

  async start(): Promise<void> {
    const { db, bus, queue, config } = this.deps;
    const row = await db.query<{ live_key: number }>(
      "INSERT INTO sluice_managers (id, host, pid, live_key) VALUES ($1, $2, $3, nextval('sluice_manager_live_key_seq')) RETURNING live_key",
      [this.id, os.hostname(), process.pid],
    );
    // Taken before the first claim: every job of this manager is covered by it.
    this.liveness = await LivenessLock.hold(db, Number(row.rows[0]?.live_key), {
      onChange: (held, err) =>
        held
          ? this.deps.log.info({ managerId: this.id }, 'liveness lock held again')
          : this.deps.log.warn({ managerId: this.id, err: err === undefined ? undefined : String(err) }, 'liveness lock lost; taking it again'),
    });
    this.unsubscribe = await bus.subscribe(topics.manager(this.id), (m) => {
      const cmd = ManagerCommandSchema.safeParse(m);
      if (!cmd.success) return;
      if (cmd.data.type === 'cancel') this.runner.stop(cmd.data.jobId, cmd.data.reason === 'lease' ? 'user' : cmd.data.reason);
      else void this.engines.reclaim(cmd.data.engineId);
    });
    this.engines.start();
    this.heartbeat = setInterval(() => void this.beat(), config.SLUICE_HEARTBEAT_MS);
    this.heartbeat.unref();
    this.consumer = await queue.consume((job) => this.runner.run(job), { concurrency: config.SLUICE_MANAGER_CONCURRENCY });
    this.deps.log.info({ managerId: this.id }, 'engine manager started');
  }

  /** Renews leases; stops jobs whose lease this manager lost or whose cancellation it missed. */
  private async beat(): Promise<void> {
    if (this.beating) return; // the previous beat is still out: never pile them up
    this.beating = true;
    try {
      // Its own connection: a heartbeat queued behind busy jobs' queries would make a live manager
      // look dead and its jobs run again elsewhere.
      this.beatDb ??= createSidePool(this.deps.db);
      await this.beatDb.query('UPDATE sluice_managers SET heartbeat_at = now() WHERE id = $1', [this.id]);
      const held = await this.deps.store.renewLeases(this.id, this.deps.config.SLUICE_LEASE_MS, this.beatDb);
      for (const { jobId, attempt } of this.runner.activeRuns()) {
        const lease = held.get(jobId);
        if (lease && lease.attempt > attempt) {
          // A later attempt holds the job now (maybe on this manager again): this one was taken from us.
          this.runner.stop(jobId, 'lease', attempt);
          continue;
        }
        if (lease?.attempt !== attempt) {
          // A job that is still being claimed is not renewed for its attempt only if it was taken from us.
          const row = await this.deps.store.get(jobId);
          if (row && (row.manager_id !== this.id || row.state !== 'Running' || row.attempt !== attempt)) this.runner.stop(jobId, 'lease', attempt);
          continue;
        }
        const cancel = lease.cancelRequested;
        if (cancel) this.runner.stop(jobId, cancel === 'timeout' || cancel === 'client-lease' ? cancel : 'user', attempt);
      }
    } catch (err) {
      this.deps.log.warn({ err: String(err) }, 'heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.consumer?.close(false);
    await this.unsubscribe?.();
    for (const { jobId, attempt } of this.runner.activeRuns()) this.runner.stop(jobId, 'lease', attempt);
    await this.runner.close();
    await this.engines.close();
    await this.deps.db.query('UPDATE sluice_managers SET stopped_at = now() WHERE id = $1', [this.id]).catch(() => {});
    while (this.beating) await new Promise((r) => setTimeout(r, 10));
    await this.beatDb?.end().catch(() => {});
    this.beatDb = undefined;
    await this.liveness?.release();
    this.liveness = undefined;
  }
}
