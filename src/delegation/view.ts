/** The JSON shapes of a task that clients see (the seeds' contract). */
import type { QueueEstimate } from '../routing/scheduler-views.js';
import { excerpt } from '../backends/excerpt.js';
import type { TaskEvent } from '../events/types.js';
import type { PartialOutput } from './output-buffers.js';
import type { SubmitResult } from './service.js';
import type { FinishReason, Task, TaskChanges, TaskStatus } from '../tasks/task.js';
import { FINAL_STATUSES } from '../tasks/task.js';

export interface TaskResultView {
  success: boolean;
  /** The whole output; in listings its first OUTPUT_EXCERPT_CHARS characters (compare output_bytes). */
  output: string | null;
  /** The whole output's size in UTF-8 bytes. */
  output_bytes: number | null;
  error: string | null;
  error_code: string | null;
  /** How the answer ended; null only for a completed task recorded before Koubou kept it. */
  finish_reason: FinishReason | null;
  /** The output was cut short (token limit, content filter, tasks.max_output_bytes). */
  truncated: boolean;
  /** The model that answered, as the server named it; null when no answer came. */
  model: string | null;
  usage: { prompt_tokens: number | null; completion_tokens: number | null; reasoning_tokens?: number };
  /** Only for tasks that set options.include_reasoning. */
  reasoning?: string | null;
  /** Command backends that worked in a git worktree: the branch to merge and its diff. Absent otherwise. */
  changes?: TaskChanges;
}

/** How much of a prompt a listing shows: enough to recognise a task on one line. */
export const PROMPT_EXCERPT_CHARS = 80;

/**
 * The prompt as one line for listings (/tasks, `koubou tasks`, the dashboard): whitespace and line breaks collapsed,
 * cut to PROMPT_EXCERPT_CHARS characters with an ellipsis.
 */
export function promptExcerpt(prompt: string): string {
  return excerpt(prompt, PROMPT_EXCERPT_CHARS);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A task read whole, or as a listing reads it (ListedTask). */
export type ViewedTask = Omit<Task, 'files' | 'changes'> & { changes?: TaskChanges | null; outputBytes?: number | null };

/** The whole output's size in UTF-8 bytes: as a listing read it, or measured. */
export function outputBytes(task: ViewedTask): number | null {
  if (task.outputBytes !== undefined) return task.outputBytes;
  return task.output === null ? null : Buffer.byteLength(task.output);
}

/** `result` is present once the task has ended, null before. */
export function resultView(task: ViewedTask): TaskResultView | null {
  if (!FINAL_STATUSES.has(task.status)) return null;
  const answer = task.status === 'cancelled' ? null : task.answer;
  const usage = answer?.usage;
  return {
    success: task.status === 'completed',
    output: task.output,
    output_bytes: outputBytes(task),
    error: task.error?.message ?? null,
    error_code: task.error?.code ?? null,
    finish_reason: task.status === 'cancelled' ? 'cancelled' : (answer?.finishReason ?? (task.status === 'failed' ? 'error' : null)),
    truncated: answer?.truncated ?? false,
    model: answer?.model ?? null,
    usage: {
      prompt_tokens: usage?.promptTokens ?? null,
      completion_tokens: usage?.completionTokens ?? null,
      ...(typeof usage?.reasoningTokens === 'number' ? { reasoning_tokens: usage.reasoningTokens } : {}),
    },
    ...(task.options.include_reasoning === true ? { reasoning: answer?.reasoning ?? null } : {}),
    ...(task.changes ? { changes: task.changes } : {}),
  };
}

/**
 * GET /task/:id/status. A pending task also gets its queue position, an ETA in seconds (null until measured) and
 * `waiting_for` ({code, message}: why it is not running yet; null when it is being assigned); a running one the output
 * it has streamed so far (from `partial.from` on).
 */
export function statusView(task: ViewedTask, estimate: QueueEstimate | null = null, partial: (PartialOutput & { from: number }) | null = null) {
  return {
    ...(estimate
      ? { queue_position: estimate.position, eta_s: estimate.etaMs === null ? null : Math.round(estimate.etaMs / 100) / 10, waiting_for: estimate.waitingFor }
      : {}),
    ...(partial ? { partial_output: { from: partial.from, text: partial.text, length: partial.length } } : {}),
    task_id: task.id,
    status: task.status,
    type: task.type,
    priority: task.priority,
    prompt_excerpt: promptExcerpt(task.prompt),
    result: resultView(task),
    worker_id: task.workerId,
    attempts: task.attempts,
    model: task.options.model ?? null,
    created_at: iso(task.createdAt),
    started_at: iso(task.startedAt),
    finished_at: iso(task.finishedAt),
    updated_at: iso(task.updatedAt),
  };
}

/**
 * The answer to a submission, for every adapter that answers one with a body (REST, NATS): {task_id, status}, and
 * `result` when the submitter waited and the task ended within the wait (`ended`: REST answers 200 rather than 202).
 */
export function delegateAnswer(submitted: SubmitResult): { ended: boolean; body: { task_id: string; status: TaskStatus; result?: TaskResultView | null } } {
  if (!submitted.waited) return { ended: false, body: { task_id: submitted.taskId, status: submitted.status } };
  const { task, ended } = submitted;
  // A wait that ran out leaves the task queued or running; it keeps going.
  return { ended, body: { task_id: task.id, status: task.status, ...(ended ? { result: resultView(task) } : {}) } };
}

/** One entry of a task's history. */
export function eventView(e: TaskEvent) {
  return { kind: e.kind, at: iso(e.at), worker_id: e.workerId ?? null, lease: e.lease ?? null, ...(e.detail ?? {}) };
}
