import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Principal, SluiceError } from '@sluice/core';
import type { Pool } from '@sluice/infra';

/** A token as listed to admins: never the token itself, which is shown once at creation. */
export interface TokenInfo {
  id: string;
  name: string;
  user: string;
  admin: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const CACHE_MS = 5_000;

/** Tokens are 32 random bytes; only their SHA-256 is stored, so a database leak reveals none. */
function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Bearer tokens of Sluice users. Verification results are cached for a few seconds so the hot path
 * does not hit the database on every request; revocation takes effect within that window.
 */
export class TokenStore {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly db: Pool,
    /** Called with each new token while it is still in clear text, e.g. to store its SCRAM verifier. */
    private readonly onCreated?: (token: string, user: string) => Promise<void>,
  ) {}

  /** Creates a token and returns it in clear text, the only time it is ever visible. */
  async create(opts: { user: string; name?: string; admin?: boolean; expiresInDays?: number }): Promise<{ token: string; info: TokenInfo }> {
    if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(opts.user)) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: 'user: letters, digits and _ . @ - only' });
    const token = `slk_${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    const r = await this.db.query<{ created_at: Date; expires_at: Date | null }>(
      `INSERT INTO sluice_tokens (id, name, username, is_admin, hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(days => $6::int) END)
       RETURNING created_at, expires_at`,
      [id, opts.name ?? 'token', opts.user, opts.admin ?? false, hashToken(token), opts.expiresInDays ?? null],
    );
    const row = r.rows[0] as { created_at: Date; expires_at: Date | null };
    await this.onCreated?.(token, opts.user);
    return {
      token,
      info: {
        id,
        name: opts.name ?? 'token',
        user: opts.user,
        admin: opts.admin ?? false,
        createdAt: row.created_at.toISOString(),
        expiresAt: row.expires_at?.toISOString() ?? null,
        revokedAt: null,
      },
    };
  }

  /** Resolves a presented token to its principal, or null when unknown, expired or revoked. */
  async verify(token: string): Promise<Principal | null> {
    if (!token.startsWith('slk_') || token.length > 200) return null;
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.principal;
    const r = await this.db.query<{ username: string; is_admin: boolean }>(
      'SELECT username, is_admin FROM sluice_tokens WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
      [hashToken(token)],
    );
    const row = r.rows[0];
    const principal = row ? { user: row.username, admin: row.is_admin } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal, until: now + CACHE_MS });
    return principal;
  }

  async list(): Promise<TokenInfo[]> {
    const r = await this.db.query<{
      id: string;
      name: string;
      username: string;
      is_admin: boolean;
      created_at: Date;
      expires_at: Date | null;
      revoked_at: Date | null;
    }>('SELECT id, name, username, is_admin, created_at, expires_at, revoked_at FROM sluice_tokens ORDER BY created_at');
    return r.rows.map((x) => ({
      id: x.id,
      name: x.name,
      user: x.username,
      admin: x.is_admin,
      createdAt: x.created_at.toISOString(),
      expiresAt: x.expires_at?.toISOString() ?? null,
      revokedAt: x.revoked_at?.toISOString() ?? null,
    }));
  }

  /** Revokes tokens by id, or every token with a given name (e.g. the previous start-up token). */
  async revoke(by: { id?: string; name?: string }): Promise<number> {
    if (!by.id && !by.name) return 0;
    const r = await this.db.query('UPDATE sluice_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND (id::text = $1 OR name = $2)', [
      by.id ?? null,
      by.name ?? null,
    ]);
    this.cache.clear();
    return r.rowCount ?? 0;
  }
}
