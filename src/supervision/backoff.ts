/** Exponential backoff with jitter, shared by worker restarts and task retries. */

/**
 * The delay before try number `step` (0 for the first): base·2^step capped at max, then spread over its upper half
 * by `random` so that many clients failing together do not come back together.
 */
export function backoffMs(step: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** step);
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
