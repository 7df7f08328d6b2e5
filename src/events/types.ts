/** Events that describe what happened to a task; the persisted ones are the task's history. */

export type TaskEventKind =
  | 'queued'
  | 'assigned'
  | 'requeued'
  /** A retryable failure: back to pending, to run again after a backoff. */
  | 'retried'
  /** Backpressure (busy, rate-limited, unreachable backend): back to pending without spending an attempt. */
  | 'deferred'
  | 'progress'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface TaskEvent {
  taskId: string;
  kind: TaskEventKind;
  at: number;
  workerId?: string | null;
  lease?: string | null;
  /** Kind-specific facts: {priority} when queued, {attempt} when assigned, {error, attempt, retry_in_ms} when retried, {reason, backend, wait_ms} when deferred, {error} when failed, {chunk} for progress. */
  detail?: Record<string, unknown> | null;
}
