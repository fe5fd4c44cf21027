import { randomInt, timingSafeEqual } from 'node:crypto';

/** What a CancelRequest reaches: the connection's running statement. */
export interface Cancellable {
  cancelRunning(): Promise<void>;
}

/**
 * BackendKeyData of the live connections: (process id, secret) → connection. A CancelRequest names
 * both; only an exact match cancels, and the answer is the same either way (the client learns nothing).
 */
export class BackendKeys {
  private readonly live = new Map<number, { secret: Buffer; target: Cancellable }>();
  private nextPid = randomInt(10_000, 1_000_000);

  /** Registers a connection and returns its key. */
  register(target: Cancellable): { pid: number; secret: number } {
    const pid = this.nextPid++;
    if (this.nextPid > 0x7fffffff) this.nextPid = 10_000;
    const secret = randomInt(-0x80000000, 0x7fffffff);
    const b = Buffer.alloc(4);
    b.writeInt32BE(secret);
    this.live.set(pid, { secret: b, target });
    return { pid, secret };
  }

  unregister(pid: number): void {
    this.live.delete(pid);
  }

  /** The connection the key belongs to, if the secret matches. */
  find(pid: number, secret: number): Cancellable | undefined {
    const entry = this.live.get(pid);
    if (!entry) return undefined;
    const b = Buffer.alloc(4);
    b.writeInt32BE(secret | 0);
    return timingSafeEqual(b, entry.secret) ? entry.target : undefined;
  }

  get size(): number {
    return this.live.size;
  }
}
