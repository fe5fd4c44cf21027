/**
 * The lineage tables, for the lead to append to `packages/infra/src/db/migrations.ts` as one migration.
 *
 * - `sluice_lineage_outbox`: one row per event, written in the same statement as the job's state
 *   change. `(run_key, seq)` orders a run's events and makes a repeated write a no-op.
 * - `sluice_lineage_edges`: the lineage graph (dataset → job → dataset), maintained by a trigger as
 *   events are written, delivered or not, so the built-in view needs no metadata service.
 */
export const LINEAGE_MIGRATION_SQL = `
CREATE TABLE sluice_lineage_outbox (
  id bigserial PRIMARY KEY,
  run_key text NOT NULL,
  seq integer NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  last_error text,
  CONSTRAINT sluice_lineage_outbox_run_seq UNIQUE (run_key, seq)
);

-- The dispatcher's scan: undelivered rows by run, head first.
CREATE INDEX sluice_lineage_outbox_pending ON sluice_lineage_outbox (run_key, seq) WHERE delivered_at IS NULL;

CREATE TABLE sluice_lineage_edges (
  src_kind text NOT NULL CHECK (src_kind IN ('dataset', 'job')),
  src_namespace text NOT NULL,
  src_name text NOT NULL,
  dst_kind text NOT NULL CHECK (dst_kind IN ('dataset', 'job')),
  dst_namespace text NOT NULL,
  dst_name text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  last_run_id text NOT NULL,
  last_event_type text NOT NULL,
  PRIMARY KEY (src_kind, src_namespace, src_name, dst_kind, dst_namespace, dst_name)
);

CREATE INDEX sluice_lineage_edges_dst ON sluice_lineage_edges (dst_kind, dst_name, dst_namespace);
CREATE INDEX sluice_lineage_edges_src ON sluice_lineage_edges (src_kind, src_name, src_namespace);

CREATE FUNCTION sluice_lineage_edges_from_event() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  job_ns text := NEW.payload #>> '{job,namespace}';
  job_name text := NEW.payload #>> '{job,name}';
  run_id text := coalesce(NEW.payload #>> '{run,runId}', '');
  event_type text := coalesce(NEW.payload ->> 'eventType', 'OTHER');
BEGIN
  IF job_ns IS NULL OR job_name IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO sluice_lineage_edges AS e (src_kind, src_namespace, src_name, dst_kind, dst_namespace, dst_name, last_run_id, last_event_type)
  SELECT s.src_kind, s.src_namespace, s.src_name, s.dst_kind, s.dst_namespace, s.dst_name, run_id, event_type
  FROM (
    SELECT DISTINCT 'dataset' AS src_kind, d ->> 'namespace' AS src_namespace, d ->> 'name' AS src_name,
           'job' AS dst_kind, job_ns AS dst_namespace, job_name AS dst_name
    FROM jsonb_array_elements(coalesce(NEW.payload -> 'inputs', '[]'::jsonb)) AS d
    WHERE d ->> 'namespace' IS NOT NULL AND d ->> 'name' IS NOT NULL
    UNION
    SELECT DISTINCT 'job', job_ns, job_name, 'dataset', d ->> 'namespace', d ->> 'name'
    FROM jsonb_array_elements(coalesce(NEW.payload -> 'outputs', '[]'::jsonb)) AS d
    WHERE d ->> 'namespace' IS NOT NULL AND d ->> 'name' IS NOT NULL
  ) AS s
  -- A fixed order keeps concurrent writers from deadlocking on the same edges.
  ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (src_kind, src_namespace, src_name, dst_kind, dst_namespace, dst_name)
  DO UPDATE SET last_seen = now(), last_run_id = EXCLUDED.last_run_id, last_event_type = EXCLUDED.last_event_type;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER sluice_lineage_edges_from_event AFTER INSERT ON sluice_lineage_outbox
  FOR EACH ROW EXECUTE FUNCTION sluice_lineage_edges_from_event();
`;

/**
 * The second lineage migration: dead letters and retention.
 *
 * - `dead_at` / `dead_status`: an event the receiver refused for good (a 4xx other than 408 and 429)
 *   leaves the delivery queue instead of being retried forever; the rest of its run keeps flowing.
 * - The pending index now leaves dead letters out, and an index on `delivered_at` lets the
 *   dispatcher delete delivered events past their retention in small batches.
 */
export const LINEAGE_DEAD_LETTER_MIGRATION_SQL = `
ALTER TABLE sluice_lineage_outbox ADD COLUMN dead_at timestamptz, ADD COLUMN dead_status integer;

DROP INDEX sluice_lineage_outbox_pending;
CREATE INDEX sluice_lineage_outbox_pending ON sluice_lineage_outbox (run_key, seq) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX sluice_lineage_outbox_dead ON sluice_lineage_outbox (dead_at) WHERE dead_at IS NOT NULL;
CREATE INDEX sluice_lineage_outbox_delivered ON sluice_lineage_outbox (delivered_at) WHERE delivered_at IS NOT NULL;
`;

/**
 * The third lineage migration: the edge trigger fires only for events that name a dataset. Most jobs'
 * events (a `select 1`, a shell script) name none, and each still paid a PL/pgSQL call on insert.
 * A key that is missing still fires it, as before.
 */
export const LINEAGE_EDGE_TRIGGER_WHEN_SQL = `
DROP TRIGGER sluice_lineage_edges_from_event ON sluice_lineage_outbox;
CREATE TRIGGER sluice_lineage_edges_from_event AFTER INSERT ON sluice_lineage_outbox
  FOR EACH ROW
  WHEN (NEW.payload -> 'inputs' IS DISTINCT FROM '[]'::jsonb OR NEW.payload -> 'outputs' IS DISTINCT FROM '[]'::jsonb)
  EXECUTE FUNCTION sluice_lineage_edges_from_event();
`;

/** A schema change, shaped like `@sluice/infra`'s `Migration`. */
export interface LineageMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Every lineage migration, in order, for the process that owns the schema to append to its list.
 * Version 200 is applied as it was first written; later changes are new versions, never edits.
 */
export const LINEAGE_MIGRATIONS: readonly LineageMigration[] = [
  { version: 200, name: 'lineage outbox and edges', sql: LINEAGE_MIGRATION_SQL },
  { version: 201, name: 'lineage dead letters and retention', sql: LINEAGE_DEAD_LETTER_MIGRATION_SQL },
  { version: 202, name: 'lineage edge trigger only for events with datasets', sql: LINEAGE_EDGE_TRIGGER_WHEN_SQL },
];
