/**
 * Waits until this process (every thread) uses under 5% of a core over half a second, for at most
 * `maxMs`, and returns how long it waited. A freshly started stack keeps working for a few seconds
 * after it answers: its lineage worker loads and warms the SQL grammars of the configured engines
 * (ADR 6). That is start-up work, not the cost of a job, so benches wait for it to end before they
 * measure.
 */
export async function untilIdle(maxMs = 90_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const used = process.cpuUsage(before);
    if ((used.user + used.system) / 1000 < 25) break;
  }
  return Date.now() - t0;
}
