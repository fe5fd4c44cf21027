import { externalRunId } from './run-id.ts';

/**
 * Job labels a scheduler sets to link its task to the Sluice jobs it runs (ParentRunFacet). A
 * DolphinScheduler Linkis task, for example, passes its project as the namespace, `workflow.task` as
 * the name and the task instance id as the run id.
 */
export const LINEAGE_LABELS = {
  /** Namespace of the parent (scheduler) job, e.g. `dolphinscheduler://host:12345`. */
  parentJobNamespace: 'parentJobNamespace',
  /** Name of the parent job, e.g. `etl_workflow.load_orders`. */
  parentJobName: 'parentJobName',
  /** The parent run's id: a UUID, or any id (a task instance number) mapped to a UUIDv5. */
  parentRunId: 'parentRunId',
  /** Optional root of the hierarchy (the workflow run): namespace, name and run id. */
  rootJobNamespace: 'rootJobNamespace',
  rootJobName: 'rootJobName',
  rootRunId: 'rootRunId',
  /** A stable OpenLineage job name for this job (otherwise derived from the parent or the job id). */
  jobName: 'lineageJobName',
} as const;

/** The parent (and root) run a job belongs to, read from its labels. */
export interface ParentRef {
  job: { namespace: string; name: string };
  run: { runId: string };
  root?: { job: { namespace: string; name: string }; run: { runId: string } };
}

/** Reads the parent run from job labels; undefined unless namespace, name and run id are all set. */
export function parentFromLabels(labels: Readonly<Record<string, string>> | undefined): ParentRef | undefined {
  const ns = labels?.[LINEAGE_LABELS.parentJobNamespace];
  const name = labels?.[LINEAGE_LABELS.parentJobName];
  const run = labels?.[LINEAGE_LABELS.parentRunId];
  if (!ns || !name || !run) return undefined;
  const parent: ParentRef = { job: { namespace: ns, name }, run: { runId: externalRunId(ns, name, run) } };
  const rns = labels?.[LINEAGE_LABELS.rootJobNamespace];
  const rname = labels?.[LINEAGE_LABELS.rootJobName];
  const rrun = labels?.[LINEAGE_LABELS.rootRunId];
  if (rns && rname && rrun) parent.root = { job: { namespace: rns, name: rname }, run: { runId: externalRunId(rns, rname, rrun) } };
  return parent;
}
