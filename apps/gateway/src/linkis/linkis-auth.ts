import { type Principal, SluiceError } from '@sluice/core';
import type { TokenStore } from '../auth/token-store.ts';
import { SESSION_COOKIE, type SessionTickets } from './session-ticket.ts';

/** Request headers as Node gives them. */
export type Headers = Record<string, string | string[] | undefined>;

/** Linkis' token headers (`TokenAuthenticationStrategy.TOKEN_KEY` / `TOKEN_USER_KEY`), also read as cookies. */
export const TOKEN_CODE = 'Token-Code';
export const TOKEN_USER = 'Token-User';

/** Parses a `Cookie` header into name → value (the first of duplicate names wins). */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    for (const part of h.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      if (!name) continue;
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (!out.has(name)) out.set(name, value);
    }
  }
  return out;
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** How a Linkis request proved who it is. */
export interface LinkisCaller {
  principal: Principal;
  via: 'token' | 'bearer' | 'session';
  /** A re-issued session ticket, when the session is past half its life. */
  refreshedTicket?: { value: string; expiresAt: number };
}

/** Verifies a Sluice token presented as a Linkis password or `Token-Code`, for the claimed user. */
export async function verifyTokenFor(tokens: Pick<TokenStore, 'verify'>, token: string, user: string): Promise<Principal> {
  const principal = await tokens.verify(token);
  if (!principal) {
    throw new SluiceError(
      'SLUICE_AUTH_INVALID',
      { reason: 'unknown, expired or revoked token', tokenUser: user },
      `Token Authentication Failed, tokenUser: ${user}, reason: the token is invalid, expired or revoked`,
    );
  }
  if (principal.user !== user) {
    throw new SluiceError(
      'SLUICE_AUTH_INVALID',
      { reason: 'user mismatch', tokenUser: user },
      `Token Authentication Failed, tokenUser: ${user}, reason: the token does not belong to ${user}`,
    );
  }
  return principal;
}

/**
 * Authenticates a Linkis request, in the gateway's order: the token pair `Token-Code` + `Token-User`
 * (headers, or both as cookies; the code is a Sluice token and the user must be its owner), then a
 * Sluice bearer token, then the session cookie. Session users are never admins: the ticket carries
 * only the user name.
 */
export async function authenticateLinkis(tokens: Pick<TokenStore, 'verify'>, tickets: SessionTickets, headers: Headers): Promise<LinkisCaller> {
  const cookies = parseCookies(headers.cookie);
  const code = header(headers, TOKEN_CODE) ?? cookies.get(TOKEN_CODE);
  const user = header(headers, TOKEN_USER) ?? cookies.get(TOKEN_USER);
  if (code !== undefined || user !== undefined) {
    if (!code || !user) {
      throw new SluiceError(
        'SLUICE_AUTH_MISSING',
        { reason: 'incomplete token pair' },
        '请在Header或Cookie中同时指定Token-Code 和 Token-User，以便完成token认证！(send both Token-Code and Token-User)',
      );
    }
    return { principal: await verifyTokenFor(tokens, code, user), via: 'token' };
  }
  const auth = header(headers, 'authorization');
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  if (bearer) {
    const principal = await tokens.verify(bearer);
    if (!principal) throw new SluiceError('SLUICE_AUTH_INVALID', {});
    return { principal, via: 'bearer' };
  }
  const raw = cookies.get(SESSION_COOKIE);
  if (raw !== undefined) {
    const ticket = tickets.verify(raw);
    if (!ticket) {
      throw new SluiceError('SLUICE_AUTH_INVALID', { reason: 'session expired' }, 'Login has expired, please log in again!(登录已过期，请重新登录！)');
    }
    const caller: LinkisCaller = { principal: { user: ticket.user, admin: false }, via: 'session' };
    if (tickets.shouldRefresh(ticket)) caller.refreshedTicket = tickets.issue(ticket.user);
    return caller;
  }
  throw new SluiceError('SLUICE_AUTH_MISSING', {});
}

/** The `Set-Cookie` value of a session ticket (a browser-session cookie, as Linkis sets it). */
export function sessionCookie(value: string, secure = false): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The `Set-Cookie` value that removes the session cookie. */
export function expiredSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax`;
}
