import type { StatementStats } from './query-results.ts';

/**
 * The completed fraction (0–1) of a query from its stats: the server's own `progressPercentage` when
 * it has one, else completed over total splits; undefined before anything is scheduled.
 */
export function progressOf(stats: StatementStats): number | undefined {
  if (stats.state === 'FINISHED') return 1;
  const percentage = stats.progressPercentage;
  if (typeof percentage === 'number' && Number.isFinite(percentage)) return clamp(percentage / 100);
  const total = Number(stats.totalSplits ?? 0);
  if (total > 0) return clamp(Number(stats.completedSplits ?? 0) / total);
  return undefined;
}

function clamp(x: number): number {
  return Math.max(0, Math.min(1, x));
}

/** The stats worth showing next to progress: where the query is and what it has done. */
export function progressInfo(queryId: string, stats: StatementStats): Record<string, unknown> {
  return {
    queryId,
    state: stats.state,
    processedRows: stats.processedRows ?? 0,
    processedBytes: stats.processedBytes ?? 0,
    completedSplits: stats.completedSplits ?? 0,
    totalSplits: stats.totalSplits ?? 0,
    elapsedTimeMillis: stats.elapsedTimeMillis ?? 0,
    cpuTimeMillis: stats.cpuTimeMillis ?? 0,
    peakMemoryBytes: stats.peakMemoryBytes ?? 0,
  };
}
