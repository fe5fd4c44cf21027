import { SluiceError } from '@sluice/core';
import { z } from 'zod';

const secret = { writeOnly: true, secret: true } as const;

/** Catalog, schema and property names travel in HTTP headers: printable ASCII only, no commas. */
const headerToken = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x2b\x2d-\x7e]+$/, 'printable ASCII without spaces or commas');

/** Free text sent in a header (tags, zones): printable ASCII, no commas (tags are a comma list). */
const headerText = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x20-\x2b\x2d-\x7e]+$/, 'printable ASCII without commas');

const sessionProperties = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a session property name such as query_max_run_time or hive.compression_codec'), z.string().max(4096))
  .default({})
  .describe('session properties of every query, e.g. {"query_max_run_time": "1h"}; catalog properties as catalog.name');

/**
 * Connection parameters of a `trino` or `presto` data source. Register it with the data-source service
 * for both types; {@link trinoSecretFields} lists the fields to seal.
 *
 * Credentials (`password`, `jwt`) are only sent over TLS: a data source that combines them with
 * `tls: false` is rejected, as the Trino JDBC driver and the server itself do.
 */
export const trinoParamsSchema = z
  .object({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9._:-]+$/, 'a host name or IP address')
      .describe('coordinator host name or IP address'),
    port: z.number().int().min(1).max(65535).optional().describe('coordinator port; default 8080, or 443 with tls'),
    tls: z.boolean().default(false).describe('use https'),
    tlsMode: z
      .enum(['verify-full', 'verify-ca', 'require'])
      .default('verify-full')
      .describe("with tls: how the coordinator's certificate is checked: verify-full (chain and host name), verify-ca (chain only), require (encrypt only)"),
    tlsCa: z.string().min(1).max(65_536).optional().describe('with tls: PEM certificates of the authorities to trust instead of the system ones'),
    user: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('principal for Basic authentication and for connection tests and metadata browse; queries run as the Sluice user'),
    password: z.string().min(1).max(1024).optional().describe('password for Basic authentication (secret: write-only, never logged)').meta(secret),
    jwt: z.string().min(1).max(8192).optional().describe('JWT for bearer authentication (secret: write-only, never logged)').meta(secret),
    catalog: headerToken.optional().describe('default catalog of every session'),
    schema: headerToken.optional().describe('default schema of every session (needs catalog)'),
    sessionProperties,
    timeZone: headerText.optional().describe('time zone of every session, e.g. UTC or Europe/Paris; default: the coordinator’s'),
    clientTags: z.array(headerText).max(32).default([]).describe('client tags of every query (for resource-group selectors); the job’s creator is added'),
    headerFamily: z
      .enum(['trino', 'presto'])
      .optional()
      .describe('protocol header family, X-Trino-* or X-Presto-*; default: the data source type (trino or presto)'),
    compression: z.boolean().default(false).describe('ask for gzip-compressed responses (saves network, costs CPU on both ends)'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(120_000)
      .describe('how long one protocol request may keep failing with retryable errors (502/503/504, connection resets) before the query fails'),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe('connect timeout in milliseconds'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.password !== undefined && p.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'password needs user' });
    if (p.password !== undefined && p.jwt !== undefined) ctx.addIssue({ code: 'custom', path: ['jwt'], message: 'give password or jwt, not both' });
    if ((p.password !== undefined || p.jwt !== undefined) && !p.tls) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'credentials are only sent over TLS: set tls to true' });
    }
    if (p.schema !== undefined && p.catalog === undefined) ctx.addIssue({ code: 'custom', path: ['catalog'], message: 'schema needs catalog' });
  });

/** Parsed {@link trinoParamsSchema}: defaults applied. */
export type TrinoParams = z.infer<typeof trinoParamsSchema>;

/** Fields of {@link trinoParamsSchema} that are secrets: sealed at rest, write-only, never logged. */
export const trinoSecretFields: readonly string[] = ['password', 'jwt'];

/**
 * Session settings a job may choose through its `startupParams`, on top of the data source's. Other
 * keys are ignored; connection and credential fields cannot be set by a job.
 */
export const trinoStartupParamsSchema = z.object({
  catalog: headerToken.optional(),
  schema: headerToken.optional(),
  sessionProperties: sessionProperties.optional(),
  timeZone: headerText.optional(),
  clientTags: z.array(headerText).max(32).optional(),
});

/** Parsed {@link trinoStartupParamsSchema}. */
export type TrinoStartupParams = z.infer<typeof trinoStartupParamsSchema>;

function summary(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ');
}

/** Validates data-source params; invalid ones are a configuration fault (SLUICE_REQUEST_INVALID). */
export function parseTrinoParams(params: Record<string, unknown>, what: string): TrinoParams {
  const parsed = trinoParamsSchema.safeParse(params);
  // zod issues name the path and the rule, never the offending value, so no secret leaks here.
  if (!parsed.success) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${what}: ${summary(parsed.error)}` });
  return parsed.data;
}

/** Validates a job's start-up params. */
export function parseStartupParams(params: Record<string, unknown>, engine: string): TrinoStartupParams {
  const parsed = trinoStartupParamsSchema.safeParse(params);
  if (!parsed.success) throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${engine} startup params: ${summary(parsed.error)}` });
  return parsed.data;
}
