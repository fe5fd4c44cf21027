import { SluiceError } from '@sluice/core';
import { z } from 'zod';
import { API_VERSIONS } from './gateway-client.ts';

const secret = { writeOnly: true, secret: true } as const;

/** An http(s) URL without credentials, query or fragment: credentials go in their own (secret) fields. */
const endpointUrl = z
  .string()
  .min(1)
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL without user, password, query or fragment');

/** A Flink configuration key such as `execution.runtime-mode` or `table.exec.state.ttl`. */
const configKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.$-]*$/, 'a Flink configuration key such as execution.runtime-mode');

const sessionProperties = z
  .record(configKey, z.string().max(4096))
  .default({})
  .describe('Flink configuration of every session, e.g. {"execution.runtime-mode": "batch", "table.exec.state.ttl": "1 h"}');

/** A catalog or database name, used in `USE CATALOG` / `USE` (quoted with backticks). */
const objectName = z.string().min(1).max(256);

/**
 * Connection parameters of a `flink-sql-gateway` data source. Register it with the data-source
 * service; {@link flinkSecretFields} lists the fields to seal.
 *
 * The SQL Gateway has no authentication of its own. `user`/`password` (Basic) or `token` (Bearer)
 * are for a proxy in front of it and of the cluster's REST API; they are only sent over https.
 */
export const flinkParamsSchema = z
  .object({
    gatewayUrl: endpointUrl.optional().describe('SQL Gateway REST endpoint, e.g. http://flink-gateway:8083 (or give host, port and tls)'),
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9._:-]+$/, 'a host name or IP address')
      .optional()
      .describe('SQL Gateway host, when gatewayUrl is not given'),
    port: z.number().int().min(1).max(65535).optional().describe('SQL Gateway port with host (default 8083)'),
    tls: z.boolean().optional().describe('with host: use https'),
    restUrl: endpointUrl
      .optional()
      .describe(
        'REST API of the Flink cluster the gateway submits to (the JobManager, e.g. http://flink-jobmanager:8081): Sluice follows and cancels INSERT jobs through it; without it an INSERT task ends once its job is submitted',
      ),
    apiVersion: z.enum(API_VERSIONS).optional().describe('pin the SQL Gateway REST API version (v1–v4); default: the newest both sides speak'),
    catalog: objectName.optional().describe('current catalog of every session (USE CATALOG)'),
    database: objectName.optional().describe('current database of every session (USE)'),
    sessionProperties,
    initStatements: z
      .array(z.string().min(1).max(65_536))
      .max(100)
      .default([])
      .describe(
        'DDL run in every new session before anything else, through configure-session (CREATE CATALOG, CREATE TABLE, CREATE FUNCTION, SET, …): shared table definitions of the data source',
      ),
    user: z.string().min(1).max(256).optional().describe('user for Basic authentication at a proxy in front of Flink'),
    password: z.string().min(1).max(1024).optional().describe('password for Basic authentication (secret: write-only, never logged)').meta(secret),
    token: z.string().min(1).max(8192).optional().describe('bearer token for a proxy in front of Flink (secret: write-only, never logged)').meta(secret),
    requestTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000).describe('most time one REST request may take'),
    heartbeatIntervalMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(60_000)
      .describe('how often an engine sends its session a heartbeat; keep it under half of sql-gateway.session.idle-timeout (default 10 min)'),
    jobPollIntervalMs: z.number().int().min(100).max(60_000).default(1000).describe('how often a followed Flink job is polled on the REST API'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.gatewayUrl === undefined) === (p.host === undefined))
      ctx.addIssue({ code: 'custom', path: ['gatewayUrl'], message: 'give gatewayUrl, or host (with port and tls)' });
    if (p.gatewayUrl !== undefined && (p.port !== undefined || p.tls !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'port and tls go with host, not with gatewayUrl' });
    }
    if (p.password !== undefined && p.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'password needs user' });
    if (p.user !== undefined && p.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'user needs password' });
    if (p.password !== undefined && p.token !== undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: 'give password or token, not both' });
    if (p.password !== undefined || p.token !== undefined) {
      const plain = [gatewayUrlOf(p), p.restUrl].some((u) => u?.startsWith('http:'));
      if (plain) ctx.addIssue({ code: 'custom', path: ['gatewayUrl'], message: 'credentials are only sent over https: use https:// URLs' });
    }
    if (p.database !== undefined && p.catalog === undefined) ctx.addIssue({ code: 'custom', path: ['catalog'], message: 'database needs catalog' });
  });

/** The SQL Gateway endpoint of data-source params: `gatewayUrl`, or one built from host, port and tls. */
export function gatewayUrlOf(p: { gatewayUrl?: string; host?: string; port?: number; tls?: boolean }): string {
  if (p.gatewayUrl !== undefined) return p.gatewayUrl;
  const host = p.host?.includes(':') && !p.host.startsWith('[') ? `[${p.host}]` : p.host;
  return `${p.tls ? 'https' : 'http'}://${host}:${p.port ?? 8083}`;
}

/** Parsed {@link flinkParamsSchema}: defaults applied. */
export type FlinkParams = z.infer<typeof flinkParamsSchema>;

/** Fields of {@link flinkParamsSchema} that are secrets: sealed at rest, write-only, never logged. */
export const flinkSecretFields: readonly string[] = ['password', 'token'];

/**
 * Session settings a job may choose through its `startupParams`, on top of the data source's. Other
 * keys are ignored; endpoints and credentials cannot be set by a job.
 */
export const flinkStartupParamsSchema = z.object({
  catalog: objectName.optional(),
  database: objectName.optional(),
  sessionProperties: z.record(configKey, z.string().max(4096)).optional(),
});

/** Parsed {@link flinkStartupParamsSchema}. */
export type FlinkStartupParams = z.infer<typeof flinkStartupParamsSchema>;

/**
 * Per-task settings from a job's `runtimeParams` (other keys are ignored):
 * - `maxRows`: most rows a query's result keeps; the query is then stopped (its Flink job cancelled)
 *   and the task succeeds. This is the cap that ends an unbounded streaming query.
 * - `maxSeconds`: most time a query's result is read; then the same happens.
 * - `rowKind`: `auto` adds a leading `op` column (+I, -U, +U, -D) to query results when the session
 *   runs in streaming mode, `always` and `never` force it.
 * - `detach`: an INSERT's task ends once its Flink job is submitted, instead of following the job.
 * - `executionConfig`: Flink configuration for this task's statements only (execute statement's
 *   `executionConfig`, e.g. `{"pipeline.name": "daily-load"}`).
 */
export const flinkRuntimeParamsSchema = z.object({
  maxRows: z.coerce.number().int().min(1).max(100_000_000).default(100_000),
  maxSeconds: z.coerce
    .number()
    .min(0.1)
    .max(7 * 86_400)
    .optional(),
  rowKind: z.enum(['auto', 'always', 'never']).default('auto'),
  detach: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .default(false),
  executionConfig: z.record(configKey, z.string().max(4096)).optional(),
});

/** Parsed {@link flinkRuntimeParamsSchema}. */
export type FlinkRuntimeParams = z.infer<typeof flinkRuntimeParamsSchema>;

function summary(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ');
}

/** Validates data-source params; invalid ones are a configuration fault (SLUICE_REQUEST_INVALID). */
export function parseFlinkParams(params: Record<string, unknown>, what: string): FlinkParams {
  const parsed = flinkParamsSchema.safeParse(params);
  // zod issues name the path and the rule, never the offending value, so no secret leaks here.
  if (!parsed.success) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${what}: ${summary(parsed.error)}` });
  return parsed.data;
}

/** Validates a job's start-up params. */
export function parseFlinkStartupParams(params: Record<string, unknown>): FlinkStartupParams {
  const known = Object.fromEntries(Object.entries(params).filter(([k]) => k in flinkStartupParamsSchema.shape));
  const parsed = flinkStartupParamsSchema.safeParse(known);
  if (!parsed.success) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `flink startup params: ${summary(parsed.error)}` });
  return parsed.data;
}

/** Validates a task's runtime params. */
export function parseFlinkRuntimeParams(params: Record<string, unknown>): FlinkRuntimeParams {
  const known = Object.fromEntries(Object.entries(params).filter(([k]) => k in flinkRuntimeParamsSchema.shape));
  const parsed = flinkRuntimeParamsSchema.safeParse(known);
  if (!parsed.success) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `flink runtime params: ${summary(parsed.error)}` });
  return parsed.data;
}

/** The Authorization header of a data source's credentials, if it has any. */
export function authorizationHeader(p: FlinkParams): Record<string, string> {
  if (p.token !== undefined) return { authorization: `Bearer ${p.token}` };
  if (p.user !== undefined && p.password !== undefined) {
    return { authorization: `Basic ${Buffer.from(`${p.user}:${p.password}`, 'utf8').toString('base64')}` };
  }
  return {};
}

/** Backtick-quotes a Flink identifier. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
