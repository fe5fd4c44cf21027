import type { Dialect } from './dialect.ts';
import type { InputField, LineageInput, LineageOutput, LineageResult, SchemaField } from './lineage-types.ts';
import { LINEAGE_LABELS, parentFromLabels } from './parent-labels.ts';
import { FACET_SCHEMA_URLS, type FacetKey, METADATA_HOOK_VERSION, RUN_EVENT_SCHEMA_URL, SLUICE_PRODUCER } from './producer.ts';
import { runIdForJob } from './run-id.ts';

/** OpenLineage run states. */
export type RunEventType = 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER';

/** A facet: its fields plus `_producer` and `_schemaURL`. */
export type Facet = { _producer: string; _schemaURL: string } & Record<string, unknown>;

/** A dataset in an event. */
export interface EventDataset {
  namespace: string;
  name: string;
  facets?: Record<string, Facet>;
}

/** An output dataset in an event. */
export interface EventOutputDataset extends EventDataset {
  outputFacets?: Record<string, Facet>;
}

/** An OpenLineage 2-0-2 RunEvent. */
export interface RunEvent {
  eventTime: string;
  producer: string;
  schemaURL: string;
  eventType: RunEventType;
  run: { runId: string; facets?: Record<string, Facet> };
  job: { namespace: string; name: string; facets?: Record<string, Facet> };
  inputs: EventDataset[];
  outputs: EventOutputDataset[];
}

/** The Sluice job an event is about. */
export interface LineageJob {
  /** The Sluice job id; the run id derives from it. */
  id: string;
  /** The job namespace (from config, e.g. `sluice://host:9001`, or per tenant). */
  namespace: string;
  /** An explicit OpenLineage job name; otherwise the `lineageJobName` label, the parent task's name, or `sluice.job.<id>`. */
  name?: string;
  code: string;
  /** Sluice codeType: `sql`, `shell`, `python`, … */
  codeType: string;
  labels?: Readonly<Record<string, string>>;
  /** BATCH unless the job streams (Flink SQL streaming jobs). */
  processingType?: 'BATCH' | 'STREAMING';
}

/** What {@link buildRunEvent} needs. */
export interface RunEventInput {
  eventType: RunEventType;
  /** When the transition happened; now by default. */
  eventTime?: Date | string;
  job: LineageJob;
  /** The SQL dialect of SQL jobs (sets the `sql` facet's dialect). */
  dialect?: Dialect;
  /** The engine that ran the job (`processing_engine`). */
  engine?: { name: string; version: string };
  /** The lineage extracted from the code; its errors become the `extractionError` facet. */
  lineage?: LineageResult;
  /** The failure, for FAIL (and ABORT when known). */
  error?: { message: string; stackTrace?: string };
  /** Rows written (`outputStatistics`), per output dataset name, or one number when the job has one output. */
  rowCounts?: number | Readonly<Record<string, number>>;
  /** The data source the datasets live in (`dataSource`); defaults to the dataset namespace. */
  dataSource?: { name: string; uri: string };
  /** Override of {@link SLUICE_PRODUCER}. */
  producer?: string;
}

const SQL_CODE_TYPES = new Set(['sql', 'tsql', 'hql', 'psql', 'jdbc', 'flinksql', 'sparksql', 'trino', 'presto', 'duckdb']);

/** Whether a Sluice codeType is SQL (lineage is extracted) rather than a script. */
export function isSqlCodeType(codeType: string): boolean {
  return SQL_CODE_TYPES.has(codeType.toLowerCase());
}

/** The OpenLineage job name of a Sluice job (see {@link LineageJob.name}). */
export function lineageJobName(job: LineageJob): string {
  if (job.name) return job.name;
  const label = job.labels?.[LINEAGE_LABELS.jobName];
  if (label) return label;
  const parent = job.labels?.[LINEAGE_LABELS.parentJobName];
  if (parent) return `${parent}.sluice`;
  return `sluice.job.${job.id}`;
}

/**
 * Builds one RunEvent for a job's transition: START when it starts running, COMPLETE, FAIL or ABORT
 * (cancelled) at the end. All events of a job share its run id ({@link runIdForJob}).
 */
export function buildRunEvent(input: RunEventInput): RunEvent {
  const producer = input.producer ?? SLUICE_PRODUCER;
  const facet = (key: FacetKey, fields: Record<string, unknown>): Facet => ({ _producer: producer, _schemaURL: FACET_SCHEMA_URLS[key], ...fields });
  const { job } = input;
  const sql = isSqlCodeType(job.codeType);

  const jobFacets: Record<string, Facet> = {
    jobType: facet('jobType', { processingType: job.processingType ?? 'BATCH', integration: 'SLUICE', jobType: 'QUERY' }),
  };
  if (sql)
    jobFacets.sql = facet('sql', {
      query: job.code,
      ...(input.dialect ? { dialect: input.dialect } : {}),
      // Which parser the lineage came from (ADR 6): dt-sql-parser, built-in, or mixed.
      ...(input.lineage?.frontEnd ? { lineageParser: input.lineage.frontEnd } : {}),
    });
  else jobFacets.sourceCode = facet('sourceCode', { language: job.codeType, sourceCode: job.code });

  const runFacets: Record<string, Facet> = {};
  if (input.engine)
    runFacets.processing_engine = facet('processing_engine', {
      name: input.engine.name,
      version: input.engine.version,
      openlineageAdapterVersion: METADATA_HOOK_VERSION,
    });
  const parent = parentFromLabels(job.labels);
  if (parent) runFacets.parent = facet('parent', { ...parent });
  if (input.error && (input.eventType === 'FAIL' || input.eventType === 'ABORT')) {
    runFacets.errorMessage = facet('errorMessage', {
      message: input.error.message,
      programmingLanguage: sql ? 'SQL' : job.codeType,
      ...(input.error.stackTrace ? { stackTrace: input.error.stackTrace } : {}),
    });
  }
  const lineage = input.lineage;
  if (lineage && lineage.errors.length > 0) {
    runFacets.extractionError = facet('extractionError', {
      totalTasks: lineage.totalStatements,
      failedTasks: new Set(lineage.errors.map((e) => e.taskNumber)).size,
      errors: lineage.errors.map((e) => ({ errorMessage: e.errorMessage, task: e.task, taskNumber: e.taskNumber })),
    });
  }

  const dataSourceFacet = (namespace: string) => facet('dataSource', input.dataSource ?? { name: namespace, uri: namespaceUri(namespace) });
  const schemaFacet = (fields: SchemaField[]) => facet('schema', { fields: fields.map((f) => ({ name: f.name, ...(f.type ? { type: f.type } : {}) })) });

  const inputs: EventDataset[] = (lineage?.inputs ?? []).map((d: LineageInput) => {
    const facets: Record<string, Facet> = { dataSource: dataSourceFacet(d.namespace) };
    if (d.fields && d.fields.length > 0) facets.schema = schemaFacet(d.fields);
    return { namespace: d.namespace, name: d.name, facets };
  });

  const outputs: EventOutputDataset[] = (lineage?.outputs ?? []).map((d: LineageOutput) => {
    const facets: Record<string, Facet> = { dataSource: dataSourceFacet(d.namespace) };
    if (d.fields && d.fields.length > 0) facets.schema = schemaFacet(d.fields);
    const fields = Object.fromEntries(Object.entries(d.columnLineage).map(([col, inputFields]) => [col, { inputFields: inputFields.map(cleanField) }]));
    if (Object.keys(fields).length > 0 || d.datasetLineage.length > 0) {
      facets.columnLineage = facet('columnLineage', { fields, ...(d.datasetLineage.length > 0 ? { dataset: d.datasetLineage.map(cleanField) } : {}) });
    }
    const out: EventOutputDataset = { namespace: d.namespace, name: d.name, facets };
    const rows = input.eventType === 'COMPLETE' ? rowCountFor(input.rowCounts, d.name, lineage?.outputs.length ?? 0) : undefined;
    if (rows !== undefined) out.outputFacets = { outputStatistics: facet('outputStatistics', { rowCount: rows }) };
    return out;
  });

  const eventTime =
    input.eventTime === undefined ? new Date().toISOString() : typeof input.eventTime === 'string' ? input.eventTime : input.eventTime.toISOString();
  return {
    eventTime,
    producer,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    eventType: input.eventType,
    run: { runId: runIdForJob(job.id), facets: runFacets },
    job: { namespace: job.namespace, name: lineageJobName(job), facets: jobFacets },
    inputs,
    outputs,
  };
}

/** The namespace as a URI: namespaces such as `file` (local paths) have no authority. */
function namespaceUri(namespace: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(namespace) ? namespace : `${namespace}:///`;
}

function cleanField(f: InputField): InputField {
  return { namespace: f.namespace, name: f.name, field: f.field, transformations: f.transformations.map((t) => ({ ...t })) };
}

function rowCountFor(counts: RunEventInput['rowCounts'], name: string, outputs: number): number | undefined {
  if (counts === undefined) return undefined;
  if (typeof counts === 'number') return outputs === 1 ? Math.trunc(counts) : undefined;
  const v = counts[name];
  return v === undefined ? undefined : Math.trunc(v);
}
