import { createHash } from 'node:crypto';
import pg from 'pg';

/** Every DATE/TIMESTAMP/BIGINT column comes back as text; Sluice formats them itself. */
pg.types.setTypeParser(20, (v) => v); // int8 stays a string: no silent precision loss

/** Opens a PostgreSQL pool. `application_name` shows which Sluice app holds a connection. */
export function createPool(connectionString: string, opts: { max?: number; application?: string } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: opts.max ?? 10, application_name: opts.application ?? 'sluice', idleTimeoutMillis: 30_000 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  return pool;
}

/** The options `pool` was opened with: to open more connections to the same server as it. */
export function poolOptions(pool: pg.Pool): pg.PoolConfig {
  return (pool as unknown as { options: pg.PoolConfig }).options;
}

/**
 * A small pool to the same server as `pool`, for work that must never queue behind the main pool's
 * traffic (heartbeats and lease renewals: a starved heartbeat makes a live manager look dead).
 */
export function createSidePool(pool: pg.Pool, max = 1): pg.Pool {
  const options = poolOptions(pool);
  const side = new pg.Pool({ ...options, max, application_name: `${options.application_name ?? 'sluice'}-heartbeat` });
  side.on('error', () => {});
  return side;
}

const statementNames = new Map<string, string>();
/** Bumped when a server says a prepared statement's result type changed: every name is then new. */
let generation = 0;

/** A stable name for a statement text: the same text gets the same name (within a generation). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `sluice${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name;
}

/** PostgreSQL's answer to a prepared statement whose tables changed shape (a migration ran meanwhile). */
function isStalePlan(e: unknown): boolean {
  return (e as { code?: string })?.code === '0A000' && /cached plan must not change result type/.test(String((e as Error).message));
}

/**
 * Runs a statement as a named prepared statement: each connection parses it once and PostgreSQL can
 * keep its plan, where an unnamed statement is parsed and planned on every call. For the hot
 * statements of the job path; one statement per call, with parameters.
 */
export function queryPrepared<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  return db.query<R>({ name: statementName(text), text, values }).catch((e: unknown) => {
    if (!isStalePlan(e)) throw e;
    // A migration (another instance's, during a rolling upgrade) changed a table under a statement
    // prepared here. Names of a new generation are prepared afresh on every connection.
    generation++;
    statementNames.clear();
    return db.query<R>({ name: statementName(text), text, values });
  });
}

/** Runs `fn` in a transaction, committing on success and rolling back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

export type { Pool, PoolClient } from 'pg';
