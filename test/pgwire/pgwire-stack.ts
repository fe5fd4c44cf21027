import pg from 'pg';
import { PGWIRE_SCRAM_MIGRATION, PgScramVerifierStore, type PgwireServer, startPgwireServer } from '../../apps/gateway/src/pgwire/index.ts';
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
  const server = await startPgwireServer({
    host: '127.0.0.1',
    port: 0,
    entrance: stack.entrance,
    // As the standalone stack wires it: statements run at once on the in-process engine manager,
    // unless the test asks for the queued path.
    interactive: opts.queued ? undefined : stack.interactive,
    tokens: stack.tokens,
    dataSources: stack.dataSources,
    bus: stack.infra.bus,
    log: stack.log,
    scram,
    engines: stack.config.SLUICE_ENGINES,
    defaultEngine: stack.config.SLUICE_DEFAULT_ENGINE,
    tls: opts.tls,
    pageRows: opts.pageRows,
  });
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
    async stop() {
      await server.close().catch(() => {});
      await ts.stop().catch(() => {});
      await env.cleanup();
    },
  };
}
