/**
 * A first-come, first-served lock: one database session runs one statement at a time, so an engine
 * runs one task at a time and later tasks wait their turn.
 */
export class TaskLock {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;

  /** True while a task holds the lock or waits for it. */
  get busy(): boolean {
    return this.holders > 0;
  }

  /**
   * Waits for the lock. Rejects with `abortError()` if `signal` aborts first (the waiter then never
   * holds the lock). Resolves with the release function.
   */
  acquire(signal: AbortSignal, abortError: () => Error): Promise<() => void> {
    this.holders += 1;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => mine);
    let released = false;
    const releaseOnce = () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      release();
    };
    return new Promise<() => void>((resolve, reject) => {
      const onAbort = () => {
        // Give the turn away at once: whoever waits behind us runs when the previous holder is done.
        releaseOnce();
        reject(abortError());
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      void previous.then(() => {
        signal.removeEventListener('abort', onAbort);
        if (released) return;
        resolve(releaseOnce);
      });
    });
  }
}
