import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** The Linkis session cookie (`wds.linkis.session.ticket.key`). */
export const SESSION_COOKIE = 'linkis_user_session_ticket_id_v1';

/** How long a session lasts: Linkis' `wds.linkis.server.web.session.timeout` default, 2 hours. */
export const SESSION_TIMEOUT_MS = 2 * 60 * 60 * 1000;

const HKDF_SALT = 'sluice/linkis-session-ticket';
const HKDF_INFO = SESSION_COOKIE;

/** A verified session: who, and until when. */
export interface SessionTicket {
  user: string;
  expiresAt: number;
}

/**
 * Opaque, stateless session tickets: `base64url("user|expiry") "." base64url(HMAC-SHA256)`. The key
 * comes from the process, never from a user's token, so a ticket proves only that this deployment
 * issued it. Tickets are issued under the first key and accepted under any: every gateway that lists
 * a key (in `SLUICE_MASTER_KEYS`) accepts the tickets issued under it, so a master-key rotation, which
 * lists the old and the new key side by side, keeps Linkis sessions alive.
 */
export class SessionTickets {
  private readonly keys: Buffer[];

  constructor(
    key: Buffer | Buffer[],
    readonly timeoutMs = SESSION_TIMEOUT_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = Array.isArray(key) ? key : [key];
    if (this.keys.length === 0 || this.keys.some((k) => k.length < 32)) throw new Error('a session key needs at least 32 bytes');
  }

  /**
   * One key per master-key entry, derived with HKDF-SHA256 (so every gateway of a deployment agrees),
   * else 32 random bytes (sessions then live as long as this process).
   */
  static fromMasterKeys(masterKeys: string | undefined, timeoutMs = SESSION_TIMEOUT_MS): SessionTickets {
    const entries = (masterKeys ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const keys = entries.map((e) => Buffer.from(hkdfSync('sha256', Buffer.from(e, 'utf8'), HKDF_SALT, HKDF_INFO, 32)));
    return new SessionTickets(keys.length > 0 ? keys : [randomBytes(32)], timeoutMs);
  }

  private mac(payload: string, key: Buffer = this.keys[0] as Buffer): Buffer {
    return createHmac('sha256', key).update(`v1|${payload}`).digest();
  }

  /** A new ticket for `user`, valid for {@link timeoutMs}. */
  issue(user: string): { value: string; expiresAt: number } {
    if (!user || user.includes('|')) throw new Error('invalid user for a session ticket');
    const expiresAt = this.now() + this.timeoutMs;
    const payload = `${user}|${expiresAt}`;
    return { value: `${Buffer.from(payload, 'utf8').toString('base64url')}.${this.mac(payload).toString('base64url')}`, expiresAt };
  }

  /** The session of a ticket, or null when it is malformed, forged or expired. */
  verify(value: string | undefined): SessionTicket | null {
    if (!value || value.length > 1024) return null;
    const dot = value.indexOf('.');
    if (dot <= 0) return null;
    const payload = Buffer.from(value.slice(0, dot), 'base64url').toString('utf8');
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const valid = this.keys.some((key) => {
      const want = this.mac(payload, key);
      return given.length === want.length && timingSafeEqual(given, want);
    });
    if (!valid) return null;
    const m = /^([^|]+)\|(\d{1,15})$/.exec(payload);
    if (!m) return null;
    const expiresAt = Number(m[2]);
    if (expiresAt <= this.now()) return null;
    return { user: m[1] as string, expiresAt };
  }

  /** True when more than half of a session's time has passed, so it is worth re-issuing (as Linkis does). */
  shouldRefresh(ticket: SessionTicket): boolean {
    return ticket.expiresAt - this.now() < this.timeoutMs / 2;
  }
}
