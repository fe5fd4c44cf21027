import { createHash } from 'node:crypto';
import type { Principal } from '@sluice/core';
import type { Pool } from '@sluice/infra';
import { deriveScramKeys, SCRAM_ITERATIONS, type ScramKeys } from './scram.ts';

/** A token's SCRAM keys with the principal it stands for. */
export interface ScramCredential extends ScramKeys {
  tokenId: string;
  principal: Principal;
}

/** Where pgwire finds the SCRAM verifiers of Sluice tokens. */
export interface ScramVerifierStore {
  /** The verifiers of the user's live tokens (not revoked, not expired), newest first. */
  credentialsFor(user: string): Promise<ScramCredential[]>;
  /** Stores the verifier of a token, given the token itself (at creation, or at a TLS login). */
  enroll(token: string): Promise<boolean>;
}

/**
 * Schema of the verifiers: one row per token, removed with the token. Idempotent, so it can run as a
 * migration and again by hand.
 */
export const PGWIRE_SCRAM_MIGRATION = {
  version: 300,
  name: 'pgwire SCRAM verifiers of tokens',
  sql: `
CREATE TABLE IF NOT EXISTS sluice_token_scram (
  token_id text PRIMARY KEY REFERENCES sluice_tokens(id) ON DELETE CASCADE,
  iterations int NOT NULL,
  stored_key bytea NOT NULL,
  server_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`,
} as const;

const MAX_CANDIDATES = 200;

/**
 * SCRAM verifiers in PostgreSQL beside the tokens they belong to. Only StoredKey and ServerKey are
 * kept: like the token's SHA-256, they do not reveal the token, and a leaked row does not let anyone
 * log in (a client needs ClientKey, which StoredKey is a hash of).
 */
export class PgScramVerifierStore implements ScramVerifierStore {
  constructor(private readonly db: Pool) {}

  async credentialsFor(user: string): Promise<ScramCredential[]> {
    const r = await this.db.query<{ id: string; username: string; is_admin: boolean; iterations: number; stored_key: Buffer; server_key: Buffer }>(
      `SELECT t.id, t.username, t.is_admin, s.iterations, s.stored_key, s.server_key
         FROM sluice_token_scram s JOIN sluice_tokens t ON t.id = s.token_id
        WHERE t.username = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
        ORDER BY t.created_at DESC LIMIT ${MAX_CANDIDATES}`,
      [user],
    );
    return r.rows.map((x) => ({
      tokenId: x.id,
      principal: { user: x.username, admin: x.is_admin },
      iterations: x.iterations,
      storedKey: x.stored_key,
      serverKey: x.server_key,
    }));
  }

  async enroll(token: string): Promise<boolean> {
    const hash = createHash('sha256').update(token, 'utf8').digest();
    const t = await this.db.query<{ id: string; username: string }>('SELECT id, username FROM sluice_tokens WHERE hash = $1', [hash]);
    const row = t.rows[0];
    if (!row) return false;
    const keys = deriveScramKeys(token, row.username, SCRAM_ITERATIONS);
    await this.db.query(
      `INSERT INTO sluice_token_scram (token_id, iterations, stored_key, server_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token_id) DO UPDATE SET iterations = EXCLUDED.iterations, stored_key = EXCLUDED.stored_key, server_key = EXCLUDED.server_key`,
      [row.id, keys.iterations, keys.storedKey, keys.serverKey],
    );
    return true;
  }
}
