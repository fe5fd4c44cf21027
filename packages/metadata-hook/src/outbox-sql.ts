import type { RunEventType } from './run-event.ts';

/**
 * Where an event sits among its run's events, for one attempt: START, then RUNNING, then OTHER, then
 * the final COMPLETE / FAIL / ABORT. `seq = attempt * 4 + offset`, so a retried attempt's events
 * follow the previous attempt's.
 */
export function lineageSeqOffset(eventType: RunEventType): number {
  switch (eventType) {
    case 'START':
      return 1;
    case 'RUNNING':
      return 2;
    case 'OTHER':
      return 3;
    default:
      return 4;
  }
}

/** The sequence number of an event within its run (see {@link lineageSeqOffset}). */
export function lineageSeq(eventType: RunEventType, attempt: number): number {
  return attempt * 4 + lineageSeqOffset(eventType);
}

/**
 * One more CTE for a job's state-transition statement (`WITH prev AS (…), upd AS (UPDATE … RETURNING
 * sluice_jobs.*, …), hist AS (…)`): it writes the event to the outbox in the same statement, so the
 * event exists if and only if the transition happened.
 *
 * Parameters, numbered from `paramIndexBase`:
 * - `$base`: the event JSON (text or object; cast to jsonb), built with `buildRunEvent`;
 * - `$base+1`: the seq offset, `lineageSeqOffset(eventType)` (integer).
 *
 * It reads `id` and `attempt` from `upd`; `run_key` is the job id. A repeated write of the same
 * event (same job, attempt and kind) is ignored.
 *
 * @param paramIndexBase the number of the first parameter, e.g. `args.length + 1`.
 * @param cteName the CTE's name (default `lineage`).
 * @param from the CTE holding the updated job row (default `upd`).
 */
export function outboxInsertSql(paramIndexBase: number, cteName = 'lineage', from = 'upd'): string {
  const p = paramIndexBase;
  return `${cteName} AS (INSERT INTO sluice_lineage_outbox (run_key, seq, payload)
                     SELECT ${from}.id, ${from}.attempt * 4 + $${p + 1}::int, $${p}::jsonb FROM ${from}
                     ON CONFLICT (run_key, seq) DO NOTHING)`;
}

/** A standalone insert of one event: parameters `$1` run key (job id), `$2` seq, `$3` event JSON. */
export const OUTBOX_INSERT_SQL = `INSERT INTO sluice_lineage_outbox (run_key, seq, payload) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (run_key, seq) DO NOTHING RETURNING id`;
