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
  /** Seals the result set and returns its final size (and its rows, when it was kept inline). */
  finish(): Promise<SealedSet>;
  /** Drops a result set that will not be completed. */
  abort(): Promise<void>;
}

/** A sealed result set, as its writer reports it for the result index. */
export interface SealedSet {
  rows: number;
  bytes: number;
  uri: string;
  /**
   * The whole set as JSON lines (one JSON array per row, each ending in a newline), when the set was
   * small enough to be kept in the result index instead of the store: then nothing of it is in the
   * store, and readers pass this text back as {@link ReadOptions.lines}.
   */
  lines?: string;
}

/** Which rows of a result set to read. */
export interface ReadOptions {
  offset?: number;
  limit?: number;
  /** The set's size in bytes as its index records it: lets a store read a small set in one call. */
  sizeHint?: number;
  /** The set's rows as its index keeps them inline ({@link SealedSet.lines}): read from this text, not the store. */
  lines?: string;
}

/** How {@link ResultStore.follow} learns that nobody will finish a set it waits for. */
export interface FollowOptions {
  /**
   * Asked while the set has not begun, or has stopped growing, at most about once a second: false
   * means its writer is gone (the job ended, or the set was indexed as sealed), so the follow stops
   * waiting instead of hanging on a writer that crashed in another process.
   */
  stillWriting(): Promise<boolean>;
  /** Ends the wait for the set to begin (the follow then resolves to undefined). */
  signal?: AbortSignal;
}

/** A result set read while it is written. */
export interface FollowedResultSet {
  columns: Column[];
  /**
   * Every row of the set exactly once, in order, in batches as they are written; pulled only as fast
   * as the consumer reads (the writer never waits for it). Ends when the set is sealed; throws
   * SLUICE_RESULT_INCOMPLETE when the writer drops it (the job failed or was cancelled).
   */
  batches: AsyncIterable<Row[]>;
}

export interface ResultStore {
  create(jobId: string, index: number, columns: Column[]): Promise<ResultSetWriter>;
  /** Streams rows `offset .. offset+limit-1` (limit omitted: to the end). */
  read(jobId: string, index: number, opts?: ReadOptions): AsyncIterable<Row>;
  /** The same rows in batches: the fast path for downloads and protocol adapters that stream many rows. */
  readBatches(jobId: string, index: number, opts?: ReadOptions): AsyncIterable<Row[]>;
  /**
   * Tails result set `index` while it is written. Resolves once the set has begun (its columns are
   * known), or to undefined when `stillWriting` says no first, or the signal aborts: then the set is
   * either sealed and indexed (read it with {@link readBatches}) or never coming. A store may resolve
   * to undefined for a set it cannot see until it is sealed (e.g. a small one written whole).
   */
  follow(jobId: string, index: number, opts: FollowOptions): Promise<FollowedResultSet | undefined>;
  /** Removes every result set of a job. */
  deleteJob(jobId: string): Promise<void>;
}
