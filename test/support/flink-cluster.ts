import { ensureFlink } from '../../packages/engine-conn-flink/test/flink-server.ts';

/** The real Flink of the cross-app tests: its SQL Gateway and the JobManager's REST API. */
export interface FlinkCluster {
  gatewayUrl: string;
  restUrl: string;
}

/**
 * Makes sure Flink (JobManager, TaskManager, SQL Gateway) runs and says where: the connector tests'
 * fixture, which starts the project script's cluster, or uses the one FLINK_GATEWAY_URL names.
 */
export function ensureFlinkCluster(): Promise<FlinkCluster> {
  return ensureFlink();
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
