/** Kysely table types: the shape of the SQLite file. Times are epoch milliseconds. */
import type { Generated, Insertable, Selectable } from 'kysely';

export interface TasksTable {
  /** Insertion order: the tie-breaker among equal priorities (oldest first). */
  seq: Generated<number>;
  id: string;
  type: string;
  prompt: string;
  /** JSON: [{path, content}] read at submit time, so any worker (local or remote) can use them. */
  files: string;
  /** JSON: {timeout?, model?, max_tokens?, include_reasoning?} */
  options: string;
  priority: number;
  status: string;
  attempts: number;
  worker_id: string | null;
  lease: string | null;
  output: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** JSON: how the last answer ended {finishReason, truncated, model, usage}; null before one is recorded. */
  answer: Generated<string | null>;
  /** The reasoning sent apart from the answer, kept only for tasks with options.include_reasoning. */
  reasoning: Generated<string | null>;
  /** A client's key for this submit: the same key within 24 h returns this task instead of a new one. */
  idempotency_key: Generated<string | null>;
  /** The normalised submission's hash (tasks/fingerprint.ts): the same key with another submission is refused. */
  idempotency_fingerprint: Generated<string | null>;
  /** JSON: a command backend's {branch, base, diff, diff_truncated, files}; null for other tasks. */
  changes: Generated<string | null>;
}

export interface WorkersTable {
  id: string;
  backend: string;
  model: string;
  location: string;
  /** A SlotState; rows written before busy/idle moved to the scheduler may say idle or busy (they are gone by then). */
  status: string;
  /** No longer written (always null): what a worker runs is the scheduler's; the column stays so older stores open. */
  current_task: string | null;
  last_heartbeat: number | null;
  completed: number;
  failed: number;
  restarts: number;
  started_at: number;
  updated_at: number;
}

export interface TaskEventsTable {
  seq: Generated<number>;
  task_id: string;
  at: number;
  kind: string;
  worker_id: string | null;
  lease: string | null;
  /** JSON with kind-specific facts (error, attempt, reason). */
  detail: string | null;
}

export interface Schema {
  tasks: TasksTable;
  workers: WorkersTable;
  task_events: TaskEventsTable;
}

export type TaskRow = Selectable<TasksTable>;
export type NewTaskRow = Insertable<TasksTable>;
export type WorkerRow = Selectable<WorkersTable>;
export type TaskEventRow = Selectable<TaskEventsTable>;
