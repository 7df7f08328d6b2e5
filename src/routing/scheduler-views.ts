/** What the scheduler answers about its queue and pool, for /health, /metrics, task status and the dashboard. */
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
