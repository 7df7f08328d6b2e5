/** The JSON a coordinator answers with, as far as its REST clients (the CLI, koubou mcp forwarding) read it. */

import type { TaskStatus as TaskState } from '../tasks/states.js';
export type { TaskState };

export interface TaskResult {
  success: boolean;
  output: string | null;
  error: string | null;
  error_code: string | null;
  /** stop | length | tool_calls | content_filter | cancelled | error (absent from older servers). */
  finish_reason?: string | null;
  truncated?: boolean;
  /** The model that answered, as the backend named it. */
  model?: string | null;
  usage?: { prompt_tokens: number | null; completion_tokens: number | null; reasoning_tokens?: number };
  reasoning?: string | null;
}

export interface TaskStatus {
  task_id: string;
  status: TaskState;
  type: string;
  priority: number;
  /** The prompt on one line, cut short (the server shapes it). */
  prompt_excerpt?: string;
  result: TaskResult | null;
  worker_id: string | null;
  attempts: number;
  model?: string | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string | null;
  queue_position?: number | null;
  eta_s?: number | null;
  /** A pending task: why it is not running yet (code: no_capable_worker, workers_busy, circuit_open, …). */
  waiting_for?: { code: string; message: string } | null;
  /** A running task's output streamed so far, from character `from` on. */
  partial_output?: { from: number; text: string; length: number };
}

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
