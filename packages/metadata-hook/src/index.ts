/**
 * `@sluice/metadata-hook`: lineage for every job. SQL lineage extraction per dialect, OpenLineage
 * 2-0-2 RunEvents, a PostgreSQL outbox written with the job's state change, an ordered at-least-once
 * dispatcher with HTTP (OpenLineage), Atlas and console/file transports, and the built-in lineage graph.
 */
export { type AtlasEntity, AtlasTransport, type AtlasTransportOptions, atlasEntities } from './atlas-transport.ts';
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
export { ConsoleTransport, FileTransport } from './console-transport.ts';
export { fileDataset, flinkConnectorDataset, type NamingDefaults, qualifyTableName } from './dataset-naming.ts';
export { DIALECT_RULES, DIALECTS, type Dialect, type DialectRules, isDialect } from './dialect.ts';
export { dtSupports } from './dt-front-end.ts';
export { clearLineageCache, type ExtractOptions, extractLineage } from './extract-lineage.ts';
export { HttpTransport, type HttpTransportOptions } from './http-transport.ts';
export { type DispatcherLogger, type DispatchPass, isPermanentFailure, LineageDispatcher, type LineageDispatcherOptions } from './lineage-dispatcher.ts';
export { LineageExtractor, type LineageExtractorEvent, type LineageExtractorOptions } from './lineage-extractor.ts';
export {
  handleLineageRequest,
  type LineageEdge,
  type LineageGraph,
  type LineageNode,
  type LineageQuery,
  LineageQueryError,
  lineageGraph,
  lineageQuerySchema,
} from './lineage-graph.ts';
export { lineageRoutes } from './lineage-routes.ts';
export type {
  DatasetId,
  ExtractionContext,
  ExtractionError,
  FrontEndChoice,
  InputField,
  KnownView,
  LineageCatalog,
  LineageFrontEnd,
  LineageInput,
  LineageOutput,
  LineageResult,
  OutputOperation,
  SchemaField,
  Transformation,
} from './lineage-types.ts';
export { LINEAGE_DEAD_LETTER_MIGRATION_SQL, LINEAGE_MIGRATION_SQL, LINEAGE_MIGRATIONS, type LineageMigration } from './outbox-schema.ts';
export { lineageSeq, lineageSeqOffset, OUTBOX_INSERT_SQL, outboxInsertSql } from './outbox-sql.ts';
export {
  type DeadLetter,
  deleteDeliveredBefore,
  enqueueLineageEvent,
  listDeadLetters,
  type OutboxRow,
  type OutboxStats,
  outboxStats,
  type Queryable,
  requeueDeadLetters,
} from './outbox-store.ts';
export { LINEAGE_LABELS, type ParentRef, parentFromLabels } from './parent-labels.ts';
export { FACET_SCHEMA_URLS, METADATA_HOOK_VERSION, OPENLINEAGE_SPEC_VERSION, RUN_EVENT_SCHEMA_URL, SLUICE_PRODUCER } from './producer.ts';
export {
  buildRunEvent,
  type EventDataset,
  type EventOutputDataset,
  type Facet,
  isSqlCodeType,
  type LineageJob,
  lineageJobName,
  type RunEvent,
  type RunEventInput,
  type RunEventType,
} from './run-event.ts';
export { externalRunId, isUuid, runIdForJob, SLUICE_RUN_NAMESPACE, uuidV5 } from './run-id.ts';
export { type LineageTransport, TransportError } from './transport.ts';
export { createTransport, type LineageTransportConfig, lineageTransportConfigSchema, transportConfigFromEnv } from './transport-config.ts';
