/**
 * Ollama's /api/chat and /api/generate answers (github.com/ollama/ollama docs/api.md; fields in the order of api/types.go
 * ChatResponse and GenerateResponse): NDJSON objects `{"model","created_at","message":{"role":"assistant","content"},
 * "done":false}` (generate: `"response"` instead of `"message"`), tool calls whole in `message.tool_calls` with
 * `id`, `function.index` and `arguments` as an object, and a last object with `"done":true`, `done_reason`, generate's `context` when an Ollama
 * backend sent one, and the counts and timings (nanoseconds). With `stream: false` the whole answer is that last
 * object. Also the answers to a load or unload request (a chat without messages, a generate without a prompt).
 */
import { parseArguments } from '../backends/chat/messages-map.js';
import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import { ToolCallCollector, ollamaTime, type Presenter } from './presenter.js';
import type { SessionFailure } from './session.js';
import { unloadsNow } from './ollama-schemas.js';

const NS_PER_MS = 1_000_000;

export class OllamaAnswer implements Presenter {
  readonly contentType: string;
  private readonly started: number;
  private firstAt: number | null = null;
  private content = '';
  private thinking = '';
  /** Per-token log probabilities, Ollama's list (api/types.go Logprob), when the server gave any. */
  private logprobs: unknown[] = [];
  private readonly tools: ToolCallCollector;

  /**
   * endpoint chat or generate; stream: NDJSON pieces, else one object; now: the clock (ms) for timings and created_at;
   * taskId: names the tool calls a server sent without an id (`call_<task id>_<n>`), so that none of a conversation's
   * calls share one; withThinking: false when the request said `think: false`.
   */
  constructor(
    private readonly endpoint: 'chat' | 'generate',
    private readonly stream: boolean,
    private readonly model: string,
    private readonly now: () => number,
    taskId: string,
    private readonly withThinking = true,
  ) {
    this.tools = new ToolCallCollector(`call_${taskId}_`);
    this.started = now();
    this.contentType = stream ? 'application/x-ndjson' : 'application/json; charset=utf-8';
  }

  delta(d: ChatDelta): string {
    this.firstAt ??= this.now();
    this.tools.add(d.toolCalls);
    // Ollama has no refusal of its own: an OpenAI-compatible server's refusal is what the model said.
    const content = (d.content ?? '') + (d.refusal ?? '');
    // `think: false` asks for no thinking: a server that thought anyway (one that cannot be told not to) keeps it.
    const thinking = this.withThinking ? (d.reasoning ?? '') : '';
    const logprobs = ollamaLogprobs(d.logprobs);
    if (!this.stream) {
      this.content += content;
      this.thinking += thinking;
      this.logprobs.push(...logprobs);
      return '';
    }
    if (!content && !thinking && logprobs.length === 0) return '';
    return JSON.stringify({ ...this.piece(this.model, content, thinking, false), done: false, ...(logprobs.length > 0 ? { logprobs } : {}) }) + '\n';
  }

  finish(end: ChatEnd): string {
    // The name the client asked for, as on every earlier piece (Ollama repeats req.Model; vLLM its served name): a
    // backend that answers under another ("llama3.2" for "llama3.2:latest") must not change it at the end.
    const model = this.model;
    let out = '';
    // Tool calls go out whole, as Ollama sends them: pieces from an OpenAI server are put together first.
    if (this.stream && this.tools.size > 0) out += JSON.stringify({ ...this.piece(model, '', '', true), done: false }) + '\n';
    const last = {
      ...this.piece(model, this.stream ? '' : this.content, this.stream ? '' : this.thinking, !this.stream),
      done: true,
      done_reason: end.finishReason === 'length' ? 'length' : 'stop',
      ...(this.endpoint === 'generate' && end.context ? { context: end.context } : {}),
      ...(this.logprobs.length > 0 ? { logprobs: this.logprobs } : {}),
      ...this.metrics(end),
    };
    return out + JSON.stringify(last) + (this.stream ? '\n' : '');
  }

  streamError(failure: SessionFailure): string {
    return JSON.stringify({ error: failure.message }) + '\n';
  }

  private piece(model: string, content: string, thinking: string, withTools: boolean): Record<string, unknown> {
    const head = { model, created_at: ollamaTime(this.now()) };
    if (this.endpoint === 'generate') return { ...head, response: content, ...(thinking ? { thinking } : {}) };
    const message: Record<string, unknown> = { role: 'assistant', content };
    if (thinking) message.thinking = thinking;
    if (withTools && this.tools.size > 0) {
      // As api/types.go ToolCall writes one: its id (server/routes.go gives each call one), the index within the answer.
      message.tool_calls = this.tools.list().map((c, index) => ({ id: c.id, function: { index, name: c.name, arguments: parseArguments(c.arguments) } }));
    }
    return { ...head, message };
  }

  /** The server's own counts and timings when it is an Ollama; measured here otherwise. */
  private metrics(end: ChatEnd): Record<string, number> {
    const now = this.now();
    const first = this.firstAt ?? now;
    const d = end.durations ?? {};
    return {
      total_duration: d.total_duration ?? (now - this.started) * NS_PER_MS,
      load_duration: d.load_duration ?? 0,
      prompt_eval_count: end.usage.promptTokens ?? 0,
      prompt_eval_duration: d.prompt_eval_duration ?? (first - this.started) * NS_PER_MS,
      eval_count: end.usage.completionTokens ?? 0,
      eval_duration: d.eval_duration ?? Math.max(1, now - first) * NS_PER_MS,
    };
  }
}

/**
 * A piece's log probabilities as Ollama's list ([{token, logprob, top_logprobs: [{token, logprob}]}], api/types.go
 * Logprob): chat's `content` list is that entry for entry; a legacy completion's parallel lists (tokens,
 * token_logprobs, top_logprobs as {token: logprob}) are put together into it.
 */
function ollamaLogprobs(piece: Record<string, unknown> | undefined): unknown[] {
  if (!piece) return [];
  if (Array.isArray(piece.content)) return piece.content;
  if (!Array.isArray(piece.tokens)) return [];
  const logprobs = Array.isArray(piece.token_logprobs) ? piece.token_logprobs : [];
  const tops = Array.isArray(piece.top_logprobs) ? piece.top_logprobs : [];
  return piece.tokens.map((token, i) => {
    const top = tops[i];
    const alternatives = typeof top === 'object' && top !== null ? Object.entries(top).map(([t, logprob]) => ({ token: t, logprob })) : [];
    return { token, logprob: logprobs[i] ?? null, ...(alternatives.length > 0 ? { top_logprobs: alternatives } : {}) };
  });
}

/**
 * Ollama's answer to a load request (a chat without messages, a generate without a prompt), or with keep_alive 0 to
 * an unload request: server/routes.go writes it at once, streaming or not. `now`: ms since the epoch.
 */
export function loadAnswer(endpoint: 'chat' | 'generate', model: string, keepAlive: unknown, now: number): object {
  const head = { model, created_at: ollamaTime(now) };
  const body = endpoint === 'chat' ? { ...head, message: { role: 'assistant', content: '' } } : { ...head, response: '' };
  return { ...body, done: true, done_reason: unloadsNow(keepAlive) ? 'unload' : 'load' };
}
