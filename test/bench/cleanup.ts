/**
 * Cleanups that must run even when the bench is interrupted (Ctrl-C, the watchdog): stopping stacks,
 * dropping databases, deleting Redis keys. Each phase registers what it creates and unregisters it
 * once it cleaned up itself.
 */
const pending = new Set<() => Promise<void>>();

/** Registers a cleanup; returns the function that unregisters it. */
export function onCleanup(fn: () => Promise<void>): () => void {
  pending.add(fn);
  return () => pending.delete(fn);
}

/** Runs every registered cleanup once, newest first, each bounded to `timeoutMs`. */
export async function runCleanups(timeoutMs = 20_000): Promise<void> {
  const fns = [...pending].reverse();
  pending.clear();
  for (const fn of fns) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([fn().catch(() => {}), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}
