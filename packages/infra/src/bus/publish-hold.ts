/** How a bus holds back publishes of some topics (see {@link PublishHold}). */
export interface PublishHoldOptions {
  /** The longest a held message waits; 0 sends everything at once. */
  holdMs: number;
  /** Whether a topic's messages may be held. */
  held(topic: string): boolean;
  /** Most messages held at once; reaching it sends them all. Default 256. */
  maxHeld?: number;
  /** Most characters of payload held at once; reaching it sends them all. Default 1 MiB. */
  maxHeldChars?: number;
}

/** Sends one serialized message on the bus's transport. */
export type SendSerialized = (topic: string, payload: string) => Promise<void>;

const DEFAULT_MAX_HELD = 256;
const DEFAULT_MAX_HELD_CHARS = 1024 * 1024;

/** Holds nothing: every publish is sent at once. */
export const NO_HOLD: PublishHoldOptions = { holdMs: 0, held: () => false };

/**
 * Holds a bus's publishes on some topics (a job's own status, log, rows and result events) for at
 * most `holdMs`, so that a short job's events leave together with its end: one write to Redis, or
 * one NOTIFY statement, instead of one each.
 *
 * - Order is kept: a publish on a topic that is not held sends everything held first, in the same
 *   turn of the event loop, and held messages leave in the order they were published.
 * - A held publish resolves once the message is accepted. The port is best effort, so no caller
 *   waits for the transport; a later failure goes to `onError`. What cannot be sent at all (not
 *   JSON, too big) is refused before it is held, by the bus that serializes it.
 * - {@link drain} sends what is held and waits for every send still out: call it before the
 *   transport closes.
 */
export class PublishHold {
  private queue: { topic: string; payload: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly out = new Set<Promise<void>>();
  private heldChars = 0;
  private readonly maxHeld: number;
  private readonly maxHeldChars: number;

  constructor(
    private readonly opts: PublishHoldOptions,
    private readonly send: SendSerialized,
    private readonly onError: (err: Error) => void,
  ) {
    if (!Number.isInteger(opts.holdMs) || opts.holdMs < 0) throw new Error(`holdMs must be an integer >= 0, got ${opts.holdMs}`);
    this.maxHeld = opts.maxHeld ?? DEFAULT_MAX_HELD;
    this.maxHeldChars = opts.maxHeldChars ?? DEFAULT_MAX_HELD_CHARS;
  }

  /** Messages held right now (for tests and metrics). */
  get heldCount(): number {
    return this.queue.length;
  }

  publish(topic: string, payload: string): Promise<void> {
    if (this.opts.holdMs > 0 && this.opts.held(topic)) {
      this.queue.push({ topic, payload });
      this.heldChars += payload.length;
      if (this.queue.length >= this.maxHeld || this.heldChars >= this.maxHeldChars) this.flush();
      else if (!this.timer) {
        this.timer = setTimeout(() => this.flush(), this.opts.holdMs);
        // A process that has nothing else to do may exit; drain() sends what is held before a close.
        this.timer.unref();
      }
      return Promise.resolve();
    }
    this.flush();
    return this.send(topic, payload);
  }

  /** Sends everything held now, in order. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.heldChars = 0;
    for (const m of batch) {
      const sent = this.send(m.topic, m.payload).catch((err: Error) => {
        try {
          this.onError(new Error(`bus: a held message on ${m.topic} was not sent: ${err.message}`));
        } catch {
          // never let the error callback break the bus
        }
      });
      this.out.add(sent);
      void sent.finally(() => this.out.delete(sent));
    }
  }

  /** Sends what is held and waits until every held message sent so far has been answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.out.size > 0) await Promise.allSettled([...this.out]);
  }
}
