import { type Config, EVENT_VERSION, type EventBus, isFinalState, type JobQueue, type ManagerCommand, SluiceError, topics } from '@sluice/core';
import { managerGoneSql, type Pool, type PoolClient } from '@sluice/infra';
import type { Admission } from './admission.ts';
import type { JobRow, JobStore } from './job-store.ts';
import type { LineageRecorder } from './lineage-recorder.ts';

/** Minimal logger shape so the entrance does not depend on a logging library. */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const LEADER_LOCK = 7351002;

/**
 * The entrance's background duties. One instance in the cluster leads (a PostgreSQL advisory lock)
 * and runs the periodic pass; every instance reacts to status events by admitting the next jobs of
 * the group that freed a slot.
 *
 * The periodic pass: admits waiting jobs, times out jobs that waited or ran too long, recovers jobs
 * whose engine manager stopped renewing its lease (retry or fail, as policy says), re-enqueues
 * admitted jobs the queue lost, and retires engines of dead managers.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private leaderClient: PoolClient | undefined;
  private running = false;
  private stopped = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly config: Config,
    private readonly pool: Pool,
    private readonly store: JobStore,
    private readonly queue: JobQueue,
    private readonly bus: EventBus,
    private readonly admission: Admission,
    private readonly log: Logger,
    private readonly lineage?: LineageRecorder,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(topics.jobStates, (m) => {
      const e = m as { state?: string; group?: string; waiting?: boolean };
      // `waiting: false`: the transition saw no job of the group waiting, so there is nothing to admit.
      if (e.waiting === false) return;
      if (e.group && e.state && (isFinalState(e.state as never) || e.state === 'WaitForRetry')) {
        this.admission.admitGroup(e.group).catch((err) => this.log.warn({ err: String(err) }, 'admission after state change failed'));
      }
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((err) => this.log.error({ err: String(err) }, 'scheduler pass failed'))
        .finally(() => this.schedule());
    }, this.config.SLUICE_SCHEDULER_TICK_MS);
    this.timer.unref();
  }

  /** Tries to become (or stay) the leader. Only the leader runs the periodic pass. */
  private async lead(): Promise<boolean> {
    if (this.leaderClient) return true;
    const client = await this.pool.connect();
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
      if (r.rows[0]?.ok) {
        this.leaderClient = client;
        client.on('error', () => {
          this.leaderClient = undefined;
        });
        return true;
      }
    } catch {
      // fall through: not the leader this time
    }
    client.release();
    return false;
  }

  /** One periodic pass. Public so tests can drive the scheduler deterministically. */
  async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      if (!(await this.lead())) return;
      await this.timeoutWaiting();
      await this.cancelLapsedClientLeases();
      await this.recoverExpiredLeases();
      await this.backstopRunTimeouts();
      await this.requeueLost();
      await this.retireDeadManagers();
      for (const group of await this.store.groupsWithWaitingJobs()) await this.admission.admitGroup(group);
    } finally {
      this.running = false;
    }
  }

  private async timeoutWaiting(): Promise<void> {
    for (const row of await this.store.queueTimedOut()) {
      const done = await this.store.transition(row.id, ['Inited', 'Scheduled', 'WaitForRetry'], 'Timeout', {
        error: new SluiceError('SLUICE_JOB_QUEUE_TIMEOUT', { seconds: row.queue_timeout_s }).toBody(),
      });
      if (done) await this.queue.remove(row.id, row.attempt).catch(() => {});
    }
  }

  /** A synchronous client that stopped renewing (killed with -9, say) takes its job with it, as Linkis's CLI heartbeat monitor does. */
  private async cancelLapsedClientLeases(): Promise<void> {
    for (const row of await this.store.clientLeasesLapsed()) {
      this.log.warn({ jobId: row.id, user: row.username }, 'client lease lapsed; cancelling the job');
      const error = new SluiceError('SLUICE_JOB_CANCELLED', { by: 'sluice', reason: 'client lease lapsed' }).toBody();
      const done = await this.store.transition(row.id, ['Inited', 'Scheduled', 'WaitForRetry'], 'Cancelled', { error });
      if (done) {
        await this.queue.remove(row.id, row.attempt).catch(() => {});
        continue;
      }
      const running = await this.store.requestCancel(row.id, 'client-lease');
      if (running?.manager_id) await this.sendCancel(running, 'client-lease');
    }
  }

  /** A Running job whose lease lapsed lost its manager: retry it, or end it as policy says. */
  private async recoverExpiredLeases(): Promise<void> {
    for (const row of await this.store.expiredLeases(this.config.SLUICE_STALLED_MANAGER_MS)) {
      const fence = { managerId: row.manager_id ?? '', attempt: row.attempt };
      if (row.cancel_requested) {
        const to = row.cancel_requested === 'timeout' ? 'Timeout' : 'Cancelled';
        const code = to === 'Timeout' ? 'SLUICE_JOB_RUN_TIMEOUT' : 'SLUICE_JOB_CANCELLED';
        const error = new SluiceError(code, { seconds: row.run_timeout_s });
        await this.store.transition(
          row.id,
          ['Running'],
          to,
          { error: error.toBody() },
          fence,
          undefined,
          await this.lineage?.ended(row, to, { error: error.message }),
        );
        continue;
      }
      const lost = new SluiceError('SLUICE_ENGINE_LOST', { managerId: row.manager_id });
      // An interactive statement's client waited on it and is gone with it: it is never retried.
      if (row.attempt < this.config.SLUICE_MAX_RETRIES && row.labels?.['sluice.interactive'] !== 'true') {
        const next = await this.store.transition(
          row.id,
          ['Running'],
          'WaitForRetry',
          { attempt: row.attempt + 1, managerId: null, engineId: null, leaseUntilMs: null, error: lost.toBody() },
          fence,
          { reason: 'lease expired', managerId: row.manager_id },
        );
        if (next) {
          this.log.warn({ jobId: row.id, attempt: next.attempt, managerId: row.manager_id }, 'engine manager lost; job will be retried');
          await this.admission.enqueue({ jobId: row.id, attempt: next.attempt, priority: next.priority });
        }
      } else {
        const error = new SluiceError('SLUICE_JOB_RETRIES_EXHAUSTED', { attempts: row.attempt + 1, reason: lost.message });
        await this.store.transition(
          row.id,
          ['Running'],
          'Failed',
          { error: error.toBody() },
          fence,
          undefined,
          await this.lineage?.ended(row, 'Failed', { error: error.message }),
        );
      }
    }
  }

  private async backstopRunTimeouts(): Promise<void> {
    for (const row of await this.store.runTimedOut(this.config.SLUICE_LEASE_MS)) {
      const r = await this.store.requestCancel(row.id, 'timeout');
      if (r?.manager_id) await this.sendCancel(r, 'timeout');
    }
  }

  private async sendCancel(row: JobRow, reason: 'user' | 'timeout' | 'client-lease'): Promise<void> {
    const command: ManagerCommand = { v: EVENT_VERSION, type: 'cancel', jobId: row.id, reason };
    await this.bus.publish(topics.manager(row.manager_id ?? ''), command).catch(() => {});
  }

  /** Admitted jobs must be in the queue; put back any the queue lost (e.g. a Redis flush). */
  private async requeueLost(): Promise<void> {
    for (const row of await this.store.queuedOlderThan(Math.max(5_000, this.config.SLUICE_LEASE_MS))) {
      if (!(await this.queue.has(row.id, row.attempt))) {
        this.log.warn({ jobId: row.id, attempt: row.attempt }, 're-enqueueing a job the queue lost');
        await this.admission.enqueue({ jobId: row.id, attempt: row.attempt, priority: row.priority });
      }
    }
  }

  /**
   * Engines of managers that stopped heart-beating no longer count against user quotas, once the
   * manager is known to be gone or has been stalled too long (the rule of lapsed job leases, ADR 19).
   */
  private async retireDeadManagers(): Promise<void> {
    await this.pool.query(
      `UPDATE sluice_engines e SET ended_at = now(), state = 'Failed', end_reason = 'manager lost'
       FROM sluice_managers m WHERE e.manager_id = m.id AND e.ended_at IS NULL
         AND m.heartbeat_at < now() - ($1 || ' milliseconds')::interval
         AND (m.heartbeat_at < now() - ($2 || ' milliseconds')::interval OR ${managerGoneSql('m')})`,
      [String(this.config.SLUICE_LEASE_MS), String(this.config.SLUICE_LEASE_MS + this.config.SLUICE_STALLED_MANAGER_MS)],
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unsubscribe?.();
    while (this.running) await new Promise((r) => setTimeout(r, 20));
    if (this.leaderClient) {
      await this.leaderClient.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK]).catch(() => {});
      this.leaderClient.release();
      this.leaderClient = undefined;
    }
  }
}
