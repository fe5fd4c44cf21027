/** Lowest Sluice priority; higher runs first. */
export const MIN_SLUICE_PRIORITY = 0;
/** Highest Sluice priority. */
export const MAX_SLUICE_PRIORITY = 10;

/**
 * Maps a Sluice priority (0–10, higher first) onto a BullMQ priority (lower number first).
 * Every entry gets a BullMQ priority of at least 1, so all entries share BullMQ's prioritized
 * structure and equal priorities stay FIFO (priority 0 would put an entry in a separate, unordered
 * relation to the prioritized ones).
 */
export function toBullPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_SLUICE_PRIORITY || priority > MAX_SLUICE_PRIORITY) {
    throw new RangeError(`queue priority must be an integer from ${MIN_SLUICE_PRIORITY} to ${MAX_SLUICE_PRIORITY}, got ${priority}`);
  }
  return MAX_SLUICE_PRIORITY + 1 - priority;
}
