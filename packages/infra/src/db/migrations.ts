import type pg from 'pg';

/** One schema change. Migrations are append-only: never edit one that has shipped. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema of the system of record. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs, logs, results, engines, tokens',
    sql: `
CREATE TABLE sluice_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  username text NOT NULL,
  is_admin boolean NOT NULL DEFAULT false,
  hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE sluice_jobs (
  id text PRIMARY KEY,
  seq bigserial UNIQUE,
  username text NOT NULL,
  creator text NOT NULL,
  engine_type text NOT NULL,
  code_type text NOT NULL,
  group_key text NOT NULL,
  code text NOT NULL,
  submitted_code text NOT NULL,
  variables jsonb NOT NULL DEFAULT '{}',
  runtime_params jsonb NOT NULL DEFAULT '{}',
  startup_params jsonb NOT NULL DEFAULT '{}',
  labels jsonb NOT NULL DEFAULT '{}',
  priority smallint NOT NULL DEFAULT 5,
  execute_once boolean NOT NULL DEFAULT false,
  data_source text,
  state text NOT NULL,
  attempt int NOT NULL DEFAULT 0,
  progress real NOT NULL DEFAULT 0,
  queue_timeout_s int NOT NULL,
  run_timeout_s int NOT NULL,
  idempotency_key text,
  request_hash text,
  manager_id text,
  engine_id text,
  lease_until timestamptz,
  cancel_requested text,
  error jsonb,
  result_sets int NOT NULL DEFAULT 0,
  log_lines int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  scheduled_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sluice_jobs_idem ON sluice_jobs (username, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX sluice_jobs_waiting ON sluice_jobs (group_key, priority DESC, seq) WHERE state = 'Inited';
CREATE INDEX sluice_jobs_active ON sluice_jobs (state, group_key) WHERE state IN ('Inited', 'Scheduled', 'Running', 'WaitForRetry');
CREATE INDEX sluice_jobs_user ON sluice_jobs (username, seq DESC);

CREATE TABLE sluice_job_states (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL REFERENCES sluice_jobs (id) ON DELETE CASCADE,
  from_state text,
  to_state text NOT NULL,
  attempt int NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  reason jsonb
);
CREATE INDEX sluice_job_states_job ON sluice_job_states (job_id, id);

CREATE TABLE sluice_job_logs (
  job_id text NOT NULL REFERENCES sluice_jobs (id) ON DELETE CASCADE,
  line_no int NOT NULL,
  text text NOT NULL,
  PRIMARY KEY (job_id, line_no)
);

CREATE TABLE sluice_result_sets (
  job_id text NOT NULL REFERENCES sluice_jobs (id) ON DELETE CASCADE,
  idx int NOT NULL,
  columns jsonb NOT NULL,
  row_count bigint NOT NULL,
  bytes bigint NOT NULL,
  uri text NOT NULL,
  truncated boolean NOT NULL DEFAULT false,
  PRIMARY KEY (job_id, idx)
);

CREATE TABLE sluice_managers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid int NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz
);

CREATE TABLE sluice_engines (
  id text PRIMARY KEY,
  manager_id text NOT NULL,
  username text NOT NULL,
  engine_type text NOT NULL,
  state text NOT NULL,
  pid int,
  running int NOT NULL DEFAULT 0,
  execute_once boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  end_reason text
);
CREATE INDEX sluice_engines_live ON sluice_engines (username) WHERE ended_at IS NULL;
`,
  },
  {
    version: 2,
    name: 'client leases of synchronous submissions',
    sql: `
ALTER TABLE sluice_jobs ADD COLUMN client_lease_s int;
ALTER TABLE sluice_jobs ADD COLUMN client_lease_until timestamptz;
CREATE INDEX sluice_jobs_client_lease ON sluice_jobs (client_lease_until) WHERE client_lease_until IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'submit a job in one round trip',
    // The submit transaction (group lock, idempotency check, admission count, insert, history) as one
    // function, so a submit costs one round trip instead of five. In READ COMMITTED each statement of
    // the function sees what committed before it ran, so the count after the lock is current.
    sql: `
CREATE FUNCTION sluice_submit_job(j jsonb, max_running int) RETURNS SETOF sluice_jobs
LANGUAGE plpgsql AS $fn$
DECLARE
  existing sluice_jobs;
  created sluice_jobs;
  n_active bigint;
  n_waiting bigint;
  admitted boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(j->>'group_key'));
  IF j->>'idempotency_key' IS NOT NULL THEN
    SELECT * INTO existing FROM sluice_jobs WHERE username = j->>'username' AND idempotency_key = j->>'idempotency_key';
    IF FOUND THEN
      RETURN NEXT existing;
      RETURN;
    END IF;
  END IF;
  SELECT count(*) FILTER (WHERE state IN ('Scheduled', 'Running', 'WaitForRetry')), count(*) FILTER (WHERE state = 'Inited')
    INTO n_active, n_waiting
    FROM sluice_jobs WHERE group_key = j->>'group_key' AND state IN ('Inited', 'Scheduled', 'Running', 'WaitForRetry');
  -- Admitted at once only when nothing of the group waits ahead of it, so the group stays FIFO.
  admitted := n_active < max_running AND n_waiting = 0;
  INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, variables, runtime_params,
      startup_params, labels, priority, execute_once, data_source, state, queue_timeout_s, run_timeout_s, idempotency_key, request_hash,
      scheduled_at, client_lease_s, client_lease_until)
    VALUES (j->>'id', j->>'username', j->>'creator', j->>'engine_type', j->>'code_type', j->>'group_key', j->>'code', j->>'submitted_code',
      j->'variables', j->'runtime_params', j->'startup_params', j->'labels', (j->>'priority')::smallint, (j->>'execute_once')::boolean,
      j->>'data_source', CASE WHEN admitted THEN 'Scheduled' ELSE 'Inited' END, (j->>'queue_timeout_s')::int, (j->>'run_timeout_s')::int,
      j->>'idempotency_key', j->>'request_hash', CASE WHEN admitted THEN now() END,
      (j->>'client_lease_s')::int, now() + make_interval(secs => (j->>'client_lease_s')::int))
    RETURNING * INTO created;
  INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) VALUES (created.id, NULL, 'Inited', 0);
  IF admitted THEN
    INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) VALUES (created.id, 'Inited', 'Scheduled', 0);
  END IF;
  RETURN NEXT created;
END
$fn$;
`,
  },
  {
    version: 4,
    name: 'claim a job at submit',
    // The submit of migration 3, which can also claim the job for the engine manager of the submitting
    // process (ADR 10): when the job is admitted at once and `claim` names a manager, it is stored
    // Running on that manager's lease, and its history says Inited, Scheduled, Running. Without a claim,
    // or when the job must wait, it is what migration 3 did. The old two-argument calls still resolve.
    sql: `
DROP FUNCTION sluice_submit_job(jsonb, int);
CREATE FUNCTION sluice_submit_job(j jsonb, max_running int, claim jsonb DEFAULT NULL) RETURNS SETOF sluice_jobs
LANGUAGE plpgsql AS $fn$
DECLARE
  existing sluice_jobs;
  created sluice_jobs;
  n_active bigint;
  n_waiting bigint;
  admitted boolean;
  claimed boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(j->>'group_key'));
  IF j->>'idempotency_key' IS NOT NULL THEN
    SELECT * INTO existing FROM sluice_jobs WHERE username = j->>'username' AND idempotency_key = j->>'idempotency_key';
    IF FOUND THEN
      RETURN NEXT existing;
      RETURN;
    END IF;
  END IF;
  SELECT count(*) FILTER (WHERE state IN ('Scheduled', 'Running', 'WaitForRetry')), count(*) FILTER (WHERE state = 'Inited')
    INTO n_active, n_waiting
    FROM sluice_jobs WHERE group_key = j->>'group_key' AND state IN ('Inited', 'Scheduled', 'Running', 'WaitForRetry');
  -- Admitted at once only when nothing of the group waits ahead of it, so the group stays FIFO.
  admitted := n_active < max_running AND n_waiting = 0;
  claimed := admitted AND claim IS NOT NULL;
  INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, variables, runtime_params,
      startup_params, labels, priority, execute_once, data_source, state, queue_timeout_s, run_timeout_s, idempotency_key, request_hash,
      scheduled_at, client_lease_s, client_lease_until, manager_id, lease_until, started_at)
    VALUES (j->>'id', j->>'username', j->>'creator', j->>'engine_type', j->>'code_type', j->>'group_key', j->>'code', j->>'submitted_code',
      j->'variables', j->'runtime_params', j->'startup_params', j->'labels', (j->>'priority')::smallint, (j->>'execute_once')::boolean,
      j->>'data_source', CASE WHEN claimed THEN 'Running' WHEN admitted THEN 'Scheduled' ELSE 'Inited' END, (j->>'queue_timeout_s')::int,
      (j->>'run_timeout_s')::int, j->>'idempotency_key', j->>'request_hash', CASE WHEN admitted THEN now() END,
      (j->>'client_lease_s')::int, now() + make_interval(secs => (j->>'client_lease_s')::int),
      CASE WHEN claimed THEN claim->>'manager_id' END,
      CASE WHEN claimed THEN now() + make_interval(secs => (claim->>'lease_ms')::double precision / 1000) END,
      CASE WHEN claimed THEN now() END)
    RETURNING * INTO created;
  INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) VALUES (created.id, NULL, 'Inited', 0);
  IF admitted THEN
    INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) VALUES (created.id, 'Inited', 'Scheduled', 0);
  END IF;
  IF claimed THEN
    INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt) VALUES (created.id, 'Scheduled', 'Running', 0);
  END IF;
  RETURN NEXT created;
END
$fn$;
`,
  },
  {
    version: 5,
    name: 'small result sets kept in the index',
    // A set up to SLUICE_RESULT_INLINE_BYTES is kept here as JSON lines, and its uri is `inline:`;
    // a larger set is in the result store and has no text here.
    sql: `ALTER TABLE sluice_result_sets ADD COLUMN inline_lines text`,
  },
  {
    version: 6,
    name: 'job children without foreign-key checks; the submit history in one insert',
    // A job's history, log lines and result index are written only by the statements that write the
    // job itself (the submit function, a transition, a log append), in the same transaction and by
    // the job's id, and jobs are never deleted. The foreign keys checked that again for every child
    // row: an index probe plus a row lock on the job, seven per short job, about a third of the
    // database's time on the job path. Dropped; the primary keys and indexes stay. The submit
    // function writes its one to three history rows with one INSERT instead of one each.
    sql: `
ALTER TABLE sluice_job_states DROP CONSTRAINT IF EXISTS sluice_job_states_job_id_fkey;
ALTER TABLE sluice_job_logs DROP CONSTRAINT IF EXISTS sluice_job_logs_job_id_fkey;
ALTER TABLE sluice_result_sets DROP CONSTRAINT IF EXISTS sluice_result_sets_job_id_fkey;
CREATE OR REPLACE FUNCTION sluice_submit_job(j jsonb, max_running int, claim jsonb DEFAULT NULL) RETURNS SETOF sluice_jobs
LANGUAGE plpgsql AS $fn$
DECLARE
  existing sluice_jobs;
  created sluice_jobs;
  n_active bigint;
  n_waiting bigint;
  admitted boolean;
  claimed boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(j->>'group_key'));
  IF j->>'idempotency_key' IS NOT NULL THEN
    SELECT * INTO existing FROM sluice_jobs WHERE username = j->>'username' AND idempotency_key = j->>'idempotency_key';
    IF FOUND THEN
      RETURN NEXT existing;
      RETURN;
    END IF;
  END IF;
  SELECT count(*) FILTER (WHERE state IN ('Scheduled', 'Running', 'WaitForRetry')), count(*) FILTER (WHERE state = 'Inited')
    INTO n_active, n_waiting
    FROM sluice_jobs WHERE group_key = j->>'group_key' AND state IN ('Inited', 'Scheduled', 'Running', 'WaitForRetry');
  -- Admitted at once only when nothing of the group waits ahead of it, so the group stays FIFO.
  admitted := n_active < max_running AND n_waiting = 0;
  claimed := admitted AND claim IS NOT NULL;
  INSERT INTO sluice_jobs (id, username, creator, engine_type, code_type, group_key, code, submitted_code, variables, runtime_params,
      startup_params, labels, priority, execute_once, data_source, state, queue_timeout_s, run_timeout_s, idempotency_key, request_hash,
      scheduled_at, client_lease_s, client_lease_until, manager_id, lease_until, started_at)
    VALUES (j->>'id', j->>'username', j->>'creator', j->>'engine_type', j->>'code_type', j->>'group_key', j->>'code', j->>'submitted_code',
      j->'variables', j->'runtime_params', j->'startup_params', j->'labels', (j->>'priority')::smallint, (j->>'execute_once')::boolean,
      j->>'data_source', CASE WHEN claimed THEN 'Running' WHEN admitted THEN 'Scheduled' ELSE 'Inited' END, (j->>'queue_timeout_s')::int,
      (j->>'run_timeout_s')::int, j->>'idempotency_key', j->>'request_hash', CASE WHEN admitted THEN now() END,
      (j->>'client_lease_s')::int, now() + make_interval(secs => (j->>'client_lease_s')::int),
      CASE WHEN claimed THEN claim->>'manager_id' END,
      CASE WHEN claimed THEN now() + make_interval(secs => (claim->>'lease_ms')::double precision / 1000) END,
      CASE WHEN claimed THEN now() END)
    RETURNING * INTO created;
  -- The history: Inited, then Scheduled when admitted, then Running when claimed, in that order of ids.
  INSERT INTO sluice_job_states (job_id, from_state, to_state, attempt)
    SELECT created.id, h.from_state, h.to_state, 0
      FROM (VALUES (1, NULL::text, 'Inited', true), (2, 'Inited', 'Scheduled', admitted), (3, 'Scheduled', 'Running', claimed)) AS h(n, from_state, to_state, wanted)
     WHERE h.wanted
     ORDER BY h.n;
  RETURN NEXT created;
END
$fn$;
`,
  },
  {
    version: 7,
    name: 'engine managers hold a liveness lock',
    // Each engine manager holds a session advisory lock (MANAGER_LIVENESS_LOCK, live_key) on a
    // connection of its own for as long as it runs. A lapsed lease is recovered at once only when that
    // lock is free, that is when the manager's process or its connection is gone; a manager that is
    // alive but stalled keeps its jobs for SLUICE_STALLED_MANAGER_MS first (ADR 19).
    sql: `
CREATE SEQUENCE sluice_manager_live_key_seq AS int CYCLE;
ALTER TABLE sluice_managers ADD COLUMN live_key int;
`,
  },
];

/**
 * Applies pending migrations under an advisory lock, so several processes starting at once apply
 * each migration exactly once.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(7351001)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS sluice_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM sluice_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO sluice_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
        applied.push(m.version);
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7351001)').catch(() => {});
    client.release();
  }
  return applied;
}
