import type { BusHandler } from '@sluice/core';

interface Entry {
  handler: BusHandler;
}

/**
 * The handlers of a bus, by topic. Each subscription is its own entry, so subscribing one function
 * twice and unsubscribing once leaves the other subscription in place. Dispatch isolates handlers: a
 * throwing (or rejecting) handler is reported and never keeps the message from the others.
 */
export class TopicHandlers {
  readonly #byTopic = new Map<string, Set<Entry>>();
  readonly #onError: (err: Error) => void;

  constructor(onError: (err: Error) => void) {
    this.#onError = onError;
  }

  /** Adds a handler; returns the token to remove it with. */
  add(topic: string, handler: BusHandler): object {
    let set = this.#byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.#byTopic.set(topic, set);
    }
    const entry: Entry = { handler };
    set.add(entry);
    return entry;
  }

  /** Removes one subscription; returns true when the topic has no handlers left. */
  remove(topic: string, token: object): boolean {
    const set = this.#byTopic.get(topic);
    if (!set) return true;
    set.delete(token as Entry);
    if (set.size > 0) return false;
    this.#byTopic.delete(topic);
    return true;
  }

  /** True while the topic has at least one handler. */
  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Calls every handler of `topic` with `message`. */
  dispatch(topic: string, message: unknown): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    for (const entry of [...set]) {
      try {
        const r = entry.handler(message) as unknown;
        if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
          (r as PromiseLike<unknown>).then(undefined, (e: unknown) => this.report(e));
        }
      } catch (e) {
        this.report(e);
      }
    }
  }

  /** Drops every handler. */
  clear(): void {
    this.#byTopic.clear();
  }

  private report(e: unknown): void {
    try {
      this.#onError(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // A faulty error callback must not break delivery either.
    }
  }
}
