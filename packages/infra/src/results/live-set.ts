import type { Column, Row } from '@sluice/core';

/** A batch as the writer wrote it, with its byte range in the set's file. */
export interface RecentBatch {
  start: number;
  end: number;
  rows: Row[];
}

/** Serialized bytes of the recent batches kept for followers; older ones are read from the file. */
export const RECENT_BYTES = 1024 * 1024;

/**
 * True when every value of the rows survives a JSON round trip unchanged (null, strings, booleans,
 * finite numbers, and plain arrays and objects of them): then a follower may take the writer's rows
 * as they are, and gets exactly what it would parse from the file.
 */
export function jsonStable(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!jsonStable(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (!jsonStable((value as Record<string, unknown>)[key])) return false;
  return true;
}

/**
 * Where a result set being written stands, as its writer tells followers in the same process:
 * `buffering` (small so far, still in memory, no file yet), `open` (rows go to the partial file),
 * `sealed` (the data file is final) or `aborted` (the set will never be complete).
 */
export type LiveState = 'buffering' | 'open' | 'sealed' | 'aborted';

/**
 * The in-process notifier of one result set being written. The writer bumps `version` whenever bytes
 * reach the file or the state changes; a follower that found nothing new waits for the next bump
 * instead of polling the file.
 */
export class LiveSet {
  state: LiveState = 'buffering';
  version = 0;
  /** Followers reading now: only then does the writer keep recent batches. */
  followers = 0;
  readonly #recent: RecentBatch[] = [];
  #recentBytes = 0;
  readonly #waiters = new Set<() => void>();

  constructor(readonly columns: Column[]) {}

  /** Records a change and wakes every waiter. */
  bump(state?: LiveState): void {
    if (state) this.state = state;
    this.version++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /**
   * Keeps a batch just written (its rows, unchanged, and where its bytes are in the file) so that a
   * follower at the live edge takes the rows instead of reading and parsing them back; at most
   * {@link RECENT_BYTES} of them. The caller must not change the rows afterwards.
   */
  keep(batch: RecentBatch): void {
    this.#recent.push(batch);
    this.#recentBytes += batch.end - batch.start;
    while (this.#recentBytes > RECENT_BYTES && this.#recent.length > 1) {
      const old = this.#recent.shift() as RecentBatch;
      this.#recentBytes -= old.end - old.start;
    }
    this.bump();
  }

  /** The kept batch that starts at byte `pos`, if any. */
  batchAt(pos: number): RecentBatch | undefined {
    for (const b of this.#recent) if (b.start === pos) return b;
    return undefined;
  }

  /** Start of the first kept batch after byte `pos`: a file read stops there, so the next step can take it. */
  nextBatchAfter(pos: number): number | undefined {
    for (const b of this.#recent) if (b.start > pos) return b.start;
    return undefined;
  }

  /** Drops the kept batches (the set ended, or nobody follows). */
  forget(): void {
    this.#recent.length = 0;
    this.#recentBytes = 0;
  }

  /**
   * Resolves at the first bump after `seen` (at once if it already happened) or after `ms`. Taking the
   * version seen before a read closes the gap between "read found nothing" and "start waiting".
   */
  wait(seen: number, ms: number): Promise<void> {
    if (this.version !== seen) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }
}

/** The sets being written by this process's writers, by `jobId/index`, and a wake-up for followers waiting for one to begin. */
export class LiveSets {
  readonly #sets = new Map<string, LiveSet>();
  readonly #begun = new LiveSet([]);

  static key(jobId: string, index: number): string {
    return `${jobId}/${index}`;
  }

  get(key: string): LiveSet | undefined {
    return this.#sets.get(key);
  }

  /** Version of the "some set began" signal, for {@link waitForBegin}. */
  get begunVersion(): number {
    return this.#begun.version;
  }

  add(key: string, set: LiveSet): void {
    this.#sets.set(key, set);
    this.#begun.bump();
  }

  /** Forgets `set` once it is sealed or aborted (followers keep their own reference). */
  remove(key: string, set: LiveSet): void {
    if (this.#sets.get(key) === set) this.#sets.delete(key);
  }

  /** Resolves when any set begins after version `seen`, or after `ms`. */
  waitForBegin(seen: number, ms: number): Promise<void> {
    return this.#begun.wait(seen, ms);
  }
}
