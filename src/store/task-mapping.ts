/** Converts between database rows and the Task the rest of the system uses. */
import type { AnswerInfo, ListedTask, Task, TaskChanges, TaskFile, TaskOptions, TaskStatus, TaskType } from '../tasks/task.js';
import type { TaskRow } from './schema.js';

/** Turns a tasks row into a Task; JSON columns are parsed here and nowhere else. */
export function rowToTask(row: TaskRow): Task {
  return { ...rowToTaskWithoutFiles(row), files: JSON.parse(row.files) as TaskFile[], changes: row.changes ? (JSON.parse(row.changes) as TaskChanges) : null };
}

/** A listing's row (no files; output already cut to an excerpt, and its full size) as a ListedTask. */
export function rowToListedTask(row: Omit<TaskRow, 'files' | 'changes'> & { output_bytes: number | null }): ListedTask {
  return { ...rowToTaskWithoutFiles(row), outputBytes: row.output_bytes };
}

function rowToTaskWithoutFiles(row: Omit<TaskRow, 'files' | 'changes'>): Omit<Task, 'files' | 'changes'> {
  return {
    id: row.id,
    seq: row.seq,
    type: row.type as TaskType,
    prompt: row.prompt,
    options: JSON.parse(row.options) as TaskOptions,
    priority: row.priority,
    status: row.status as TaskStatus,
    attempts: row.attempts,
    workerId: row.worker_id,
    lease: row.lease,
    output: row.output,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    answer: row.answer === null ? null : { ...(JSON.parse(row.answer) as AnswerInfo), ...(row.reasoning === null ? {} : { reasoning: row.reasoning }) },
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}
