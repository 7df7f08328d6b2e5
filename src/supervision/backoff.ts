/** Exponential backoff with jitter, shared by worker restarts, task retries and backend probes. */

/**
 * The delay in ms before try number `step` (0 for the first): base·2^step, plus a random part of up to half of that,
 * capped at max. Jitter only adds, so the delay is never below `baseMs` (when baseMs ≤ maxMs); it spreads clients
 * that failed together so they do not come back together.
 */
export function backoffMs(step: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** step);
  return Math.round(Math.min(maxMs, exponential + (random() * exponential) / 2));
}
