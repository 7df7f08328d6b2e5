/** Events that describe what happened to a task; the persisted ones are the task's history. */
import { STATE_EVENT_KINDS, type StateEventKind } from '../tasks/states.js';

/** Each state change (its move is in the state table, tasks/states.ts), and `progress`: a streamed piece of output. */
export type TaskEventKind = StateEventKind | 'progress';
export const TASK_EVENT_KINDS: readonly TaskEventKind[] = [...STATE_EVENT_KINDS, 'progress'];

export interface TaskEvent {
  taskId: string;
  kind: TaskEventKind;
  at: number;
  workerId?: string | null;
  lease?: string | null;
  /** Kind-specific facts: {priority} when queued, {attempt} when assigned, {error, attempt, retry_in_ms} when retried, {reason, backend, wait_ms} when deferred, {error} when failed, {chunk} for progress. */
  detail?: Record<string, unknown> | null;
}
