import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SparkInstall } from './spark-install.ts';

/** Logger of the Spark Connect server whose INFO line says on which port it listens. */
export const CONNECT_SERVER_LOGGER = 'org.apache.spark.sql.connect.service';

/**
 * log4j2 settings of every driver: warnings and errors to stderr, plus the Connect server's start-up
 * line; Spark's INFO chatter stays out of the job log.
 */
export function log4jProperties(level: string): string {
  return [
    `rootLogger.level = ${level}`,
    'rootLogger.appenderRef.stderr.ref = console',
    'appender.console.type = Console',
    'appender.console.name = console',
    'appender.console.target = SYSTEM_ERR',
    'appender.console.layout.type = PatternLayout',
    'appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex',
    'logger.connect.name = org.apache.spark.sql.connect.service.SparkConnectServer',
    'logger.connect.level = info',
    // Spark's own shutdown hooks log at WARN when a driver is stopped by a signal; not an error.
    'logger.hooks.name = org.apache.spark.util.ShutdownHookManager',
    'logger.hooks.level = error',
    '',
  ].join('\n');
}

/** The directories of one engine (or batch run) under its work directory. */
export interface SubmitDirs {
  root: string;
  conf: string;
  tmp: string;
  warehouse: string;
}

/** Creates conf/ (with log4j2.properties), tmp/ and warehouse/ under `root`. */
export async function prepareDirs(root: string, logLevel: string): Promise<SubmitDirs> {
  const dirs = { root, conf: path.join(root, 'conf'), tmp: path.join(root, 'tmp'), warehouse: path.join(root, 'warehouse') };
  await mkdir(dirs.conf, { recursive: true });
  await mkdir(dirs.tmp, { recursive: true });
  await mkdir(dirs.warehouse, { recursive: true });
  await writeFile(path.join(dirs.conf, 'log4j2.properties'), log4jProperties(logLevel));
  return dirs;
}

/**
 * The environment of spark-submit: nothing of the manager's beyond PATH, so no credential or
 * setting of the server leaks into user code. SPARK_USER names the Sluice user inside Spark.
 */
export function submitEnv(install: SparkInstall, dirs: SubmitDirs, user: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${path.join(install.javaHome, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dirs.root,
    LANG: 'C.UTF-8',
    JAVA_HOME: install.javaHome,
    SPARK_HOME: install.sparkHome,
    SPARK_CONF_DIR: dirs.conf,
    SPARK_LOCAL_IP: '127.0.0.1',
    SPARK_USER: user,
    PYSPARK_PYTHON: install.python,
    PYSPARK_DRIVER_PYTHON: install.python,
    TMPDIR: dirs.tmp,
    // Spark's scratch space (shuffle files, spills); as an environment variable it is not overridden.
    SPARK_LOCAL_DIRS: dirs.tmp,
  };
  return env;
}

/** `--conf k=v` arguments, in key order. */
export function confArgs(conf: Record<string, string>): string[] {
  return Object.keys(conf)
    .sort()
    .flatMap((key) => ['--conf', `${key}=${conf[key]}`]);
}

/**
 * Spark settings that keep a driver on this host's loopback, in its own directories. The driver's
 * Java options of `conf` are kept, with the temporary and Derby directories added.
 */
export function localDriverConf(dirs: SubmitDirs, ui: boolean, conf: Record<string, string> = {}): Record<string, string> {
  const javaOptions = [conf['spark.driver.extraJavaOptions'], `-Djava.io.tmpdir=${dirs.tmp}`, `-Dderby.system.home=${dirs.root}`].filter(Boolean).join(' ');
  return {
    'spark.ui.enabled': String(ui),
    'spark.driver.host': '127.0.0.1',
    'spark.driver.bindAddress': '127.0.0.1',
    'spark.sql.warehouse.dir': dirs.warehouse,
    'spark.driver.extraJavaOptions': javaOptions,
  };
}
