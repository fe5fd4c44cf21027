import type { ProtocolColumn } from './type-signature.ts';

/** Where in the statement text an error is, 1-based. */
export interface ErrorLocation {
  lineNumber: number;
  columnNumber: number;
}

/** The `error` of a failed query (Trino's `QueryError`). */
export interface QueryError {
  message: string;
  sqlState?: string;
  errorCode: number;
  /** E.g. SYNTAX_ERROR, TABLE_NOT_FOUND, USER_CANCELED, EXCEEDED_TIME_LIMIT. */
  errorName: string;
  /** USER_ERROR, INTERNAL_ERROR, INSUFFICIENT_RESOURCES or EXTERNAL. */
  errorType: string;
  errorLocation?: ErrorLocation | null;
  failureInfo?: { type?: string; message?: string } | null;
}

/** Execution statistics of a query, from every response (Trino's `StatementStats`, the fields used). */
export interface StatementStats {
  state: string;
  queued?: boolean;
  scheduled?: boolean;
  /** 0–100 once the server can estimate it. */
  progressPercentage?: number | null;
  runningPercentage?: number | null;
  nodes?: number;
  totalSplits?: number;
  queuedSplits?: number;
  runningSplits?: number;
  completedSplits?: number;
  cpuTimeMillis?: number;
  wallTimeMillis?: number;
  queuedTimeMillis?: number;
  elapsedTimeMillis?: number;
  processedRows?: number;
  processedBytes?: number;
  peakMemoryBytes?: number;
  spilledBytes?: number;
}

/** A warning the server attached to a query. */
export interface QueryWarning {
  warningCode?: { code?: number; name?: string };
  message: string;
}

/** One response of the statement protocol (Trino's `QueryResults`). */
export interface QueryResults {
  id: string;
  infoUri?: string;
  partialCancelUri?: string | null;
  /** Absent once the query has finished, successfully or not. */
  nextUri?: string | null;
  columns?: ProtocolColumn[] | null;
  /** Rows of this page; BIGINT values beyond 2^53 are decimal strings (see lossless-json). */
  data?: unknown[][] | null;
  stats: StatementStats;
  error?: QueryError | null;
  warnings?: QueryWarning[] | null;
  updateType?: string | null;
  updateCount?: number | null;
}

/** Narrows parsed JSON to a {@link QueryResults}; null when the shape is wrong. */
export function asQueryResults(value: unknown): QueryResults | null {
  if (value === null || typeof value !== 'object') return null;
  const v = value as Partial<QueryResults>;
  if (typeof v.id !== 'string' || v.stats === null || typeof v.stats !== 'object') return null;
  if (v.data !== undefined && v.data !== null && !Array.isArray(v.data)) return null;
  return v as QueryResults;
}
