import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real Flink of the cross-app tests: its SQL Gateway and the JobManager's REST API. */
export interface FlinkCluster {
  gatewayUrl: string;
  restUrl: string;
}

let ready: Promise<FlinkCluster> | undefined;

async function start(): Promise<FlinkCluster> {
  const given = process.env.FLINK_GATEWAY_URL;
  if (given) return { gatewayUrl: given, restUrl: process.env.FLINK_REST_URL ?? 'http://127.0.0.1:18081' };
  // Unless FLINK_GATEWAY_URL names a running gateway, the project script starts one (the first run assembles Flink: minutes).
  const { stdout } = await run('bash', [path.join(root, 'scripts/engines/flink.sh'), 'start'], { maxBuffer: 1 << 20, timeout: 15 * 60_000 });
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2];
  }
  if (!env.FLINK_GATEWAY_URL || !env.FLINK_REST_URL) throw new Error(`flink.sh start printed no FLINK_GATEWAY_URL / FLINK_REST_URL: ${stdout}`);
  return { gatewayUrl: env.FLINK_GATEWAY_URL, restUrl: env.FLINK_REST_URL };
}

/** Makes sure Flink (JobManager, TaskManager, SQL Gateway) runs, once per test process, and says where. */
export function ensureFlinkCluster(): Promise<FlinkCluster> {
  ready ??= start();
  return ready;
}

/** The cluster's own record of a job's state (`GET /jobs/:id` on the REST API). */
export async function flinkJobState(cluster: FlinkCluster, jobId: string): Promise<string> {
  const res = await fetch(`${cluster.restUrl}/jobs/${jobId}`);
  if (res.status !== 200) throw new Error(`GET /jobs/${jobId}: HTTP ${res.status}`);
  return ((await res.json()) as { state: string }).state;
}

/** Polls a Flink job until its state is one of `states` or `timeoutMs` passes; returns the last state seen. */
export async function waitForFlinkJob(cluster: FlinkCluster, jobId: string, states: readonly string[], timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await flinkJobState(cluster, jobId);
    if (states.includes(state) || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Cancels a Flink job directly on the cluster (`PATCH /jobs/:id?mode=cancel`), as an operator would. */
export async function cancelFlinkJob(cluster: FlinkCluster, jobId: string): Promise<void> {
  const res = await fetch(`${cluster.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
  if (res.status >= 300) throw new Error(`PATCH /jobs/${jobId}: HTTP ${res.status}`);
}

/** The Flink job ids a job log names (`Flink job <32 hex> …`), in order of first mention. */
export function flinkJobIdsIn(lines: readonly string[]): string[] {
  const ids: string[] = [];
  for (const line of lines) {
    for (const m of line.matchAll(/Flink job ([0-9a-f]{32})/g)) if (m[1] && !ids.includes(m[1])) ids.push(m[1]);
  }
  return ids;
}
