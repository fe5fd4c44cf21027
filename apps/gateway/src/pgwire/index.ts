/**
 * The PostgreSQL wire protocol front door: PostgreSQL clients connect with a Sluice token as their
 * password, and every statement they send runs as a Sluice job.
 */
export { AUTH_HINT } from './authenticator.ts';
export type { PgwireDataSources, PgwireServerDeps, Target } from './pgwire-deps.ts';
export { type PgwireServer, startPgwireServer } from './pgwire-server.ts';
export { clientProof, deriveScramKeys, SCRAM_ITERATIONS, type ScramKeys, scramSalt } from './scram.ts';
export { PGWIRE_SCRAM_MIGRATION, PgScramVerifierStore, type ScramCredential, type ScramVerifierStore } from './scram-verifier-store.ts';
