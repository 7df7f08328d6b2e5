/** The task as the rest of the system sees it. */
import type { ChatCall } from './chat.js';

export const TASK_TYPES = [
  'general',
  'code',
  'code_generation',
  'documentation',
  'translation',
  'analysis',
  'refactoring',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

// The states and their moves are the state table's (states.ts); re-exported for the many readers of a task's shape.
import type { TaskStatus } from './states.js';
export { FINAL_STATUSES, TASK_STATUSES, type TaskStatus } from './states.js';

export interface TaskFile {
  path: string;
  content: string;
}

export interface TaskOptions {
  /** Where an agent CLI works: the real path of the submitted `workdir` (checked under a workspace_root at submit). */
  workdir?: string;
  /** Seconds the backend call may take. */
  timeout?: number;
  /** Overrides the backend's default model. */
  model?: string;
  /** Most tokens the answer may have; only workers allowing at least this many take the task. */
  max_tokens?: number;
  /** Keep the reasoning the server sends apart from the answer, and return it in the result. */
  include_reasoning?: boolean;
  /**
   * Set only on tasks of kind `chat`: a gateway request (src/gateway), run as a chat call on the backend and relayed
   * to its waiting client instead of run from `prompt` (which then only shows what was asked).
   */
  chat?: ChatCall;
  /**
   * Set only with `chat`, when the request named no type (no X-Koubou-Type): the backends' `types` do not restrict
   * where it runs, since its model says that (its type is the default, general).
   */
  any_type?: boolean;
}

/** How an answer ended, normalised over the protocols (OpenAI finish_reason, Ollama done_reason). */
export const FINISH_REASONS = ['stop', 'length', 'tool_calls', 'content_filter', 'cancelled', 'error'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

/** Token counts as the server reported them; null where it did not. */
export interface AnswerUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  /** Tokens spent reasoning (OpenAI's completion_tokens_details.reasoning_tokens), part of completionTokens. */
  reasoningTokens: number | null;
  /** Prompt tokens the server had cached (OpenAI's prompt_tokens_details.cached_tokens), part of promptTokens. */
  cachedTokens?: number | null;
}

/** What the server said about an answer: kept with the task so its result can say how the answer ended. */
export interface AnswerInfo {
  finishReason: FinishReason;
  /** The answer was cut short (token limit, content filter, output cap). */
  truncated: boolean;
  /** The model that answered, as the server named it. */
  model: string | null;
  usage: AnswerUsage;
  /** The reasoning sent apart from the answer; only kept when the task set options.include_reasoning. */
  reasoning?: string;
}

export interface TaskError {
  code: string;
  message: string;
}

export interface Task {
  id: string;
  seq: number;
  type: TaskType;
  prompt: string;
  files: TaskFile[];
  options: TaskOptions;
  priority: number;
  status: TaskStatus;
  attempts: number;
  workerId: string | null;
  lease: string | null;
  output: string | null;
  /** What a command backend's run changed (its branch and diff); null otherwise. */
  changes: TaskChanges | null;
  error: TaskError | null;
  /** How the last answer ended; null until one was recorded (and for tasks that failed before any answer). */
  answer: AnswerInfo | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

/** Characters of output a listing shows per task; the whole output is on the task's own status. */
export const OUTPUT_EXCERPT_CHARS = 1000;

/**
 * A task as listings read it: its files left out and `output` cut to its first OUTPUT_EXCERPT_CHARS characters, so a
 * page of tasks with huge answers stays small; a command run's `changes` (its diff) are left out too. `outputBytes` is the whole output's size in UTF-8 bytes.
 */
export interface ListedTask extends Omit<Task, 'files' | 'changes'> {
  outputBytes: number | null;
}

/** What the scheduler keeps in memory per pending task: enough to order and route it, never the prompt. */
export interface QueuedTask {
  id: string;
  seq: number;
  priority: number;
  type: TaskType;
  /** Its type does not restrict where it runs: a gateway request that named none (see TaskOptions.any_type). */
  anyType: boolean;
  model: string | null;
  /** A gateway request (options.chat): only an LLM server serving `model` may run it (see Requirement.chat). */
  chat: boolean;
  maxTokens: number | null;
  /** The workdir it names (see TaskOptions.workdir): only a command backend whose workspace_root holds it can run it. */
  workdir: string | null;
}

/** One changed file, as in `result.changes.files`. */
export interface ChangedFile {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  /** For a rename, where the file was. */
  from?: string;
  /** Lines; null for binary files. */
  additions: number | null;
  deletions: number | null;
}

/** `result.changes`: the branch holding the task's commit, the commit it started from, and what changed. */
export interface TaskChanges {
  branch: string;
  base: string;
  /** Unified diff of base..branch; cut at the byte cap (then `diff_truncated` is true). */
  diff: string;
  diff_truncated: boolean;
  files: ChangedFile[];
}

/** How a run ended, as the worker reports it. `changes` is set by command backends that worked in a git worktree. */
export type TaskOutcome =
  /** answer: how it ended; absent only from nodes that predate it. */
  | { status: 'completed'; output: string; answer?: AnswerInfo; changes?: TaskChanges | null }
  /** output: the start of an answer refused for its size; answer: what the server said about a refused answer. */
  | { status: 'failed'; error: TaskError; output?: string; answer?: AnswerInfo };
