/** What the scheduler answers about its queue and pool, for /health, /metrics, task status and the dashboard. */
import type { Requirement } from './capabilities.js';
import type { WaitingFor } from './waiting.js';

export interface QueueEstimate {
  /** 1 = next to run. */
  position: number;
  /** Estimated milliseconds until it finishes, from the workers' measured run times; null before any run. */
  etaMs: number | null;
  /** Why it is not running yet; null when nothing holds it (it is being assigned). */
  waitingFor: WaitingFor | null;
}

/** Counts of the scheduler's queue and pool at one moment. */
export interface SchedulerLoad {
  pending: number;
  running: number;
  idleWorkers: number;
  workers: number;
  draining: boolean;
}

/**
 * What the scheduler asks the pool manager to grow for: the local workers busy now, by backend name, and the queued
 * tasks no idle worker (local or remote) can take, by what they require (one entry per lane, with its task count).
 */
export interface Demand {
  busy: ReadonlyMap<string, number>;
  waiting: readonly { req: Requirement; count: number }[];
}
