/** Events that describe what happened to a task; the persisted ones are the task's history. */

export type TaskEventKind =
  | 'queued'
  | 'assigned'
  | 'requeued'
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
  /** Kind-specific facts: {priority} when queued, {attempt} when assigned, {error} when failed, {chunk} for progress. */
  detail?: Record<string, unknown> | null;
}
