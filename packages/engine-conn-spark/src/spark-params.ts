import { type DataSourceConnection, SluiceError } from '@sluice/core';
import { z } from 'zod';
import { checkConf } from './launch-params.ts';

/**
 * Parameters of a `spark` data source: a master URL for engines Sluice launches, or the endpoint of a
 * remote Spark Connect server (`sc://host:port`, optionally `/;use_ssl=true;token=…`). `conf` is
 * Spark configuration for every engine on it (the keys a job may set).
 */
export const sparkParamsSchema = z
  .object({
    master: z.string().max(512).optional().describe('master URL: local[*], spark://host:7077, yarn, k8s://…'),
    connectUrl: z
      .string()
      .max(512)
      .regex(/^sc:\/\//, 'a Spark Connect URL sc://host:port')
      .optional()
      .describe('Spark Connect endpoint'),
    token: z.string().max(8192).optional().describe('Spark Connect bearer token (secret)'),
    conf: z.record(z.string(), z.string()).default({}).describe('Spark configuration'),
  })
  .strict()
  .refine((p) => Boolean(p.master) !== Boolean(p.connectUrl), { message: 'give exactly one of master or connectUrl' });

/** Secret fields of a `spark` data source. */
export const sparkSecretFields: readonly string[] = ['token'];

/** A `spark` data source as an engine uses it. */
export interface SparkSource {
  master?: string;
  /** `host:port` of a remote Spark Connect server. */
  connectUrl?: string;
  token?: string;
  tls: boolean;
  conf: Record<string, string>;
}

/** `sc://host:port/;use_ssl=true;token=…` → target and options (the URL's own token wins over none). */
export function parseConnectUrl(url: string): { target: string; tls: boolean; token?: string } {
  const m = /^sc:\/\/([^/:;]+|\[[^\]]+\])(?::(\d+))?\/?(;.*)?$/.exec(url);
  if (!m) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `spark data source: connectUrl ${url} is not sc://host:port` });
  const params: Record<string, string> = {};
  for (const part of (m[3] ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
  }
  return { target: `${m[1]}:${m[2] ?? '15002'}`, tls: params.use_ssl === 'true', ...(params.token ? { token: params.token } : {}) };
}

/** Validates a `spark` data source for an engine launch; a bad one is SLUICE_REQUEST_INVALID. */
export function parseSparkDataSource(ds: DataSourceConnection): SparkSource {
  if (ds.type !== 'spark') throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `the spark engine cannot use a ${ds.type} data source` });
  const parsed = sparkParamsSchema.safeParse(ds.params);
  if (!parsed.success) {
    throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `spark data source ${ds.name}: ${parsed.error.issues.map((i) => i.message).join('; ')}` });
  }
  const p = parsed.data;
  const conf = checkConf(p.conf, `spark data source ${ds.name}`);
  if (p.connectUrl) {
    const url = parseConnectUrl(p.connectUrl);
    return { connectUrl: url.target, tls: url.tls, token: p.token ?? url.token, conf };
  }
  return { master: p.master, tls: false, conf };
}
