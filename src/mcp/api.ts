/** What the MCP tools need from Koubou; served in-process (local-api) or over the REST API (http-api). */
import type { z } from 'zod';
import { OPTION_FIELDS, SUBMISSION_FIELDS, type DelegateBody } from '../tasks/submission-schema.js';
import type { TaskStatus } from '../tasks/task.js';
import type { statusView } from '../delegation/view.js';

export type TaskView = ReturnType<typeof statusView>;

/**
 * delegate_task's arguments: the submission schema's fields, with the task options beside them rather than under
 * `options` (flat arguments are easier for a model to fill in). Checked by the MCP server before a tool runs.
 */
export const DELEGATE_ARGS = { ...SUBMISSION_FIELDS, ...OPTION_FIELDS };

export type DelegateArgs = z.output<z.ZodObject<typeof DELEGATE_ARGS>>;

export interface KoubouApi {
  /** Queues a task (idempotent with a key) and returns its status at once. */
  delegate(args: DelegateArgs): Promise<TaskView>;
  /** The task's status; with waitSeconds > 0, answers when its state changes or the wait ends. */
  getTask(id: string, waitSeconds: number): Promise<TaskView>;
  cancel(id: string): Promise<TaskView>;
  list(status: TaskStatus | undefined, limit: number): Promise<TaskView[]>;
  poolStatus(): Promise<unknown>;
  /** Streamed output of a running task, where the API can see it; returns the unsubscribe function. */
  onOutput?(id: string, listener: (chunk: string) => void): () => void;
}

/** The REST body for a delegation: the same fields, the options moved under `options`. */
export function delegateBody(args: DelegateArgs): DelegateBody {
  const body: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value !== undefined) (Object.hasOwn(OPTION_FIELDS, key) ? options : body)[key] = value;
  }
  if (Object.keys(options).length > 0) body.options = options;
  return body as DelegateBody;
}
