import type pg from 'pg';
import { OUTBOX_INSERT_SQL } from './outbox-sql.ts';
import type { RunEvent } from './run-event.ts';

/** Anything that runs a query: a pool, a client, or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** One undelivered outbox row. */
export interface OutboxRow {
  id: string;
  run_key: string;
  seq: number;
  payload: RunEvent;
  attempts: number;
}

/**
 * Writes one event to the outbox outside a state transition (tests, back-fills, events with facts
 * known only later such as row counts). Returns false when that (run, seq) was already written.
 */
export async function enqueueLineageEvent(db: Queryable, runKey: string, seq: number, event: RunEvent): Promise<boolean> {
  const r = await db.query(OUTBOX_INSERT_SQL, [runKey, seq, JSON.stringify(event)]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * Locks the head (lowest undelivered seq) of up to `limit` runs whose head is due, skipping runs
 * another dispatcher holds. Must run inside a transaction; the locks last until it ends.
 * `delivered_at IS NULL` is checked again on the locked row, so a head another dispatcher delivered
 * meanwhile is not taken twice. Dead letters are not heads: the run continues after them.
 */
export async function lockDueHeads(tx: Queryable, limit: number): Promise<OutboxRow[]> {
  const r = await tx.query<OutboxRow>(
    `WITH heads AS (
       SELECT DISTINCT ON (run_key) id, next_attempt_at
       FROM sluice_lineage_outbox
       WHERE delivered_at IS NULL AND dead_at IS NULL
       ORDER BY run_key, seq, id
     )
     SELECT o.id, o.run_key, o.seq, o.payload, o.attempts
     FROM sluice_lineage_outbox o JOIN heads h ON h.id = o.id
     WHERE h.next_attempt_at <= now() AND o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= now()
     ORDER BY o.id
     LIMIT $1
     FOR UPDATE OF o SKIP LOCKED`,
    [limit],
  );
  return r.rows;
}

/**
 * Locks the run's next event once every earlier one is delivered (the caller has just delivered
 * `afterSeq` in this transaction). Undefined when the next is not due yet or another dispatcher
 * holds it: never skips past an undelivered event.
 */
export async function lockNextInRun(tx: Queryable, runKey: string, afterSeq: number): Promise<OutboxRow | undefined> {
  const head = await tx.query<{ id: string; seq: number }>(
    'SELECT id, seq FROM sluice_lineage_outbox WHERE run_key = $1 AND delivered_at IS NULL AND dead_at IS NULL ORDER BY seq, id LIMIT 1',
    [runKey],
  );
  const h = head.rows[0];
  if (!h || h.seq <= afterSeq) return undefined;
  const r = await tx.query<OutboxRow>(
    `SELECT id, run_key, seq, payload, attempts FROM sluice_lineage_outbox
     WHERE id = $1 AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
     FOR UPDATE SKIP LOCKED`,
    [h.id],
  );
  return r.rows[0];
}

/** Marks a row delivered. */
export async function markDelivered(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE sluice_lineage_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1', [id]);
}

/** Records a failed attempt and when to try again. */
export async function markFailed(tx: Queryable, id: string, error: string, delayMs: number): Promise<void> {
  await tx.query(
    `UPDATE sluice_lineage_outbox
     SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
     WHERE id = $1`,
    [id, error.slice(0, 2000), delayMs],
  );
}

/**
 * Moves a row to the dead letters: the receiver refused it for good (HTTP `status`), so it is never
 * retried and the next event of its run becomes the head.
 */
export async function markDeadLetter(tx: Queryable, id: string, error: string, status: number | undefined): Promise<void> {
  await tx.query('UPDATE sluice_lineage_outbox SET attempts = attempts + 1, last_error = $2, dead_at = now(), dead_status = $3 WHERE id = $1', [
    id,
    error.slice(0, 2000),
    status ?? null,
  ]);
}

/**
 * Deletes up to `limit` events delivered more than `retentionMs` ago; returns how many. Dead letters
 * and undelivered events are never deleted here. The lineage graph lives in `sluice_lineage_edges`,
 * which the trigger filled when each event was written, so deleting delivered events leaves it whole.
 */
export async function deleteDeliveredBefore(db: Queryable, retentionMs: number, limit: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM sluice_lineage_outbox WHERE id IN (
       SELECT id FROM sluice_lineage_outbox
       WHERE delivered_at IS NOT NULL AND delivered_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY delivered_at LIMIT $2)`,
    [retentionMs, limit],
  );
  return r.rowCount ?? 0;
}

/** One dead letter, as operators see it: where it belongs and why it was refused, not its payload. */
export interface DeadLetter {
  id: string;
  runKey: string;
  seq: number;
  runId: string | null;
  eventType: string | null;
  jobName: string | null;
  status: number | null;
  error: string | null;
  attempts: number;
  createdAt: Date;
  deadAt: Date;
}

/** The newest dead letters first, at most `limit`. */
export async function listDeadLetters(db: Queryable, limit = 100): Promise<DeadLetter[]> {
  const r = await db.query<{
    id: string;
    run_key: string;
    seq: number;
    run_id: string | null;
    event_type: string | null;
    job_name: string | null;
    dead_status: number | null;
    last_error: string | null;
    attempts: number;
    created_at: Date;
    dead_at: Date;
  }>(
    `SELECT id, run_key, seq, payload #>> '{run,runId}' AS run_id, payload ->> 'eventType' AS event_type, payload #>> '{job,name}' AS job_name,
            dead_status, last_error, attempts, created_at, dead_at
     FROM sluice_lineage_outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id DESC LIMIT $1`,
    [limit],
  );
  return r.rows.map((x) => ({
    id: String(x.id),
    runKey: x.run_key,
    seq: x.seq,
    runId: x.run_id,
    eventType: x.event_type,
    jobName: x.job_name,
    status: x.dead_status,
    error: x.last_error,
    attempts: x.attempts,
    createdAt: x.created_at,
    deadAt: x.dead_at,
  }));
}

/**
 * Puts dead letters back in the delivery queue (after the receiver or its credentials were fixed);
 * all of them, or only the given ids. Returns how many. A requeued event is delivered after the
 * later events of its run that already went out: the order within that run is lost for it.
 */
export async function requeueDeadLetters(db: Queryable, ids?: readonly string[]): Promise<number> {
  const r = await db.query(
    `UPDATE sluice_lineage_outbox SET dead_at = NULL, dead_status = NULL, next_attempt_at = now()
     WHERE dead_at IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
    [ids ? [...ids] : null],
  );
  return r.rowCount ?? 0;
}

/** Counts of the outbox, for health checks and metrics. */
export interface OutboxStats {
  pending: number;
  delivered: number;
  /** Events the receiver refused for good (see {@link listDeadLetters}). */
  deadLettered: number;
  oldestPendingAt: Date | null;
}

/** Pending, delivered (still retained) and dead-lettered counts, and the age of the oldest pending event. */
export async function outboxStats(db: Queryable): Promise<OutboxStats> {
  const r = await db.query<{ pending: string; delivered: string; dead: string; oldest: Date | null }>(
    `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS pending,
            count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
            count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead,
            min(created_at) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL) AS oldest
     FROM sluice_lineage_outbox`,
  );
  const row = r.rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    delivered: Number(row?.delivered ?? 0),
    deadLettered: Number(row?.dead ?? 0),
    oldestPendingAt: row?.oldest ?? null,
  };
}
