import type { Column, ReadOptions, ResultSetWriter, ResultStore, Row, SealedSet } from '@sluice/core';
import { readBound, rowToJson, sliceLines } from './json-line.ts';

/** The `uri` of a set kept inline: it is in the result index, not in any store. */
export const INLINE_URI = 'inline:';

/** The largest inline tier {@link withInlineSets} accepts: the text travels in one index row. */
export const MAX_INLINE_BYTES = 1024 * 1024;

/**
 * Holds a set as JSON lines until it is sealed or outgrows the inline size. A small set never
 * reaches the store; one that outgrows the size is handed to the store whole (the rows held so far
 * first) and written there from then on.
 */
class InlineFirstWriter implements ResultSetWriter {
  #inner: ResultSetWriter | undefined;
  #text = '';
  #rows = 0;
  #bytes = 0;
  #state: 'open' | 'finished' | 'aborted' = 'open';

  constructor(
    private readonly store: ResultStore,
    private readonly jobId: string,
    private readonly index: number,
    private readonly columns: Column[],
    private readonly maxBytes: number,
  ) {}

  get rows(): number {
    return this.#inner ? this.#inner.rows : this.#rows;
  }

  get bytes(): number {
    return this.#inner ? this.#inner.bytes : this.#bytes;
  }

  async write(rows: Row[]): Promise<void> {
    if (this.#inner) return this.#inner.write(rows);
    if (this.#state !== 'open') throw new Error(`the result set is ${this.#state}`);
    if (rows.length === 0) return;
    let chunk = '';
    for (const row of rows) chunk += `${rowToJson(row)}\n`;
    const bytes = this.#bytes + Buffer.byteLength(chunk);
    if (bytes <= this.maxBytes) {
      this.#text += chunk;
      this.#bytes = bytes;
      this.#rows += rows.length;
      return;
    }
    // Outgrown: from now on the store holds the set. The rows held so far go first, parsed back
    // from their lines, which the store then writes byte for byte as they were counted here.
    const inner = await this.store.create(this.jobId, this.index, this.columns);
    this.#inner = inner;
    const held = this.#text;
    this.#text = '';
    if (held) await inner.write(sliceLines(held, 0, Number.POSITIVE_INFINITY));
    await inner.write(rows);
  }

  async finish(): Promise<SealedSet> {
    if (this.#inner) return this.#inner.finish();
    if (this.#state !== 'open') throw new Error(`the result set is ${this.#state}`);
    this.#state = 'finished';
    return { rows: this.#rows, bytes: this.#bytes, uri: INLINE_URI, lines: this.#text };
  }

  async abort(): Promise<void> {
    if (this.#inner) return this.#inner.abort();
    if (this.#state === 'open') this.#state = 'aborted';
    this.#text = '';
  }
}

/**
 * A result store whose sets of up to `maxBytes` (as JSON lines) are kept in the result index instead
 * of `store`: the writer's `finish` returns their text, the caller indexes it with the set, and
 * readers pass it back ({@link ReadOptions.lines}). Short queries then cost the store nothing, not
 * even a file: on ext4 an inode per job is the dearest part of a small write. Larger sets, and sets
 * read without their inline text, go to `store` as before. `maxBytes` 0 turns the tier off.
 */
export function withInlineSets(store: ResultStore, maxBytes: number): ResultStore {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0 || maxBytes > MAX_INLINE_BYTES)
    throw new RangeError(`the inline size must be an integer from 0 to ${MAX_INLINE_BYTES}, got ${String(maxBytes)}`);
  if (maxBytes === 0) return store;
  return {
    async create(jobId, index, columns) {
      return new InlineFirstWriter(store, jobId, index, columns, maxBytes);
    },

    async *read(jobId, index, opts = {}) {
      for await (const rows of this.readBatches(jobId, index, opts)) yield* rows;
    },

    async *readBatches(jobId, index, opts: ReadOptions = {}) {
      if (opts.lines === undefined) {
        yield* store.readBatches(jobId, index, opts);
        return;
      }
      const offset = readBound('offset', opts.offset, 0);
      const limit = readBound('limit', opts.limit, Number.POSITIVE_INFINITY);
      if (limit === 0) return;
      const rows = sliceLines(opts.lines, offset, limit);
      if (rows.length > 0) yield rows;
    },

    // A set kept inline never begins in the store: its follower learns of it from the index
    // (`stillWriting` turns false once it is indexed, or the caller's signal ends the wait).
    follow: (jobId, index, opts) => store.follow(jobId, index, opts),

    deleteJob: (jobId) => store.deleteJob(jobId),
  };
}
