import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { findConnectJar } from './connect-protos.ts';

/** A Spark distribution and the runtimes it runs with. */
export interface SparkInstall {
  sparkHome: string;
  javaHome: string;
  /** Python for PySpark batch jobs and Python UDFs. */
  python: string;
  /** The Spark Connect server jar; its name gives the version the protocol guard checks. */
  connectJar: string;
  /** Spark version of the distribution, from the connect jar's name, e.g. `4.1.4`. */
  sparkVersion: string;
}

/** Where the distribution and runtimes are; `sparkHome` and `javaHome` are required to launch. */
export interface SparkInstallOptions {
  sparkHome?: string;
  javaHome?: string;
  python?: string;
}

/**
 * Checks a Spark 4.x distribution (pyspark's bundled one or an Apache binary release): bin/spark-submit,
 * the connect jar, and a java binary. Throws an Error naming what is missing.
 */
export async function resolveInstall(options: SparkInstallOptions): Promise<SparkInstall> {
  if (!options.sparkHome) throw new Error('no Spark distribution configured (sparkHome; scripts/engines/spark.sh fetch installs one)');
  if (!options.javaHome) throw new Error('no Java runtime configured for Spark (javaHome: a JDK 17 or 21)');
  const sparkHome = path.resolve(options.sparkHome);
  const javaHome = path.resolve(options.javaHome);
  try {
    await access(path.join(sparkHome, 'bin', 'spark-submit'), constants.X_OK);
  } catch {
    throw new Error(`${sparkHome}/bin/spark-submit is missing or not executable`);
  }
  try {
    await access(path.join(javaHome, 'bin', 'java'), constants.X_OK);
  } catch {
    throw new Error(`${javaHome}/bin/java is missing or not executable`);
  }
  const connectJar = await findConnectJar(sparkHome);
  const sparkVersion = /spark-connect_[\d.]+-(.+)\.jar$/.exec(path.basename(connectJar))?.[1] ?? 'unknown';
  return { sparkHome, javaHome, python: options.python ?? 'python3', connectJar, sparkVersion };
}
