import pg from 'pg';
import { poolOptions } from './pool.ts';

/**
 * The class of the advisory locks that say an engine manager is alive (the two-int4 key form, whose
 * key space is apart from the single bigint keys used elsewhere). The second int is the manager's
 * `sluice_managers.live_key`.
 */
export const MANAGER_LIVENESS_LOCK = 7351003;

/**
 * SQL that is true when the manager row aliased `m` is not proven alive: it has no liveness key, or
 * nobody holds its lock. The probe takes the lock for the rest of the caller's statement when it is
 * free, so it must run outside a transaction that lasts (autocommit), as the reconciler's queries do.
 */
export function managerGoneSql(m: string): string {
  return `(${m}.live_key IS NULL OR pg_try_advisory_xact_lock(${MANAGER_LIVENESS_LOCK}, ${m}.live_key))`;
}

export interface LivenessLockOptions {
  /** Told when the session is lost and when it holds the lock again; never throws. */
  onChange?: (held: boolean, err?: unknown) => void;
  /** Wait before reconnecting a lost session (ms). */
  retryMs?: number;
}

/**
 * Holds an engine manager's liveness lock on a connection of its own, and takes it again on a new
 * connection when that one is lost. PostgreSQL frees the lock as soon as the session ends: at once when
 * the process dies on this host (the kernel closes its socket), and within about 25 s when its host
 * vanishes (the session's TCP keepalives, set here).
 *
 * With a pooler in transaction mode in front of PostgreSQL a session lock is not tied to this process,
 * and a dead manager's jobs are then recovered only after SLUICE_STALLED_MANAGER_MS.
 */
export class LivenessLock {
  private client: pg.Client | undefined;
  /** A session still taking the lock. */
  private pending: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private held = false;

  private constructor(
    private readonly config: pg.ClientConfig,
    private readonly key: number,
    private readonly opts: LivenessLockOptions,
  ) {}

  /** Takes the lock; rejects when the first connection or the lock fails. */
  static async hold(pool: pg.Pool, key: number, opts: LivenessLockOptions = {}): Promise<LivenessLock> {
    const options = poolOptions(pool);
    const { max: _max, idleTimeoutMillis: _idle, ...config } = options;
    const lock = new LivenessLock({ ...config, application_name: `${options.application_name ?? 'sluice'}-liveness` }, key, opts);
    await lock.connect();
    return lock;
  }

  /** Whether this process holds the lock right now. */
  get isHeld(): boolean {
    return this.held;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', () => {}); // 'end' follows, which reconnects
    this.pending = client;
    try {
      await client.connect();
      // A session of a process that vanished with its host ends after about 10 + 3 × 5 s.
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
      await client.query('SELECT pg_advisory_lock($1, $2)', [MANAGER_LIVENESS_LOCK, this.key]);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    } finally {
      this.pending = undefined;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.held = true;
    client.once('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.held = false;
      this.opts.onChange?.(false);
      this.reconnectLater();
    });
  }

  private reconnectLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().then(
        () => {
          if (this.held) this.opts.onChange?.(true);
        },
        (err) => {
          if (this.closed) return; // released meanwhile: its pending session was ended on purpose
          this.opts.onChange?.(false, err);
          this.reconnectLater();
        },
      );
    }, this.opts.retryMs ?? 1_000);
    this.retry.unref();
  }

  /** Frees the lock (ends its session). */
  async release(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const clients = [this.client, this.pending];
    this.client = undefined;
    this.held = false;
    await Promise.all(clients.map((c) => c?.end().catch(() => {})));
  }
}
