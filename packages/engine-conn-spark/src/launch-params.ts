import { SluiceError } from '@sluice/core';
import { z } from 'zod';
import { parseShareLevel, SPARK_SHARE_LEVELS } from './share-level.ts';

/** The caps a job's start-up parameters must stay within; set per deployment. */
export interface SparkQuota {
  /** Largest driver heap, MiB (default 4096). */
  maxDriverMemoryMb: number;
  /** Most driver cores; in local mode also the worker threads of `local[n]` (default 4). */
  maxDriverCores: number;
  /** Largest executor heap, MiB (default 8192). */
  maxExecutorMemoryMb: number;
  /** Most cores per executor (default 4). */
  maxExecutorCores: number;
  /** Most executors (default 20). */
  maxExecutors: number;
}

/** The default quota: a modest engine per user. */
export const DEFAULT_SPARK_QUOTA: SparkQuota = {
  maxDriverMemoryMb: 4096,
  maxDriverCores: 4,
  maxExecutorMemoryMb: 8192,
  maxExecutorCores: 4,
  maxExecutors: 20,
};

/**
 * Spark configuration keys a job may set at launch (start-up params `conf`) or per task (runtime
 * params `conf`): SQL, execution and tuning settings. Anything about where and how the driver runs,
 * its network, security, class path or files is reserved to the connector and refused.
 */
export const ALLOWED_CONF_PREFIXES: readonly string[] = [
  'spark.sql.',
  'spark.default.parallelism',
  'spark.shuffle.',
  'spark.memory.',
  'spark.serializer',
  'spark.kryo',
  'spark.rdd.',
  'spark.broadcast.',
  'spark.io.compression.',
  'spark.speculation',
  'spark.task.maxFailures',
  'spark.locality.wait',
  'spark.scheduler.mode',
  'spark.dynamicAllocation.',
  'spark.executor.memoryOverhead',
  'spark.app.name',
];

/** Keys refused even under an allowed prefix: they move files or the catalog outside the engine. */
export const DENIED_CONF_KEYS: readonly string[] = [
  'spark.sql.warehouse.dir',
  'spark.sql.catalogImplementation',
  'spark.sql.extensions',
  'spark.sql.hive.metastore.jars',
  'spark.sql.hive.metastore.jars.path',
  'spark.sql.streaming.checkpointLocation',
  'spark.sql.artifact.copyFromLocalToFs.allowDestLocal',
  'spark.sql.connect.serverStacktrace.enabled',
];

const MEMORY = /^(\d{1,7})([kmgt])?$/i;

/** `512m`, `2g`, `2048` (MiB) → MiB; undefined when the text is not a size. */
export function memoryMb(text: string): number | undefined {
  const m = MEMORY.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  switch ((m[2] ?? 'm').toLowerCase()) {
    case 'k':
      return Math.ceil(n / 1024);
    case 'm':
      return n;
    case 'g':
      return n * 1024;
    default:
      return n * 1024 * 1024;
  }
}

const memory = z
  .string()
  .max(16)
  .refine((v) => memoryMb(v) !== undefined, 'a size such as 512m or 2g');

/** Whether a Spark configuration key may be set by a job. */
export function isAllowedConfKey(key: string, extraPrefixes: readonly string[] = []): boolean {
  if (DENIED_CONF_KEYS.includes(key)) return false;
  return [...ALLOWED_CONF_PREFIXES, ...extraPrefixes].some((prefix) => key.startsWith(prefix));
}

/** A `conf` map as jobs give it: string keys and string (or number/boolean, stringified) values. */
export const SparkConfSchema = z.record(
  z
    .string()
    .min(1)
    .max(200)
    .regex(/^spark\.[A-Za-z0-9_.-]+$/, 'a Spark configuration key such as spark.sql.shuffle.partitions'),
  z.union([z.string().max(4096), z.number(), z.boolean()]).transform((v) => String(v)),
);

/** The start-up parameters of a Spark engine (the job's `startupParams`); other keys are refused. */
export const SparkStartupParamsSchema = z
  .object({
    /** Driver heap, e.g. `1g`. */
    driverMemory: memory.optional(),
    /** Driver cores; in local mode the number of worker threads. */
    driverCores: z.number().int().positive().optional(),
    /** Executor heap on a cluster master. */
    executorMemory: memory.optional(),
    /** Cores per executor on a cluster master. */
    executorCores: z.number().int().positive().optional(),
    /** Executors on a cluster master. */
    numExecutors: z.number().int().positive().optional(),
    /** Spark configuration (allowed keys only). */
    conf: SparkConfSchema.optional(),
    /** A YARN queue, for a `yarn` master. */
    queue: z.string().max(200).optional(),
    /** Who shares the engine (CONNECTION, USER, GROUP, SERVER); the connector's default when absent. */
    shareLevel: z
      .string()
      .max(16)
      .refine((v) => parseShareLevel(v) !== undefined, `one of ${SPARK_SHARE_LEVELS.join(', ')}`)
      .optional(),
  })
  .strict();

/** Validated start-up parameters. */
export type SparkStartupParams = z.infer<typeof SparkStartupParamsSchema>;

/** How one engine's driver is launched, after validation and defaults. */
export interface DriverSettings {
  master: string;
  local: boolean;
  driverMemory: string;
  driverCores: number;
  /** `spark-submit` options besides `--conf`, e.g. `--executor-memory 2g`. */
  submitArgs: string[];
  /** Spark configuration from the job and the data source, checked. */
  conf: Record<string, string>;
}

function invalid(summary: string): SluiceError {
  return new SluiceError('SLUICE_REQUEST_INVALID', { summary: `spark startup params: ${summary}` });
}

/** Checks every key of a job's conf map against the allowed keys; throws SLUICE_REQUEST_INVALID. */
export function checkConf(conf: Record<string, string>, what: string, extraPrefixes: readonly string[] = []): Record<string, string> {
  for (const key of Object.keys(conf)) {
    if (!isAllowedConfKey(key, extraPrefixes)) {
      throw new SluiceError('SLUICE_REQUEST_INVALID', { summary: `${what}: Spark configuration ${key} may not be set by a job` });
    }
  }
  return conf;
}

/** Whether a master URL runs everything inside the driver (`local`, `local[n]`, `local[*]`, `local[n,m]`). */
export function isLocalMaster(master: string): boolean {
  return /^local(\[(\*|\d+)(,\d+)?\])?$/.test(master);
}

/**
 * Validates a job's start-up params against the schema and the quota, and resolves the driver's
 * settings: the data source's master (else the default), memory and cores. Invalid or over-quota
 * params are the job's fault: SLUICE_REQUEST_INVALID, a user error that is not retried.
 */
export function resolveDriverSettings(
  params: Record<string, unknown>,
  opts: { quota: SparkQuota; defaultMaster: string; defaultDriverMemory: string; master?: string; dataSourceConf?: Record<string, string> },
): DriverSettings {
  const parsed = SparkStartupParamsSchema.safeParse(params);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; '));
  }
  const p = parsed.data;
  const { quota } = opts;
  const driverMemory = p.driverMemory ?? opts.defaultDriverMemory;
  const driverMb = memoryMb(driverMemory) as number;
  if (driverMb > quota.maxDriverMemoryMb) throw invalid(`driverMemory ${driverMemory} is more than the quota of ${quota.maxDriverMemoryMb}m`);
  if (driverMb < 256) throw invalid(`driverMemory ${driverMemory} is less than 256m`);
  const master = opts.master ?? opts.defaultMaster;
  const local = isLocalMaster(master);
  const localThreads = /^local\[(\d+)/.exec(master)?.[1];
  const driverCores = p.driverCores ?? (localThreads ? Number(localThreads) : 1);
  if (driverCores > quota.maxDriverCores) throw invalid(`driverCores ${driverCores} is more than the quota of ${quota.maxDriverCores}`);
  const submitArgs: string[] = [];
  if (p.executorMemory !== undefined) {
    const mb = memoryMb(p.executorMemory) as number;
    if (mb > quota.maxExecutorMemoryMb) throw invalid(`executorMemory ${p.executorMemory} is more than the quota of ${quota.maxExecutorMemoryMb}m`);
    submitArgs.push('--executor-memory', p.executorMemory);
  }
  if (p.executorCores !== undefined) {
    if (p.executorCores > quota.maxExecutorCores) throw invalid(`executorCores ${p.executorCores} is more than the quota of ${quota.maxExecutorCores}`);
    submitArgs.push('--executor-cores', String(p.executorCores));
  }
  if (p.numExecutors !== undefined) {
    if (p.numExecutors > quota.maxExecutors) throw invalid(`numExecutors ${p.numExecutors} is more than the quota of ${quota.maxExecutors}`);
    submitArgs.push('--num-executors', String(p.numExecutors));
  }
  if (p.queue !== undefined) submitArgs.push('--queue', p.queue);
  if (!local) submitArgs.push('--driver-cores', String(driverCores));
  const jobConf = checkConf(p.conf ?? {}, 'spark startup params');
  // In local mode the thread count is the driver's cores; an explicit driverCores wins over local[n].
  const effectiveMaster = local && p.driverCores !== undefined ? `local[${driverCores}]` : master;
  return { master: effectiveMaster, local, driverMemory, driverCores, submitArgs, conf: { ...(opts.dataSourceConf ?? {}), ...jobConf } };
}
