/**
 * A gateway request run as a task (kind `chat`): the client's whole request as it sent it, and the pieces of the
 * backend's answer relayed back while it streams. Any backend protocol can serve either client protocol: the request
 * is passed through untouched to a backend of the client's protocol (only `stream` is forced on, so the answer can be
 * relayed and cancelled) and translated for the other one; answers come back as protocol-neutral ChatDeltas.
 */
import type { FlowValve } from './flow.js';

/** The protocol the client speaks: OpenAI's (/v1/...) or Ollama's (/api/...). */
export type ChatProtocol = 'openai' | 'ollama';

/**
 * What the client asked for. openai: chat = /v1/chat/completions, completions = /v1/completions,
 * embeddings = /v1/embeddings, responses = /v1/responses. ollama: chat = /api/chat, generate = /api/generate,
 * embeddings = /api/embed.
 */
export type ChatEndpoint = 'chat' | 'generate' | 'completions' | 'embeddings' | 'responses';

/** Stored in the task's options.chat: everything needed to run it on any worker, local or on a node. */
export interface ChatCall {
  protocol: ChatProtocol;
  endpoint: ChatEndpoint;
  /** The request body as the client sent it (a JSON object with a string `model`). */
  body: Record<string, unknown>;
}

/** A piece of a tool call: OpenAI streams `arguments` as JSON text in pieces; Ollama sends each call whole. */
export interface ToolCallDelta {
  /** Which call of the answer (0-based), stable across the pieces of one call. */
  index: number;
  id?: string;
  name?: string;
  /** A piece of the arguments' JSON text. */
  arguments?: string;
}

/** Token counts of one answer; null where the server did not say. */
export interface ChatUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  /** Of completionTokens, those spent reasoning, when the server said (OpenAI-compatible servers only). */
  reasoningTokens?: number | null;
  /** Of promptTokens, those the server had cached, when it said (OpenAI-compatible servers only). */
  cachedTokens?: number | null;
}

/** How an answer ended: the last delta of every answer carries it. */
export interface ChatEnd {
  /** As the server said it (OpenAI finish_reason, Ollama done_reason); "stop" when it said nothing. */
  finishReason: string;
  /** The model that answered, as the server named it. */
  model: string;
  usage: ChatUsage;
  /** Ollama's timing fields in nanoseconds (total_duration, load_duration, ...), when the server is an Ollama. */
  durations?: Record<string, number>;
  /** An Ollama /api/generate answer's `context` (the conversation's tokens, for its next request). */
  context?: number[];
  /** An OpenAI-compatible server's system_fingerprint. */
  systemFingerprint?: string;
}

/** One relayed piece of an answer; any field may be absent. */
export interface ChatDelta {
  content?: string;
  /** The model's refusal to answer, as an OpenAI-compatible server sends it apart from the content (delta.refusal). */
  refusal?: string;
  /** Reasoning the server sends apart from the answer (OpenAI reasoning_content / reasoning, Ollama thinking). */
  reasoning?: string;
  toolCalls?: ToolCallDelta[];
  /** An embeddings answer, whole: one vector per input. */
  embeddings?: number[][];
  /**
   * The log probabilities of this piece in OpenAI's shape: as an OpenAI-compatible server sent them (the choice's
   * `logprobs`: chat {content, refusal}, legacy completions {tokens, token_logprobs, top_logprobs, text_offset}), or an
   * Ollama's list as chat's {content}.
   */
  logprobs?: Record<string, unknown>;
  /** An OpenAI-compatible server's system_fingerprint, on the first piece that follows its first saying it. */
  systemFingerprint?: string;
  end?: ChatEnd;
}

export interface ChatRequest {
  call: ChatCall;
  /** Aborting it cancels the backend request. */
  signal: AbortSignal;
  /** Called with each piece of the answer in order; the last one carries `end`. */
  onDelta(delta: ChatDelta): void;
  /** Bytes of answer plus reasoning past which the call is aborted with OutputTooLarge. Default 4 MiB. */
  maxOutputBytes?: number | undefined;
  /** The task's reader's valve, when it holds one: the server's body is not read while it is held. */
  flow?: FlowValve | undefined;
}

/** The model a call asks for (every gateway request names one). */
export function callModel(call: ChatCall): string {
  return typeof call.body.model === 'string' ? call.body.model : '';
}

/** The call asking for `model` instead (the same call when it already does). */
export function withModel(call: ChatCall, model: string): ChatCall {
  return call.body.model === model ? call : { ...call, body: { ...call.body, model } };
}
