/** Retry timing: exponential from `baseMs`, times `factor` per attempt, capped at `maxMs`, with jitter. */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  maxMs: number;
  /** Fraction of the delay randomised either way (0 = none, 0.2 = ±20%). */
  jitter: number;
}

/** 1 s, doubling, at most 5 minutes, ±20%: a metadata service back after an hour gets the backlog within 5 minutes. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, factor: 2, maxMs: 300_000, jitter: 0.2 };

/** The delay before the next try after `attempts` failed tries (1 = the first failure). */
export function backoffDelay(attempts: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = policy.baseMs * policy.factor ** Math.max(0, attempts - 1);
  const capped = Math.min(policy.maxMs, exp);
  const spread = capped * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(policy.maxMs, capped + spread)));
}
