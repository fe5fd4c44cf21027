import { z } from 'zod';
import { sluiceError } from './errors.ts';

/** Job states, named as Linkis names them so the Linkis front door maps them one to one. */
export const JOB_STATES = ['Inited', 'WaitForRetry', 'Scheduled', 'Running', 'Succeed', 'Failed', 'Cancelled', 'Timeout'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JobStateSchema = z.enum(JOB_STATES);

export const FINAL_STATES: ReadonlySet<JobState> = new Set(['Succeed', 'Failed', 'Cancelled', 'Timeout']);

/** True once a job can no longer change. */
export function isFinalState(state: JobState): boolean {
  return FINAL_STATES.has(state);
}

/** The transitions the state machine allows; everything else is a bug or a lost race. */
export const ALLOWED_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  Inited: ['Scheduled', 'Cancelled', 'Timeout', 'Failed'],
  Scheduled: ['Running', 'Inited', 'Cancelled', 'Timeout', 'Failed'],
  Running: ['Succeed', 'Failed', 'Cancelled', 'Timeout', 'WaitForRetry'],
  WaitForRetry: ['Running', 'Scheduled', 'Cancelled', 'Timeout', 'Failed'],
  Succeed: [],
  Failed: [],
  Cancelled: [],
  Timeout: [],
};

const LABEL_PART = /^[a-z][a-z0-9_]*$/i;

/** An engine label `name-version`, or just `name` for the configured default version. */
export interface EngineType {
  name: string;
  version?: string;
}

/** Parses `duckdb-1.5`, `spark-3.4.1` or `duckdb`. The version is everything after the first dash. */
export function parseEngineType(label: string): EngineType {
  const dash = label.indexOf('-');
  const name = (dash < 0 ? label : label.slice(0, dash)).toLowerCase();
  const version = dash < 0 ? undefined : label.slice(dash + 1);
  if (!LABEL_PART.test(name) || (version !== undefined && !/^[0-9A-Za-z._x]+$/.test(version))) {
    throw sluiceError('SLUICE_JOB_LABEL_INVALID', { label: 'engineType', value: label, reason: 'expected name-version, e.g. duckdb-1.5' });
  }
  return version === undefined ? { name } : { name, version };
}

/** Formats an engine label back to `name-version`. */
export function formatEngineType(t: EngineType): string {
  return t.version ? `${t.name}-${t.version}` : t.name;
}

/** Parses `userCreator` (`user-creator`), as Linkis labels carry it. */
export function parseUserCreator(label: string): { user: string; creator: string } {
  const dash = label.lastIndexOf('-');
  if (dash <= 0 || dash === label.length - 1) {
    throw sluiceError('SLUICE_JOB_LABEL_INVALID', { label: 'userCreator', value: label, reason: 'expected user-creator, e.g. alice-IDE' });
  }
  return { user: label.slice(0, dash), creator: label.slice(dash + 1) };
}

const NAME = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits and _ . @ - only');

/** What a client sends to run a job. One schema for REST, WebSocket, CLI and the Linkis adapter. */
export const SubmitJobSchema = z
  .object({
    code: z.string().min(1, 'code must not be empty'),
    engineType: z.string().min(1).max(64).optional().describe('name-version or name, e.g. duckdb-1.5; default is the configured default engine'),
    codeType: z.string().min(1).max(32).optional().describe('sql, shell, py…; default is the engine’s first code type'),
    creator: NAME.optional().describe('the application submitting the job, e.g. IDE, dolphinscheduler'),
    variables: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'variable names are identifiers'), z.union([z.string(), z.number(), z.boolean()]))
      .optional(),
    runtimeParams: z.record(z.string(), z.unknown()).optional().describe('engine runtime parameters, passed to the connector'),
    startupParams: z.record(z.string(), z.unknown()).optional().describe('engine start-up parameters, used when an engine is launched'),
    labels: z.record(z.string(), z.string()).optional(),
    priority: z.number().int().min(0).max(10).optional().describe('0–10, higher runs first within a group; default 5'),
    queueTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 86400)
      .optional(),
    runTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 86400)
      .optional(),
    executeOnce: z.boolean().optional().describe('run on a fresh engine that is stopped afterwards'),
    dataSource: NAME.optional().describe('name of a registered data source'),
    executeUser: NAME.optional().describe('run the job as this user (a proxy user); only admin tokens may name another user'),
    clientLeaseSeconds: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .optional()
      .describe('cancel the job when the client stops renewing for this long (POST /jobs/{id}/lease); used by synchronous CLI runs'),
  })
  .strict();
export type SubmitJob = z.infer<typeof SubmitJobSchema>;

export const JobErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) });

/** The public view of a job. */
export const JobViewSchema = z.object({
  id: z.string(),
  state: JobStateSchema,
  user: z.string(),
  creator: z.string(),
  engineType: z.string(),
  codeType: z.string(),
  priority: z.number().int(),
  progress: z.number().min(0).max(1),
  attempt: z.number().int(),
  engineId: z.string().nullable(),
  error: JobErrorSchema.nullable(),
  resultSets: z.number().int(),
  logLines: z.number().int(),
  labels: z.record(z.string(), z.string()),
  dataSource: z.string().nullable(),
  /** Numeric id, sequential per deployment: the Linkis taskID. */
  seq: z.string(),
  clientLeaseUntil: z.string().nullable(),
  createdAt: z.string(),
  scheduledAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  updatedAt: z.string(),
});
export type JobView = z.infer<typeof JobViewSchema>;

/** A column of a result set. `type` is an upper-case SQL type name such as BIGINT or DECIMAL(18,2). */
export const ColumnSchema = z.object({ name: z.string(), type: z.string(), nullable: z.boolean().optional() });
export type Column = z.infer<typeof ColumnSchema>;

/**
 * A row is an array of JSON values in column order. Exact types travel as strings so nothing is lost:
 * BIGINT, HUGEINT and DECIMAL as decimal strings, dates and timestamps as ISO-8601 text, binary as base64.
 */
export type Row = unknown[];

export const ResultSetViewSchema = z.object({
  index: z.number().int(),
  columns: z.array(ColumnSchema),
  rows: z.number().int(),
  bytes: z.number().int(),
  truncated: z.boolean(),
});
export type ResultSetView = z.infer<typeof ResultSetViewSchema>;

/** The first rows of a result set, carried in a response that waited for the job to end. */
export const InlineResultSchema = z.object({
  resultSet: ResultSetViewSchema,
  rows: z.array(z.array(z.unknown())).describe('the first rows, as arrays in column order'),
  complete: z.boolean().describe('true when `rows` holds the whole result set; otherwise page on with GET /api/v1/jobs/{id}/results/{n}'),
});
export type InlineResult = z.infer<typeof InlineResultSchema>;

/**
 * A job as a caller that asked to wait sees it: the job, and once it has ended within the wait, the
 * first rows of each result set (`results`). Without a wait, or when the wait ran out, it is the job alone.
 */
export const JobOutcomeSchema = JobViewSchema.extend({
  results: z.array(InlineResultSchema).optional().describe('present when the job ended within the wait: the first rows of each result set'),
});
export type JobOutcome = z.infer<typeof JobOutcomeSchema>;

export const LogLineSchema = z.object({ n: z.number().int(), text: z.string() });
export type LogLine = z.infer<typeof LogLineSchema>;

/** Who is calling: the authenticated user, and whether they may see and manage everyone's jobs. */
export interface Principal {
  user: string;
  admin: boolean;
}

/** Filters of the job list. */
export const JobListQuerySchema = z.object({
  state: z
    .string()
    .optional()
    .describe('comma-separated states')
    .transform((s, ctx) => {
      if (!s) return undefined;
      const out = s.split(',').map((x) => x.trim());
      for (const x of out) if (!(JOB_STATES as readonly string[]).includes(x)) ctx.addIssue({ code: 'custom', message: `unknown state ${x}` });
      return out as JobState[];
    }),
  user: z.string().max(128).optional(),
  creator: z.string().max(128).optional(),
  engineType: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('created at or after (ISO-8601)'),
  until: z.iso.datetime({ offset: true }).optional().describe('created before (ISO-8601)'),
  cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type JobListQuery = z.infer<typeof JobListQuerySchema>;
