import type { Column } from '@sluice/core';

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
