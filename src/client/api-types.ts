/** The JSON a coordinator answers with, as far as its REST clients (the CLI, koubou mcp forwarding) read it. */

import type { statusView, TaskResultView } from '../delegation/view.js';
import type { TaskStatus as TaskState } from '../tasks/states.js';
export type { TaskState };

/** A task's status and result: the server's own view types (src/delegation/view.ts), not a second description. */
export type TaskStatus = ReturnType<typeof statusView>;
export type TaskResult = TaskResultView;

export interface Submitted {
  task_id: string;
  status: TaskState;
}

/** What POST /task/delegate takes: the submission schema's input. */
export type { DelegateBody } from '../tasks/submission-schema.js';

export interface TaskEventView {
  kind: string;
  at: string;
  worker_id: string | null;
  lease: string | null;
  [detail: string]: unknown;
}

export interface WorkerView {
  worker_id: string;
  backend: string;
  model: string;
  location: string;
  status: string;
  current_task: string | null;
  last_heartbeat: string | null;
  heartbeat_age_ms: number | null;
  completed: number;
  failed: number;
  restarts: number;
  started_at: string;
}
