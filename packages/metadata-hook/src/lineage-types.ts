import type { Dialect } from './dialect.ts';

/** A dataset as OpenLineage names it. */
export interface DatasetId {
  namespace: string;
  name: string;
}

/** A column of a dataset's schema. */
export interface SchemaField {
  name: string;
  type?: string;
}

/** A transformation on a column-lineage edge (ColumnLineageDatasetFacet 1-2-0). */
export interface Transformation {
  type: 'DIRECT' | 'INDIRECT';
  /** DIRECT: IDENTITY, TRANSFORMATION, AGGREGATION. INDIRECT: JOIN, FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL. */
  subtype: string;
  masking?: boolean;
}

/** One input column an output column (or the whole output) depends on. */
export interface InputField extends DatasetId {
  field: string;
  transformations: Transformation[];
}

/** A dataset read by the job. */
export interface LineageInput extends DatasetId {
  /** Known columns (from the catalog or DDL earlier in the script). */
  fields?: SchemaField[];
}

/** What a statement did to its output dataset. */
export type OutputOperation = 'CREATE' | 'INSERT' | 'OVERWRITE' | 'MERGE' | 'UPDATE' | 'DELETE';

/** A dataset written by the job, with its column lineage. */
export interface LineageOutput extends DatasetId {
  operation: OutputOperation;
  /** The output is a view (CREATE VIEW). */
  view: boolean;
  /** Known columns of the output. */
  fields?: SchemaField[];
  /** Output column → the input columns it is computed from. */
  columnLineage: Record<string, InputField[]>;
  /** Input columns that affect the whole output (filters, joins, grouping, sorting, windows). */
  datasetLineage: InputField[];
}

/** Why one statement yielded no lineage (ExtractionErrorRunFacet `errors[]`). */
export interface ExtractionError {
  errorMessage: string;
  /** The statement text. */
  task: string;
  /** The statement's position in the script, from 0. */
  taskNumber: number;
}

/** Inputs, outputs and column lineage of a script. */
export interface LineageResult {
  inputs: LineageInput[];
  outputs: LineageOutput[];
  /** Number of statements in the script. */
  totalStatements: number;
  /** Statements that could not be parsed or resolved; the others still contribute. */
  errors: ExtractionError[];
  /** Column references that could not be attributed to one input (ambiguous or unknown). */
  warnings: string[];
  /**
   * Which parser produced the statements: dt-sql-parser for all, the built-in parser for all, or
   * `mixed` when some statements fell back to the built-in parser (see `fallbacks`).
   */
  frontEnd: LineageFrontEnd;
  /** Statements dt-sql-parser could not take, and why; the built-in parser read them instead. */
  fallbacks: { taskNumber: number; reason: string }[];
}

/** The parser behind a lineage result. */
export type LineageFrontEnd = 'dt-sql-parser' | 'built-in' | 'mixed';

/** Which front end `extractLineage` uses. */
export type FrontEndChoice = 'auto' | 'dt-sql-parser' | 'built-in';

/** A view definition the caller knows (a catalog lookup), keyed by its fully qualified name. */
export interface KnownView {
  /** The view's defining query, in the same dialect. */
  sql: string;
  /** The column names of the view, when the query alone does not tell them. */
  columns?: string[];
}

/** What the caller knows about the catalog: table schemas and view definitions, by qualified name. */
export interface LineageCatalog {
  tables?: Record<string, SchemaField[]>;
  views?: Record<string, KnownView>;
}

/** Where the SQL runs: the dataset namespace and the session's default catalog and schema. */
export interface ExtractionContext {
  /** Dataset namespace, for example `trino://host:8080`, `postgres://host:5432`, `duckdb://<engine>`. */
  namespace: string;
  /** Default catalog (Trino, Flink), database (PostgreSQL, DuckDB). */
  defaultCatalog?: string;
  /** Default schema (Trino, PostgreSQL, DuckDB) or database (Hive, Spark, MySQL, Flink). */
  defaultSchema?: string;
  /** Known tables and views. */
  catalog?: LineageCatalog;
}

/** Re-exported for signatures that carry the dialect along with a context. */
export type { Dialect };
