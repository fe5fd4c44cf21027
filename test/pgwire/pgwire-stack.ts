import { randomBytes } from 'node:crypto';
import { requireEnv, uniqueSuffix } from '@sluice/testkit';
import pg from 'pg';
import {
  PGWIRE_SCRAM_MIGRATION,
  PgScramVerifierStore,
  type PgwireServer,
  type PgwireServerDeps,
  startPgwireServer,
} from '../../apps/gateway/src/pgwire/index.ts';
import { type Backend, startTestStack, type TestEnv, type TestStack, testEnv } from '../support/test-stack.ts';

/** A test deployment with the pgwire listener started beside it, as the standalone stack wires it. */
export interface PgwireStack {
  env: TestEnv;
  ts: TestStack;
  pg: PgwireServer;
  port: number;
  scram: PgScramVerifierStore;
  /** Creates a token for `user` with its SCRAM verifier stored (what token creation does once wired). */
  token(user: string, opts?: { admin?: boolean; scram?: boolean }): Promise<string>;
  /** A connected node-postgres client of alice's on the `duckdb` database; `applicationName` labels her jobs. */
  connect(applicationName?: string): Promise<pg.Client>;
  /** Starts another listener on the same stack with some settings changed (closed by `stop`); its port. */
  listen(overrides: Partial<PgwireServerDeps>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts Sluice (all roles) and pgwire on 127.0.0.1 port 0. */
export async function startPgwireStack(
  opts: { backend?: Backend; overrides?: Record<string, string>; tls?: { key: string; cert: string }; pageRows?: number; queued?: boolean } = {},
): Promise<PgwireStack> {
  const env = await testEnv(opts.backend ?? 'redis', { SLUICE_ENGINES: 'duckdb,shell,jdbc', ...opts.overrides });
  const ts = await startTestStack(env);
  const { stack } = ts;
  await stack.infra.db.query(PGWIRE_SCRAM_MIGRATION.sql);
  const scram = new PgScramVerifierStore(stack.infra.db);
  for (const t of Object.values(ts.tokens)) await scram.enroll(t);
  const deps: PgwireServerDeps = {
    host: '127.0.0.1',
    port: 0,
    entrance: stack.entrance,
    // As the standalone stack wires it: statements run at once on the in-process engine manager,
    // unless the test asks for the queued path.
    interactive: opts.queued ? undefined : stack.interactive,
    relay: stack.config.SLUICE_PG_RELAY,
    tokens: stack.tokens,
    dataSources: stack.dataSources,
    bus: stack.infra.bus,
    log: stack.log,
    scram,
    engines: stack.config.SLUICE_ENGINES,
    defaultEngine: stack.config.SLUICE_DEFAULT_ENGINE,
    tls: opts.tls,
    pageRows: opts.pageRows,
  };
  const server = await startPgwireServer(deps);
  const more: PgwireServer[] = [];
  return {
    env,
    ts,
    pg: server,
    port: server.address.port,
    scram,
    async token(user, o = {}) {
      // Sluice stores a SCRAM verifier with every new token; `scram: false` removes it to model a
      // token created before verifiers existed.
      const { token, info } = await stack.tokens.create({ user, admin: o.admin, name: `pg-${user}` });
      if (o.scram === false) await stack.infra.db.query('DELETE FROM sluice_token_scram WHERE token_id = $1', [info.id]);
      return token;
    },
    async connect(applicationName) {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: server.address.port,
        user: 'alice',
        password: ts.tokens.alice,
        database: 'duckdb',
        ...(applicationName ? { application_name: applicationName } : {}),
      });
      await c.connect();
      return c;
    },
    async listen(overrides) {
      const other = await startPgwireServer({ ...deps, ...overrides, port: 0 });
      more.push(other);
      return other.address.port;
    },
    async stop() {
      for (const m of more) await m.close().catch(() => {});
      await server.close().catch(() => {});
      await ts.stop().catch(() => {});
      await env.cleanup();
    },
  };
}

/**
 * Registers and publishes `orders_pg`, alice's PostgreSQL data source on the test database: a role
 * of its own that may read and insert into `public.orders` (two rows). `drop()` removes the role.
 */
export async function addOrdersDataSource(s: PgwireStack): Promise<{ role: string; drop(): Promise<void> }> {
  const role = `pgw_${uniqueSuffix()}`;
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  const su = new pg.Client({ connectionString: s.env.db.url });
  await su.connect();
  try {
    await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${secret}'`);
    await su.query(`GRANT ALL ON SCHEMA public TO ${role}`);
    await su.query('CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, note text, placed timestamptz)');
    await su.query("INSERT INTO public.orders VALUES (1, 9.50, 'first', '2024-01-02 03:04:05+00'), (2, 12.25, NULL, NULL)");
    await su.query(`GRANT SELECT, INSERT ON public.orders TO ${role}`);
  } finally {
    await su.end();
  }
  const server = new URL(requireEnv('DATABASE_URL'));
  const api = s.ts.api(s.ts.tokens.alice);
  const created = await api.request('POST', '/api/v1/datasources', {
    name: 'orders_pg',
    type: 'postgresql',
    params: { host: server.hostname, port: Number(server.port || 5432), database: s.env.db.name, user: role, password: secret },
  });
  if (created.status !== 201) throw new Error(`orders_pg: ${JSON.stringify(created.body)}`);
  const published = await api.request('POST', '/api/v1/datasources/orders_pg/versions/1/publish');
  if (published.status !== 200) throw new Error(`orders_pg publish: ${JSON.stringify(published.body)}`);
  return {
    role,
    async drop() {
      const c = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
      await c.connect();
      await c.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await c.end();
    },
  };
}
