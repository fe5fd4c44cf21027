/** The version of this package, reported as `openlineageAdapterVersion`. */
export const METADATA_HOOK_VERSION = '0.1.0';

/**
 * The `producer` of every event and the `_producer` of every facet Sluice writes. It is a stable URI
 * naming Sluice's lineage producer and its version (a URN, so it names no host). Consumers such as
 * Marquez group and filter by it.
 */
export const SLUICE_PRODUCER = `urn:sluice:metadata-hook:${METADATA_HOOK_VERSION}`;

/** The OpenLineage spec version Sluice emits. */
export const OPENLINEAGE_SPEC_VERSION = '2-0-2';

/** `schemaURL` of a RunEvent. */
export const RUN_EVENT_SCHEMA_URL = `https://openlineage.io/spec/${OPENLINEAGE_SPEC_VERSION}/OpenLineage.json#/$defs/RunEvent`;

/** The schema URL of each standard facet Sluice emits (`_schemaURL`), at the version in the spec folder. */
export const FACET_SCHEMA_URLS = {
  sql: 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  sourceCode: 'https://openlineage.io/spec/facets/1-0-1/SourceCodeJobFacet.json#/$defs/SourceCodeJobFacet',
  processing_engine: 'https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  extractionError: 'https://openlineage.io/spec/facets/1-1-2/ExtractionErrorRunFacet.json#/$defs/ExtractionErrorRunFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  dataSource: 'https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet',
  columnLineage: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
  outputStatistics: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
} as const;

/** Keys of the standard facets Sluice emits. */
export type FacetKey = keyof typeof FACET_SCHEMA_URLS;
