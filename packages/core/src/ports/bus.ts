/**
 * The event bus port: live status, progress and log events, and commands to engine managers.
 * Delivery is at-most-once and best effort; everything published is also persisted, so a
 * subscriber that missed something catches up from the store.
 */
export type BusHandler = (message: unknown) => void;

export interface EventBus {
  publish(topic: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Largest serialized message the transport carries; bigger ones must be split or sent by reference. */
  readonly maxMessageBytes: number;
  close(): Promise<void>;
}
