import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/api.ts';

export type { components, operations, paths } from './generated/api.ts';

/** A typed client of the Sluice REST API v1. */
export type SluiceClient = Client<paths>;

/**
 * Creates a client for `baseUrl` (default `SLUICE_URL`) authenticated with `token` (default `SLUICE_TOKEN`).
 * Paths, parameters, bodies and responses are typed from the generated OpenAPI document.
 */
export function createSluiceClient(opts: { baseUrl?: string; token?: string; fetch?: typeof fetch } = {}): SluiceClient {
  const baseUrl = opts.baseUrl ?? process.env.SLUICE_URL ?? 'http://127.0.0.1:9001';
  const token = opts.token ?? process.env.SLUICE_TOKEN;
  return createClient<paths>({
    baseUrl,
    fetch: opts.fetch,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}
