import { z } from 'zod';
import { AtlasTransport } from './atlas-transport.ts';
import { ConsoleTransport, FileTransport } from './console-transport.ts';
import { HttpTransport } from './http-transport.ts';
import type { LineageTransport } from './transport.ts';

/** Transport settings, chosen by `type`. */
export const lineageTransportConfigSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('http'),
    url: z.string().url(),
    endpoint: z.string().startsWith('/').optional(),
    apiKey: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    type: z.literal('atlas'),
    url: z.string().url(),
    username: z.string().optional(),
    password: z.string().optional(),
    token: z.string().optional(),
    datasetType: z.string().optional(),
    processType: z.string().optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('console') }),
  z.object({ type: z.literal('file'), path: z.string().min(1) }),
]);

/** Transport settings (see {@link lineageTransportConfigSchema}). */
export type LineageTransportConfig = z.infer<typeof lineageTransportConfigSchema>;

/** Builds the transport a config names. */
export function createTransport(config: LineageTransportConfig): LineageTransport {
  const c = lineageTransportConfigSchema.parse(config);
  switch (c.type) {
    case 'http':
      return new HttpTransport(c);
    case 'atlas':
      return new AtlasTransport(c);
    case 'console':
      return new ConsoleTransport();
    case 'file':
      return new FileTransport(c.path);
  }
}

/**
 * Reads transport settings from the environment: `SLUICE_LINEAGE_TRANSPORT` (`http`, `atlas`,
 * `console`, `file`, or unset/`none` for no delivery), `SLUICE_LINEAGE_URL`,
 * `SLUICE_LINEAGE_ENDPOINT`, `SLUICE_LINEAGE_API_KEY`, `SLUICE_LINEAGE_TIMEOUT_MS`,
 * `SLUICE_LINEAGE_FILE`, `SLUICE_ATLAS_USERNAME`, `SLUICE_ATLAS_PASSWORD`. Throws on an invalid
 * combination; the message never repeats a secret.
 */
export function transportConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LineageTransportConfig | undefined {
  const type = env.SLUICE_LINEAGE_TRANSPORT;
  if (!type || type === 'none') return undefined;
  const timeoutMs = env.SLUICE_LINEAGE_TIMEOUT_MS ? Number(env.SLUICE_LINEAGE_TIMEOUT_MS) : undefined;
  const raw =
    type === 'http'
      ? { type, url: env.SLUICE_LINEAGE_URL, endpoint: env.SLUICE_LINEAGE_ENDPOINT, apiKey: env.SLUICE_LINEAGE_API_KEY || undefined, timeoutMs }
      : type === 'atlas'
        ? {
            type,
            url: env.SLUICE_LINEAGE_URL,
            username: env.SLUICE_ATLAS_USERNAME,
            password: env.SLUICE_ATLAS_PASSWORD,
            token: env.SLUICE_LINEAGE_API_KEY || undefined,
            timeoutMs,
          }
        : type === 'file'
          ? { type, path: env.SLUICE_LINEAGE_FILE }
          : { type };
  const parsed = lineageTransportConfigSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'SLUICE_LINEAGE_TRANSPORT'}: ${i.message}`).join('; ');
    throw new Error(`invalid lineage transport settings: ${issues}`);
  }
  return parsed.data;
}
