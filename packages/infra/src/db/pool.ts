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

/**
 * A small pool to the same server as `pool`, for work that must never queue behind the main pool's
 * traffic (heartbeats and lease renewals: a starved heartbeat makes a live manager look dead).
 */
export function createSidePool(pool: pg.Pool, max = 1): pg.Pool {
  const options = (pool as unknown as { options: pg.PoolConfig }).options;
  const side = new pg.Pool({ ...options, max, application_name: `${options.application_name ?? 'sluice'}-heartbeat` });
  side.on('error', () => {});
  return side;
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
