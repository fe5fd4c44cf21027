import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { topics } from '@sluice/core';
import { JobEnds } from '../job-ends.ts';
import { BackendKeys } from './backend-keys.ts';
import { PgConnection } from './pg-connection.ts';
import type { PgwireServerDeps } from './pgwire-deps.ts';

/** A running pgwire listener. */
export interface PgwireServer {
  address: { host: string; port: number };
  /** Live connections (for tests and status). */
  connections(): number;
  /** Stops listening, closes every connection (cancelling what they run) and waits for the listener. */
  close(): Promise<void>;
}

/**
 * Starts the PostgreSQL wire protocol (v3) listener: psql, pgJDBC, node-postgres, psycopg and other
 * PostgreSQL clients connect to it, log in with a Sluice token, and every statement they send runs
 * as a Sluice job on the data source or engine their database name picks.
 */
export async function startPgwireServer(deps: PgwireServerDeps): Promise<PgwireServer> {
  const keys = new BackendKeys();
  const waiter = new JobEnds(deps.bus, deps.entrance);
  await waiter.start();
  // A client may send its CancelRequest to another gateway of the cluster (behind a load balancer,
  // say): a gateway that does not know the key passes it on, and the one that does cancels.
  const stopCancels = await deps.bus.subscribe(topics.pgwireCancel, (raw) => {
    const m = raw as { pid?: unknown; secret?: unknown };
    if (typeof m?.pid !== 'number' || typeof m.secret !== 'number') return;
    const target = keys.find(m.pid, m.secret);
    if (target) void target.cancelRunning().catch(() => {});
  });
  const cancelElsewhere = (pid: number, secret: number) => {
    void deps.bus.publish(topics.pgwireCancel, { pid, secret }).catch(() => {});
  };
  const secureContext = deps.tls ? createSecureContext({ key: deps.tls.key, cert: deps.tls.cert }) : undefined;
  const live = new Set<PgConnection>();
  const sockets = new Set<Socket>();
  let nextId = 1;
  const server: Server = createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    try {
      const conn = new PgConnection(socket, { deps, keys, waiter, secureContext, cancelElsewhere, onClose: (c) => live.delete(c) }, nextId++);
      live.add(conn);
    } catch (err) {
      deps.log.error({ err: String(err) }, 'pgwire connection setup failed');
      socket.destroy();
    }
  });
  server.on('error', (err) => deps.log.error({ err: String(err) }, 'pgwire listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: deps.host, port: deps.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const address = { host: deps.host, port: typeof addr === 'object' && addr ? addr.port : deps.port };
  deps.log.info({ address: `${address.host}:${address.port}`, tls: Boolean(secureContext) }, 'pgwire listening');
  return {
    address,
    connections: () => live.size,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of [...live]) c.close();
      for (const s of sockets) s.destroy();
      await closed;
      await stopCancels().catch(() => {});
      await waiter.stop();
    },
  };
}
