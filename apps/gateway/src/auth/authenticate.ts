import { type Principal, SluiceError } from '@sluice/core';
import type { TokenStore } from './token-store.ts';

/**
 * Extracts and verifies the bearer token of a request. WebSocket clients that cannot set headers
 * (browsers) may pass it as the `access_token` query parameter; the gateway redacts it from logs.
 */
export async function authenticate(tokens: TokenStore, headers: Record<string, string | string[] | undefined>, query?: URLSearchParams): Promise<Principal> {
  const header = headers.authorization;
  let token: string | undefined;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new SluiceError('SLUICE_AUTH_MISSING', {});
    token = m[1];
  } else {
    token = query?.get('access_token') ?? undefined;
  }
  if (!token) throw new SluiceError('SLUICE_AUTH_MISSING', {});
  const principal = await tokens.verify(token);
  if (!principal) throw new SluiceError('SLUICE_AUTH_INVALID', {});
  return principal;
}
