import { createHash } from 'node:crypto';

/** The UUID namespace under which Sluice derives run ids (UUIDv5, RFC 9562 §5.5). Never change it. */
export const SLUICE_RUN_NAMESPACE = '6f1c3b8e-2d4a-5b7c-9e1f-0a2b3c4d5e6f';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID in canonical form. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** Namespace UUIDs as bytes, parsed once each (there are one or two in a process). */
const namespaceBytes = new Map<string, Buffer>();

/** A name-based UUIDv5 (SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  let ns = namespaceBytes.get(namespace);
  if (!ns) {
    if (!isUuid(namespace)) throw new Error(`not a UUID: ${namespace}`);
    ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    if (namespaceBytes.size < 16) namespaceBytes.set(namespace, ns);
  }
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Run ids of recent jobs: a job's START and its end ask for the same one. */
const recentRunIds = new Map<string, string>();
const RECENT_RUN_IDS = 1024;

/**
 * The OpenLineage `runId` of a Sluice job: UUIDv5 of the job id in {@link SLUICE_RUN_NAMESPACE}.
 * Deterministic, so START and COMPLETE share it whichever process emits them, and a retried
 * attempt of the job stays the same run.
 */
export function runIdForJob(jobId: string): string {
  let id = recentRunIds.get(jobId);
  if (id === undefined) {
    id = uuidV5(`sluice-job:${jobId}`, SLUICE_RUN_NAMESPACE);
    if (recentRunIds.size >= RECENT_RUN_IDS) recentRunIds.delete(recentRunIds.keys().next().value as string);
    recentRunIds.set(jobId, id);
  }
  return id;
}

/**
 * The run id of a scheduler's run: kept when it is a UUID already, otherwise UUIDv5 of
 * `namespace/name/runId`, so every job of one scheduler task instance points at the same parent.
 */
export function externalRunId(namespace: string, name: string, runId: string): string {
  return isUuid(runId) ? runId.toLowerCase() : uuidV5(`external-run:${namespace}/${name}/${runId}`, SLUICE_RUN_NAMESPACE);
}
