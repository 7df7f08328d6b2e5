/** What the MCP tools need from Koubou; served in-process (local-api) or over the REST API (http-api). */
import type { TaskStatus, TaskType } from '../tasks/task.js';
import type { statusView } from '../delegation/view.js';

export type TaskView = ReturnType<typeof statusView>;

export interface DelegateArgs {
  prompt: string;
  type?: TaskType | undefined;
  priority?: number | undefined;
  files?: string[] | undefined;
  model?: string | undefined;
  timeout?: number | undefined;
  include_reasoning?: boolean | undefined;
  idempotency_key?: string | undefined;
  /** Where an agent CLI works (under a command backend's workspace_root). */
  workdir?: string | undefined;
}

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

/** The REST body for a delegation: MCP arguments use the same names and limits as POST /task/delegate. */
export function delegateBody(args: DelegateArgs): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (args.model !== undefined) options.model = args.model;
  if (args.timeout !== undefined) options.timeout = args.timeout;
  if (args.include_reasoning !== undefined) options.include_reasoning = args.include_reasoning;
  return {
    prompt: args.prompt,
    ...(args.type === undefined ? {} : { type: args.type }),
    ...(args.priority === undefined ? {} : { priority: args.priority }),
    ...(args.files === undefined ? {} : { files: args.files }),
    ...(args.workdir === undefined ? {} : { workdir: args.workdir }),
    ...(Object.keys(options).length ? { options } : {}),
    ...(args.idempotency_key === undefined ? {} : { idempotency_key: args.idempotency_key }),
  };
}
