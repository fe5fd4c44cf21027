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

let ready: Promise<FlinkServer> | undefined;

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

async function start(): Promise<FlinkServer> {
  const given = process.env.FLINK_GATEWAY_URL;
  if (given) return { gatewayUrl: given, restUrl: process.env.FLINK_REST_URL ?? 'http://127.0.0.1:18081' };
  // Unless FLINK_GATEWAY_URL names a running gateway, start ours (the first run assembles Flink: minutes).
  const script = path.join(root, 'scripts/engines/flink.sh');
  const { stdout } = await run('bash', [script, 'start'], { maxBuffer: 1 << 20, timeout: 15 * 60_000 });
  const env = parseExports(stdout);
  if (!env.FLINK_GATEWAY_URL || !env.FLINK_REST_URL) throw new Error(`flink.sh start printed no FLINK_GATEWAY_URL / FLINK_REST_URL: ${stdout}`);
  return { gatewayUrl: env.FLINK_GATEWAY_URL, restUrl: env.FLINK_REST_URL };
}

/** Makes sure the test Flink (JobManager, TaskManager, SQL Gateway) runs, once per process, and says where. */
export function ensureFlink(): Promise<FlinkServer> {
  ready ??= start();
  return ready;
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
