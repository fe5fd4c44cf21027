import type { Column, Row } from '../job.ts';

/**
 * Where result rows live. Rows are written and read as streams; neither side ever holds a whole
 * result in memory. The default adapter writes files under the Sluice home directory.
 */
export interface ResultSetWriter {
  /** Appends rows; resolves when the store can take more (backpressure). */
  write(rows: Row[]): Promise<void>;
  readonly rows: number;
  readonly bytes: number;
  /** Seals the result set and returns its final size. */
  finish(): Promise<{ rows: number; bytes: number; uri: string }>;
  /** Drops a result set that will not be completed. */
  abort(): Promise<void>;
}

/** Which rows of a result set to read. */
export interface ReadOptions {
  offset?: number;
  limit?: number;
  /** The set's size in bytes as its index records it: lets a store read a small set in one call. */
  sizeHint?: number;
}

export interface ResultStore {
  create(jobId: string, index: number, columns: Column[]): Promise<ResultSetWriter>;
  /** Streams rows `offset .. offset+limit-1` (limit omitted: to the end). */
  read(jobId: string, index: number, opts?: ReadOptions): AsyncIterable<Row>;
  /** The same rows in batches: the fast path for downloads and protocol adapters that stream many rows. */
  readBatches(jobId: string, index: number, opts?: ReadOptions): AsyncIterable<Row[]>;
  /** Removes every result set of a job. */
  deleteJob(jobId: string): Promise<void>;
}
