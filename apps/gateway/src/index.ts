/** @sluice/gateway — authentication and the protocol adapters. */
export { allRoutes, buildGateway, type GatewayDeps } from './app.ts';
export { authenticate } from './auth/authenticate.ts';
export { type TokenInfo, TokenStore } from './auth/token-store.ts';
export { linkisPlugin } from './linkis/index.ts';
export * from './pgwire/index.ts';
export {
  AUTH_HINT,
  clientProof,
  deriveScramKeys,
  PGWIRE_SCRAM_MIGRATION,
  PgScramVerifierStore,
  type PgwireDataSources,
  type PgwireServer,
  type PgwireServerDeps,
  SCRAM_ITERATIONS,
  type ScramCredential,
  type ScramVerifierStore,
  scramSalt,
  startPgwireServer,
} from './pgwire/index.ts';
export { buildOpenApi } from './rest/openapi.ts';
