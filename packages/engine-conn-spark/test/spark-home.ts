import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SparkConnectorOptions } from '../src/index.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The Spark distribution of the tests, as scripts/engines/spark.sh reports it. */
export interface TestSpark {
  sparkHome: string;
  javaHome: string;
  python: string;
  version: string;
}

let ready: Promise<TestSpark> | undefined;

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/**
 * Makes sure Spark is installed in the engine cache (scripts/engines/spark.sh fetches pyspark from
 * PyPI on the first run: minutes) and says where it is. Once per process.
 */
export function ensureSpark(): Promise<TestSpark> {
  ready ??= (async () => {
    const { stdout } = await run('bash', [path.join(root, 'scripts/engines/spark.sh'), 'env'], { maxBuffer: 1 << 20, timeout: 20 * 60_000 });
    const env = parseExports(stdout);
    if (!env.SPARK_HOME || !env.SPARK_JAVA_HOME) throw new Error(`scripts/engines/spark.sh env printed no SPARK_HOME: ${stdout}`);
    return { sparkHome: env.SPARK_HOME, javaHome: env.SPARK_JAVA_HOME, python: env.SPARK_PYTHON ?? 'python3', version: env.SPARK_VERSION ?? '' };
  })();
  return ready;
}

/**
 * Connector options for the tests: modest drivers (other JVMs may share the 2-core machine), few
 * shuffle partitions, a launch timeout that tolerates a loaded machine.
 */
export async function testConnectorOptions(more: Partial<SparkConnectorOptions> = {}): Promise<SparkConnectorOptions> {
  const spark = await ensureSpark();
  return {
    sparkHome: spark.sparkHome,
    javaHome: spark.javaHome,
    python: spark.python,
    defaultMaster: 'local[2]',
    defaultDriverMemory: '640m',
    conf: { 'spark.sql.shuffle.partitions': '4', 'spark.driver.extraJavaOptions': '-XX:+UseSerialGC -XX:TieredStopAtLevel=1' },
    launchTimeoutMs: 240_000,
    closeGraceMs: 5_000,
    ...more,
  };
}

/** A Spark standalone cluster on 127.0.0.1, as scripts/engines/spark.sh start reports it. */
export interface TestSparkCluster extends TestSpark {
  /** `spark://127.0.0.1:<port>`. */
  masterUrl: string;
  /** The Master's web UI, whose `/json/` lists workers and applications. */
  masterWebUi: string;
}

let cluster: Promise<TestSparkCluster> | undefined;

/** Starts (or reuses) the standalone cluster of scripts/engines/spark.sh: one Master, one Worker. Once per process. */
export function ensureSparkCluster(): Promise<TestSparkCluster> {
  cluster ??= (async () => {
    const spark = await ensureSpark();
    const { stdout } = await run('bash', [path.join(root, 'scripts/engines/spark.sh'), 'start'], { maxBuffer: 1 << 20, timeout: 10 * 60_000 });
    const env = parseExports(stdout);
    if (!env.SPARK_MASTER_URL || !env.SPARK_MASTER_WEBUI) throw new Error(`scripts/engines/spark.sh start printed no SPARK_MASTER_URL: ${stdout}`);
    return { ...spark, masterUrl: env.SPARK_MASTER_URL, masterWebUi: env.SPARK_MASTER_WEBUI };
  })();
  return cluster;
}

/** SLUICE_* settings of a test deployment whose catalog builds the spark connector from the configuration. */
export async function testSparkSettings(): Promise<Record<string, string>> {
  const spark = await ensureSpark();
  return {
    SLUICE_SPARK_HOME: spark.sparkHome,
    SLUICE_SPARK_JAVA_HOME: spark.javaHome,
    SLUICE_SPARK_PYTHON: spark.python,
    SLUICE_SPARK_DRIVER_MEMORY: '640m',
    SLUICE_SPARK_CONF: JSON.stringify({ 'spark.sql.shuffle.partitions': '4', 'spark.driver.extraJavaOptions': '-XX:+UseSerialGC -XX:TieredStopAtLevel=1' }),
    SLUICE_SPARK_LAUNCH_TIMEOUT_SECONDS: '240',
  };
}
