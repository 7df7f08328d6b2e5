import type { AnswerInfo, TaskChanges } from '../tasks/task.js';
import type { CommandSettings } from './command/settings.js';
import type { ChatRequest } from '../tasks/chat.js';

/** One backend: a server speaking the Ollama or the OpenAI-compatible protocol, or an agent CLI run per task. */
export type BackendType = 'ollama' | 'openai' | 'command';

export interface BackendSettings {
  /** Unique name from config, e.g. "local". */
  name: string;
  type: BackendType;
  /** Base URL, e.g. http://127.0.0.1:11434 (ollama) or http://127.0.0.1:1234 (openai; "/v1" optional). */
  url: string;
  /** Default model; a task's options.model overrides it. */
  model: string;
  /** Bearer key for OpenAI-compatible servers that want one. */
  api_key?: string | undefined;
  /** Ollama only: which endpoint to use. */
  endpoint?: 'chat' | 'generate' | undefined;
  /** Stream the answer (chunks reach onChunk as they arrive). Default true. */
  stream?: boolean | undefined;
  /** type command only: how the CLI is run (see src/backends/command/settings.ts). */
  command?: CommandSettings | null | undefined;
}

export interface GenerateRequest {
  prompt: string;
  /** System prompt derived from the task type. */
  system?: string | undefined;
  /** Overrides the backend's default model for this call. */
  model?: string | undefined;
  /** Most tokens the answer may have (Ollama's num_predict, OpenAI's max_tokens); unset = the server's default. */
  maxTokens?: number | undefined;
  /** Aborting it cancels the HTTP request and closes the stream. */
  signal: AbortSignal;
  /** Called with each streamed piece of the answer, in order (never with reasoning). */
  onChunk?: ((text: string) => void) | undefined;
  /** Bytes of answer plus reasoning past which the call is aborted with OutputTooLarge. Default 4 MiB. */
  maxOutputBytes?: number | undefined;
  /** Keep the reasoning the server sends apart from the answer and return it. Default false. */
  keepReasoning?: boolean | undefined;
  /** The task being run (command backends name its branch after it). */
  taskId?: string | undefined;
  /** The task's workdir, a real path (command backends only). */
  workdir?: string | undefined;
}

/** A usable answer: the text, and how it ended (a `length` stop with text comes back with truncated: true). */
export interface GenerateResult extends AnswerInfo {
  output: string;
  /** Command backends working in a git worktree: the branch and diff of what the run changed. */
  changes?: TaskChanges | null | undefined;
}

export interface Backend {
  readonly name: string;
  readonly type: BackendType;
  readonly model: string;
  /** False when a failed call must not be retried even if its error says it may (agent CLIs have side effects). */
  readonly retries?: boolean;
  /**
   * Runs one prompt. Throws BackendUnavailable (cannot connect), BackendHttpError (HTTP error status),
   * BackendProtocolError (a body that is not what the protocol says), BackendReportedError (an error inside a 200
   * answer), an AnswerError (AnswerAborted, AnswerTruncated, OutputTooLarge: see answer-errors.ts), or signal.reason when
   * aborted.
   */
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /**
   * Runs a gateway call (a task of kind chat: see chat/types.ts), relaying the answer through req.onDelta as it streams.
   * The answer is not judged (a `length` or `error` finish is the client's to see); throws as generate() does for
   * transport and protocol failures. Absent on backends that are not LLM servers (agent CLIs).
   */
  chat?(req: ChatRequest): Promise<GenerateResult>;
  /** True when the server answers its cheap listing endpoint within the signal's time. Never throws. */
  probe(signal?: AbortSignal): Promise<boolean>;
  /** The models the server lists (Ollama GET /api/tags, OpenAI GET /v1/models); null when it does not answer. Never throws. */
  listModels(signal?: AbortSignal): Promise<string[] | null>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}
