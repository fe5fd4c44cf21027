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
