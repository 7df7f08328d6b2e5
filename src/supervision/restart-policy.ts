/**
 * When to restart a crashed worker slot, OTP style: exponential backoff with jitter, and an intensity limit
 * (at most `intensity` restarts within `period_ms`) past which the slot's backend is marked failed instead of spinning.
 */
import { backoffMs } from './backoff.js';

export interface RestartSettings {
  base_ms: number;
  max_ms: number;
  intensity: number;
  period_ms: number;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; history: number[] }
  | { action: 'giveUp'; history: number[] };

/**
 * Decides the next step after a crash at `now`, given the times of earlier restarts.
 * `random` in [0,1) spreads restarts (full jitter on the upper half) so many slots do not restart in lockstep.
 */
export function decideRestart(history: readonly number[], now: number, settings: RestartSettings, random: () => number = Math.random): RestartDecision {
  const recent = history.filter((t) => now - t < settings.period_ms);
  if (recent.length >= settings.intensity) return { action: 'giveUp', history: recent };
  const delayMs = backoffMs(recent.length, settings.base_ms, settings.max_ms, random);
  return { action: 'restart', delayMs, history: [...recent, now] };
}
