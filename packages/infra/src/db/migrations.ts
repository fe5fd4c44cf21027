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
