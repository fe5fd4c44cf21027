import path from 'node:path';
import { z } from 'zod';
import { SluiceError } from './errors.ts';

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
/** A switch: exactly `true` or `false`. */
const flag = (def: boolean) =>
  z
    .enum(['true', 'false'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true');
const list = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((u) => protocols.some((p) => u.startsWith(`${p}:`)), `must start with ${protocols.join(' or ')}`)
    .optional();

/**
 * The one configuration schema of Sluice, read from the environment once at start-up. Keys are the
 * variable names so every error names the setting to fix. Defaults live here and nowhere else.
 */
export const ConfigSchema = z.object({
  SLUICE_HOME: z.string().default('.sluice').describe('directory for the embedded database, results and engine work dirs'),
  SLUICE_HOST: z.string().default('127.0.0.1').describe('address the HTTP server binds to'),
  SLUICE_PORT: int(9001, 0, 65535).describe('HTTP port (9001 is the port Linkis clients expect)'),
  DATABASE_URL: url(['postgres', 'postgresql']).describe('external PostgreSQL; unset = embedded PostgreSQL under SLUICE_HOME'),
  REDIS_URL: url(['redis', 'rediss']).describe('external Redis; set = BullMQ and the event bus on Redis'),
  SLUICE_PG_PORT: int(5433, 0, 65535).describe('PostgreSQL wire protocol listener (psql, JDBC, ODBC); 0 picks a free port'),
  SLUICE_PG_INTERACTIVE: flag(true).describe(
    'pgwire statements run at once on the engine manager of the same process, their rows streamed as they come (each is still a job); false, or no engine manager in the process: through the queue',
  ),
  SLUICE_PG_RELAY: flag(true).describe(
    'a pgwire connection to a PostgreSQL data source gets its own session, relayed byte for byte (real transactions, server-side prepared statements, binary values and catalogs; each statement still checked and recorded as a job); false: statements run one by one on shared engines. Needs SLUICE_PG_INTERACTIVE',
  ),
  SLUICE_PG_TLS_CERT_FILE: z.string().optional().describe('PEM certificate: the wire protocol listener offers TLS (and cleartext passwords over it)'),
  SLUICE_PG_TLS_KEY_FILE: z.string().optional().describe('PEM private key of SLUICE_PG_TLS_CERT_FILE'),
  SLUICE_EMBEDDED_PG_PORT: int(54329, 1, 65535).describe('port of the embedded PostgreSQL (loopback only)'),
  SLUICE_QUEUE_BACKEND: z.enum(['redis', 'postgres']).optional().describe('BullMQ backend; default redis when REDIS_URL is set, else postgres'),
  SLUICE_BUS_BACKEND: z.enum(['redis', 'postgres']).optional().describe('event bus; default redis when REDIS_URL is set, else postgres'),
  SLUICE_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .default('sluice')
    .describe('prefix of queue names and bus channels, to share one Redis'),
  SLUICE_ENGINES: list('duckdb,shell,jdbc,trino,presto,flink,spark').describe('engine connectors to load'),
  SLUICE_DEFAULT_ENGINE: z.string().default('duckdb').describe('engine used when a job names none'),
  SLUICE_MAX_CODE_BYTES: int(1024 * 1024, 1).describe('largest accepted job code'),
  SLUICE_MAX_RUNNING_PER_GROUP: int(8, 1).describe('running+scheduled jobs per (user, creator, engineType) group'),
  SLUICE_SELECT_ROW_LIMIT: int(0, 0).describe('LIMIT added to SELECTs that have none; 0 = off'),
  SLUICE_DENY_PATTERNS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const out: RegExp[] = [];
      for (const p of s
        .split(';;')
        .map((x) => x.trim())
        .filter(Boolean)) {
        try {
          out.push(new RegExp(p, 'i'));
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: `bad regular expression ${p}: ${(e as Error).message}` });
        }
      }
      return out;
    })
    .describe('statement policy: case-insensitive regular expressions separated by ";;"'),
  SLUICE_QUEUE_TIMEOUT_SECONDS: int(3600, 1).describe('default time a job may wait before it runs'),
  SLUICE_RUN_TIMEOUT_SECONDS: int(48 * 3600, 1).describe('default time a job may run'),
  SLUICE_RESULT_MAX_ROWS: int(10_000_000, 1).describe('rows a job may write across its result sets'),
  SLUICE_RESULT_MAX_BYTES: int(2 * 1024 ** 3, 1).describe('bytes a job may write across its result sets'),
  SLUICE_RESULT_INLINE_BYTES: int(16 * 1024, 0, 1024 * 1024).describe(
    'a result set up to this size (as JSON lines) is kept in the result index in PostgreSQL instead of the result store; 0 keeps every set in the store',
  ),
  SLUICE_BUS_HOLD_MS: int(5, 0, 100).describe(
    "a job's live events (status, log, rows, result) wait on the bus up to this long, so that a short job's events leave in one message batch with its end; 0 sends each at once",
  ),
  SLUICE_RUN_AHEAD: flag(true).describe(
    "a job claimed at submit may run on its user's idle engine while its submit is written, when its statement has no effect of its own (DuckDB: one SELECT that calls nothing that changes state; not for a submit with an Idempotency-Key); false: the engine only prepares it (ADR 16)",
  ),
  SLUICE_MAX_RETRIES: int(2, 0, 10).describe('retries of a job whose engine failed (not of user errors)'),
  SLUICE_ENGINE_IDLE_SECONDS: int(1800, 1).describe('idle time after which an engine is stopped'),
  SLUICE_MAX_ENGINES_PER_USER: int(4, 1).describe('engines one user may hold across all engine managers'),
  SLUICE_ENGINE_CONCURRENCY: int(1, 1, 64).describe('tasks one engine runs at once'),
  SLUICE_MANAGER_CONCURRENCY: int(32, 1, 1024).describe('jobs one engine manager runs at once'),
  SLUICE_RUN_AT_SUBMIT: flag(true).describe(
    'a job admitted at submit is claimed in the same statement by the engine manager of the same process, when it has a free slot, and runs without the queue; false, or no engine manager in the process: every job takes the queue',
  ),
  SLUICE_LEASE_MS: int(10_000, 1000).describe('how long a job or engine lease lasts without a heartbeat'),
  SLUICE_HEARTBEAT_MS: int(2_000, 100).describe('heartbeat interval of engine managers'),
  SLUICE_STALLED_MANAGER_MS: int(60_000, 0).describe(
    'how long past its lease a job stays with an engine manager that is alive but not renewing (its process and database session still there: a stall), before the job is retried elsewhere; a manager whose process or session is gone loses its jobs as soon as their lease lapses',
  ),
  SLUICE_SCHEDULER_TICK_MS: int(1_000, 50).describe('interval of the entrance reconciler (timeouts, lost jobs)'),
  SLUICE_LIVE_ROWS: int(10_000, 0).describe(
    'result rows a job publishes as it produces them, for WebSocket subscribers that ask for rows (streaming queries); 0 = off. The result store keeps every row',
  ),
  SLUICE_WS_MAX_BUFFER_BYTES: int(4 * 1024 * 1024, 1024).describe('per-connection send buffer before a slow client is closed'),
  SLUICE_SHELL_TIMEOUT_SECONDS: int(3600, 1).describe('time limit of one shell task'),
  SLUICE_SPARK_HOME: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Spark 4.x distribution of spark engines (an Apache binary release, or the pyspark/ directory of the pyspark package); unset = no driver can launch',
    ),
  SLUICE_SPARK_JAVA_HOME: z.string().min(1).optional().describe('JDK 17 or 21 that Spark drivers and spark-submit run on'),
  SLUICE_SPARK_PYTHON: z.string().min(1).default('python3').describe('Python of PySpark batch jobs and Python UDFs'),
  SLUICE_SPARK_MASTER: z
    .string()
    .regex(/^(local(\[(\*|\d+)(,\d+)?\])?|spark:\/\/\S+|yarn|k8s:\/\/\S+)$/, 'local[n], spark://host:port, yarn or k8s://…')
    .default('local[2]')
    .describe('Spark master of engines whose job names no spark data source'),
  SLUICE_SPARK_DRIVER_MEMORY: z
    .string()
    .regex(/^\d{1,7}[kmgt]?$/i, 'a size such as 512m or 2g')
    .default('1g')
    .describe('driver heap when the job asks for none'),
  SLUICE_SPARK_MAX_DRIVER_MEMORY_MB: int(4096, 256).describe('quota: largest driverMemory a job may ask for, MiB'),
  SLUICE_SPARK_MAX_DRIVER_CORES: int(4, 1).describe('quota: most driverCores (local[n] threads in local mode)'),
  SLUICE_SPARK_MAX_EXECUTOR_MEMORY_MB: int(8192, 256).describe('quota: largest executorMemory, MiB'),
  SLUICE_SPARK_MAX_EXECUTOR_CORES: int(4, 1).describe('quota: most executorCores'),
  SLUICE_SPARK_MAX_EXECUTORS: int(20, 1).describe('quota: most numExecutors'),
  SLUICE_SPARK_CONF: z
    .string()
    .default('{}')
    .refine((s) => {
      try {
        const v: unknown = JSON.parse(s);
        return Boolean(v) && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string');
      } catch {
        return false;
      }
    }, 'a JSON object of Spark settings with string values, e.g. {"spark.sql.shuffle.partitions":"8"}')
    .describe('JSON object of Spark configuration applied to every spark engine (any key; set by the deployment, not by jobs)'),
  SLUICE_SPARK_UI: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Spark web UI of the drivers (it listens on all interfaces of a cluster driver)'),
  SLUICE_SPARK_LOG_LEVEL: z.enum(['ALL', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'OFF']).default('WARN').describe('log4j level of the drivers'),
  SLUICE_SPARK_BATCH_FILE_ROOTS: list('').describe(
    'directories (comma-separated) that runtimeParams.file of a Spark batch job may name; empty = only code sent with the job',
  ),
  SLUICE_SPARK_LAUNCH_TIMEOUT_SECONDS: int(180, 1).describe('time a Spark driver may take to start'),
  SLUICE_SPARK_SHARE_LEVEL: z
    .enum(['CONNECTION', 'USER', 'GROUP', 'SERVER'])
    .default('USER')
    .describe(
      'who shares a spark engine when startupParams.shareLevel of the job names none: CONNECTION (each job), USER, GROUP (per group label or creator), SERVER (all)',
    ),
  SLUICE_SPARK_SERVICE_USER: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'letters, digits and _ . @ - only')
    .default('sluice')
    .describe('identity (SPARK_USER) of spark engines shared beyond one user (GROUP and SERVER share levels)'),
  SLUICE_MASTER_KEYS: z
    .string()
    .optional()
    .describe('master keys protecting data-source secrets: id:base64(32 bytes)[,id:…], first active; required in production'),
  SLUICE_DATASOURCE_TEST_TIMEOUT_MS: int(10_000, 100, 120_000).describe('time limit of a data-source connection test'),
  SLUICE_LINEAGE_NAMESPACE: z.string().min(1).max(256).default('sluice').describe('OpenLineage namespace of Sluice jobs'),
  SLUICE_LINEAGE_TRANSPORT: z
    .enum(['none', 'http', 'atlas', 'console', 'file'])
    .default('none')
    .describe('where lineage events are delivered; events are kept in the outbox and the built-in view either way'),
  SLUICE_LINEAGE_URL: z.string().url().optional().describe('OpenLineage API (e.g. Marquez http://host:5000) or Apache Atlas base URL'),
  SLUICE_LINEAGE_ENDPOINT: z.string().optional().describe('path of the OpenLineage endpoint (default /api/v1/lineage)'),
  SLUICE_LINEAGE_API_KEY: z.string().optional().describe('bearer token for the lineage receiver (secret)'),
  SLUICE_LINEAGE_TIMEOUT_MS: int(10_000, 100, 600_000).describe('time limit of one delivery'),
  SLUICE_LINEAGE_FILE: z.string().optional().describe('file that the file transport appends events to'),
  SLUICE_LINEAGE_PARSER: z
    .enum(['auto', 'dt-sql-parser', 'built-in'])
    .default('auto')
    .describe('SQL parser of lineage extraction: dt-sql-parser with the built-in parser as fallback (auto), or only one of them (docs/adr/0006)'),
  SLUICE_LINEAGE_WORKERS: int(1, 0, 16).describe('worker threads that parse SQL for lineage off the event loop; 0 parses inline (debugging only)'),
  SLUICE_LINEAGE_WORKER_IDLE_MS: int(60_000, 0, 86_400_000).describe(
    'a lineage worker with no SQL to parse for this long is stopped, giving back the memory of its grammars; the next job starts one that loads only the grammar it needs (0 keeps workers for good)',
  ),
  SLUICE_LINEAGE_EXTRACT_TIMEOUT_MS: int(10_000, 100, 600_000).describe(
    'time one script may take in a lineage worker; past it the job gets an extraction error and the worker is replaced',
  ),
  SLUICE_LINEAGE_INTERACTIVE: z
    .enum(['datasets', 'all'])
    .default('datasets')
    .describe(
      "which interactive (pgwire) statements emit OpenLineage events: those that read or write a dataset (datasets), or every one, a BI tool's keep-alive SELECT 1 included (all); every statement is recorded as a job either way (docs/adr/0018)",
    ),
  SLUICE_LINEAGE_RETENTION_HOURS: int(168, 0, 87_600).describe(
    'hours a delivered lineage event stays in the outbox before the dispatcher deletes it (0 keeps them); the lineage graph is kept apart',
  ),
  SLUICE_ATLAS_USERNAME: z.string().optional().describe('Apache Atlas user'),
  SLUICE_ATLAS_PASSWORD: z.string().optional().describe('Apache Atlas password (secret)'),
  SLUICE_LINKIS_ENGINE_MAP: z
    .string()
    .optional()
    .describe('JSON map of Linkis engineType labels onto Sluice engines and data sources (docs/linkis-compatibility.md)'),
  SLUICE_ADMIN_USER: z.string().default('admin').describe('user of the token printed by the embedded default'),
  SLUICE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SLUICE_HEAP_GROWING_PERCENT: int(25, 0, 400).describe(
    "how far V8 lets the heap grow past the live data before a full collection, in percent (V8's --heap-growing-percent); low keeps a process's memory near what it really holds, at a little more GC work; 0 keeps V8's own heuristics",
  ),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

/** Parsed configuration plus derived values. */
export interface Config extends RawConfig {
  home: string;
  queueBackend: 'redis' | 'postgres';
  busBackend: 'redis' | 'postgres';
  embedded: boolean;
}

/** Parses the environment; throws SLUICE_CONFIG_INVALID naming the first bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = ConfigSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = String(issue?.path[0] ?? 'unknown');
    throw new SluiceError('SLUICE_CONFIG_INVALID', { setting, reason: issue?.message ?? 'invalid' });
  }
  const raw = parsed.data;
  const needRedis = (b: 'redis' | 'postgres' | undefined) => b === 'redis';
  for (const key of ['SLUICE_QUEUE_BACKEND', 'SLUICE_BUS_BACKEND'] as const) {
    if (needRedis(raw[key]) && !raw.REDIS_URL) {
      throw new SluiceError('SLUICE_CONFIG_INVALID', { setting: key, reason: 'redis needs REDIS_URL' });
    }
  }
  if (!raw.SLUICE_ENGINES.includes(raw.SLUICE_DEFAULT_ENGINE)) {
    throw new SluiceError('SLUICE_CONFIG_INVALID', {
      setting: 'SLUICE_DEFAULT_ENGINE',
      reason: `must be one of SLUICE_ENGINES (${raw.SLUICE_ENGINES.join(', ')})`,
    });
  }
  const fallback = raw.REDIS_URL ? 'redis' : 'postgres';
  return {
    ...raw,
    home: path.resolve(raw.SLUICE_HOME),
    queueBackend: raw.SLUICE_QUEUE_BACKEND ?? fallback,
    busBackend: raw.SLUICE_BUS_BACKEND ?? fallback,
    embedded: !raw.DATABASE_URL,
  };
}

/** Rows for the README's configuration table: name, default and description. */
export function describeConfig(): { name: string; default: string; description: string }[] {
  return Object.entries(ConfigSchema.shape).map(([name, schema]) => {
    let def = '';
    const probe = (schema as z.ZodType).safeParse(undefined);
    if (probe.success && probe.data !== undefined) def = Array.isArray(probe.data) ? probe.data.join(',') : String(probe.data);
    return { name, default: def, description: (schema as z.ZodType).description ?? '' };
  });
}
