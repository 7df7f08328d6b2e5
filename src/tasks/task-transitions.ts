/**
 * The task state changes the actors make, as the narrow interface they depend on: the composition root binds it to the
 * store and event bus (src/delegation/transitions.ts); tests give their own.
 */
import type { ChatDelta } from './chat.js';
import type { QueuedTask, Task, TaskError, TaskOutcome } from './task.js';

/** A task claimed for a worker: what to run now, and the write that records the assignment. */
export interface Claim {
  task: Task;
  /**
   * Queues the assignment write; false once committed means the task left `pending` first (a cancel won the race).
   * Call it after dispatching the run, so the worker's turn comes before the commit's.
   */
  commit(): Promise<boolean>;
}

export interface TaskTransitions {
  /**
   * Claims a pending task for a worker under a new lease. The run may start at once: the assignment commits before any
   * later write of this task (writes commit in order), so its result is always recorded under this lease.
   * Null when the task is not pending.
   */
  assign(id: string, workerId: string, lease: string): Claim | null;
  finish(id: string, lease: string, outcome: TaskOutcome): Promise<boolean>;
  /** Worker lost: back to pending, or failed once attempts are used up. Null when not requeued. */
  requeue(id: string, lease: string, reason: string): Promise<QueuedTask | null>;
  /** A retryable failure: back to pending, to run again after retryInMs. */
  retry(id: string, lease: string, error: TaskError, retryInMs: number): Promise<QueuedTask | null>;
  /** Backpressure: back to pending with the attempt given back, to run again after waitMs. */
  defer(id: string, lease: string, reason: TaskError, waitMs: number, backend: string): Promise<QueuedTask | null>;
  /**
   * A streamed piece of output: published only, never stored piecewise. A chat task's piece also carries its delta
   * (text, reasoning, tool calls, end) for the client waiting on it.
   */
  progress(id: string, workerId: string, lease: string, chunk: string, delta?: ChatDelta): void;
}
