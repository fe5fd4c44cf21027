import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DataSourceConnection } from '@sluice/core';
import { FLINK_DATASOURCE_TYPE, flinkSecretFields } from '../src/index.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the real Flink of the tests is, as scripts/engines/flink.sh reports it. */
export interface FlinkServer {
  /** SQL Gateway REST endpoint. */
  gatewayUrl: string;
  /** The cluster's REST API (JobManager). */
  restUrl: string;
}

const script = path.join(root, 'scripts/engines/flink.sh');

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

async function flinkSh(command: 'start' | 'env' | 'diagnose'): Promise<string> {
  const { stdout, stderr } = await run('bash', [script, command], { maxBuffer: 4 << 20, timeout: 15 * 60_000 });
  // What `start` did (started or restarted the cluster, or why it could not) belongs in the run's log.
  if (command === 'start' && stderr) process.stderr.write(stderr);
  return stdout;
}

function serverOf(exports: Record<string, string>, what: string): FlinkServer {
  if (!exports.FLINK_GATEWAY_URL || !exports.FLINK_REST_URL) throw new Error(`flink.sh ${what} printed no FLINK_GATEWAY_URL / FLINK_REST_URL`);
  return { gatewayUrl: exports.FLINK_GATEWAY_URL, restUrl: exports.FLINK_REST_URL };
}

/**
 * `flink.sh status`: every JVM of the script's cluster lives, the JobManager has a TaskManager and the
 * gateway answers. The JVMs are checked by pid: a JobManager goes on counting a killed TaskManager
 * until its heartbeat times out, and takes jobs it cannot run meanwhile.
 */
async function whole(): Promise<boolean> {
  try {
    await run('bash', [script, 'status'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

let own: Promise<FlinkServer> | undefined;
let pending: Promise<FlinkServer> | undefined;

async function ensureOwn(): Promise<FlinkServer> {
  own ??= flinkSh('env').then((out) => serverOf(parseExports(out), 'env'));
  const server = await own;
  const given = process.env.FLINK_GATEWAY_URL;
  // FLINK_GATEWAY_URL naming another Flink: the tests use it as it is and never restart it.
  if (given && given !== server.gatewayUrl) return { gatewayUrl: given, restUrl: process.env.FLINK_REST_URL ?? 'http://127.0.0.1:18081' };
  if (await whole()) return server;
  const diagnosis = await flinkSh('diagnose').catch((e: Error) => e.message);
  if (/: running \(pid/.test(diagnosis)) {
    // Some of it runs, so it ran whole once: a JVM died or the TaskManager dropped out. Say so loudly.
    process.stderr.write(
      `\n[flink fixture] the test Flink is not whole (flink.sh status); its state, then flink.sh start, which restarts it if a JVM died:\n${diagnosis}\n`,
    );
  }
  return serverOf(parseExports(await flinkSh('start')), 'start');
}

/**
 * Makes sure the test Flink (JobManager, TaskManager, SQL Gateway) runs whole, and says where: the
 * project script's cluster, started when it does not run, or the Flink FLINK_GATEWAY_URL names when
 * that is another one. Cheap when the cluster is whole, so suites call it before each test: a cluster
 * that lost a JVM is diagnosed to stderr and restarted, and fails the test it happened in, not every
 * later one.
 */
export function ensureFlink(): Promise<FlinkServer> {
  pending ??= ensureOwn().finally(() => {
    pending = undefined;
  });
  return pending;
}

/** A `flink-sql-gateway` data source on the test gateway, following jobs on the test cluster. */
export function flinkDataSource(server: FlinkServer, params: Record<string, unknown> = {}, name = 'test_flink'): DataSourceConnection {
  return {
    name,
    type: FLINK_DATASOURCE_TYPE,
    version: 1,
    params: { gatewayUrl: server.gatewayUrl, restUrl: server.restUrl, ...params },
    secretFields: flinkSecretFields,
  };
}

/** GET /jobs/:id on the cluster's REST API: the cluster's own record of a job. */
export async function jobState(server: FlinkServer, jobId: string): Promise<string> {
  const res = await fetch(`${server.restUrl}/jobs/${jobId}`);
  if (res.status !== 200) throw new Error(`GET /jobs/${jobId}: HTTP ${res.status}`);
  return ((await res.json()) as { state: string }).state;
}

/** Polls a job until its state is one of `states` (or `timeoutMs` passes) and returns the last state. */
export async function waitForJobState(server: FlinkServer, jobId: string, states: readonly string[], timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobState(server, jobId);
    if (states.includes(state) || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * For every subtask of a job, the states it went through, in order of their timestamps (from
 * `GET /jobs/:id/vertices/:vid/subtasktimes`), e.g. `CREATED>SCHEDULED>DEPLOYING>INITIALIZING>RUNNING>CANCELING>CANCELED`.
 */
export async function subtaskStateSequences(server: FlinkServer, jobId: string): Promise<string[]> {
  const job = (await (await fetch(`${server.restUrl}/jobs/${jobId}`)).json()) as { vertices: { id: string }[] };
  const out: string[] = [];
  for (const vertex of job.vertices) {
    const times = (await (await fetch(`${server.restUrl}/jobs/${jobId}/vertices/${vertex.id}/subtasktimes`)).json()) as {
      subtasks: { timestamps: Record<string, number> }[];
    };
    for (const subtask of times.subtasks) {
      const reached = Object.entries(subtask.timestamps).filter(([, at]) => at > 0);
      out.push(
        reached
          .sort((a, b) => a[1] - b[1])
          .map(([state]) => state)
          .join('>'),
      );
    }
  }
  return out;
}
