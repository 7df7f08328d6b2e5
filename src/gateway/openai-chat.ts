/**
 * OpenAI chat completions as the official API sends them (platform.openai.com/docs/api-reference/chat): a
 * `chat.completion` object, or `chat.completion.chunk` SSE events (`data: {...}\n\n`) opened by a role delta, closed
 * by a chunk with `finish_reason`, then (with stream_options.include_usage) a chunk with empty choices and the usage
 * (every earlier chunk then has `"usage": null`), then `data: [DONE]`. An OpenAI-compatible backend's
 * system_fingerprint, logprobs and refusal are passed on; from an Ollama they are null.
 */
import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import { LogprobsCollector, ToolCallCollector, openAiFinishReason, type Presenter } from './presenter.js';
import type { SessionFailure } from './session.js';
import { openAiErrorBody } from './openai-errors.js';

export interface CompletionMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model the client asked for, until the server names the one that answered. */
  model: string;
}

/** `usage` in OpenAI's shape, with the cached and reasoning token counts when the server gave them. */
export function openAiUsage(end: ChatEnd) {
  const { promptTokens, completionTokens, cachedTokens, reasoningTokens } = end.usage;
  const prompt = promptTokens ?? 0;
  const completion = completionTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(typeof cachedTokens === 'number' ? { prompt_tokens_details: { cached_tokens: cachedTokens } } : {}),
    ...(typeof reasoningTokens === 'number' ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {}),
  };
}

export const sseData = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

/** Streaming chat completion chunks. */
export class OpenAiChatStream implements Presenter {
  readonly contentType = 'text/event-stream';
  private opened = false;
  private readonly toolIds = new Set<number>();
  private toolCalls = 0;
  private fingerprint: string | null = null;

  constructor(private readonly meta: CompletionMeta, private readonly includeUsage: boolean) {}

  /** The chunk's bytes up to its delta, kept while the model and fingerprint it names stay the same. */
  private head = '';
  private headModel: string | null = null;
  private headFingerprint: string | null = null;

  /**
   * One chunk event. Written as JSON.stringify would write the whole object, key for key, but only the delta and
   * what follows it are serialised per piece: a relay sends thousands of chunks a second that differ in nothing else.
   */
  private chunk(delta: Record<string, unknown>, finishReason: string | null, model = this.meta.model, logprobs: unknown = null): string {
    if (this.headModel !== model || this.headFingerprint !== this.fingerprint || this.head === '') {
      const { id, created } = this.meta;
      this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(created)},"model":${JSON.stringify(model)},"system_fingerprint":${JSON.stringify(this.fingerprint)},"choices":[{"index":0,"delta":`;
      this.headModel = model;
      this.headFingerprint = this.fingerprint;
    }
    const usage = this.includeUsage ? ',"usage":null' : '';
    return `${this.head}${JSON.stringify(delta)},"logprobs":${JSON.stringify(logprobs)},"finish_reason":${JSON.stringify(finishReason)}}]${usage}}\n\n`;
  }

  delta(d: ChatDelta): string {
    let out = '';
    this.fingerprint = d.systemFingerprint ?? this.fingerprint;
    let logprobs = d.logprobs ?? null;
    if (!this.opened) {
      this.opened = true;
      // The server's role chunk carries only (empty) logprobs: they go on this one.
      const rolePiece = !d.content && !d.refusal && !d.reasoning && !d.toolCalls?.length;
      out += this.chunk({ role: 'assistant', content: '' }, null, this.meta.model, rolePiece ? logprobs : null);
      if (rolePiece) logprobs = null;
    }
    if (d.reasoning) out += this.chunk({ reasoning_content: d.reasoning }, null);
    if (d.content || logprobs) out += this.chunk(d.content ? { content: d.content } : {}, null, this.meta.model, logprobs);
    if (d.refusal) out += this.chunk({ refusal: d.refusal }, null);
    if (d.toolCalls?.length) {
      const calls = d.toolCalls.map((p) => {
        const first = !this.toolIds.has(p.index);
        this.toolIds.add(p.index);
        if (!first) return { index: p.index, function: { ...(p.name ? { name: p.name } : {}), arguments: p.arguments ?? '' } };
        this.toolCalls++;
        return { index: p.index, id: p.id ?? `call_${this.meta.id}_${p.index}`, type: 'function', function: { name: p.name ?? '', arguments: p.arguments ?? '' } };
      });
      out += this.chunk({ tool_calls: calls }, null);
    }
    return out;
  }

  finish(end: ChatEnd): string {
    // The name the client asked for, as on every earlier piece (Ollama repeats req.Model; vLLM its served name): a
    // backend that answers under another ("llama3.2" for "llama3.2:latest") must not change it at the end.
    const model = this.meta.model;
    this.fingerprint = end.systemFingerprint ?? this.fingerprint;
    let out = this.opened ? '' : this.chunk({ role: 'assistant', content: '' }, null, model);
    out += this.chunk({}, openAiFinishReason(end, this.toolCalls > 0), model);
    if (this.includeUsage) {
      out += sseData({ id: this.meta.id, object: 'chat.completion.chunk', created: this.meta.created, model, system_fingerprint: this.fingerprint, choices: [], usage: openAiUsage(end) });
    }
    return out + 'data: [DONE]\n\n';
  }

  streamError(failure: SessionFailure): string {
    return sseData(openAiErrorBody(failure.message, 'server_error', failure.code));
  }
}

/** A whole `chat.completion` object. */
export class OpenAiChatCompletion implements Presenter {
  readonly contentType = 'application/json';
  private content = '';
  private refusal = '';
  private reasoning = '';
  private readonly tools: ToolCallCollector;
  private readonly logprobs = new LogprobsCollector();

  constructor(private readonly meta: CompletionMeta) {
    // The ids the streamed answer gives calls that came without one (OpenAiChatStream.delta).
    this.tools = new ToolCallCollector(`call_${meta.id}_`);
  }

  delta(d: ChatDelta): string {
    if (d.content) this.content += d.content;
    if (d.refusal) this.refusal += d.refusal;
    if (d.reasoning) this.reasoning += d.reasoning;
    this.tools.add(d.toolCalls);
    this.logprobs.add(d.logprobs);
    return '';
  }

  finish(end: ChatEnd): string {
    // A refusal or tool calls with no text leave content null, as OpenAI writes them.
    const message: Record<string, unknown> = { role: 'assistant', content: this.content === '' && (this.tools.size > 0 || this.refusal !== '') ? null : this.content };
    if (this.reasoning !== '') message.reasoning_content = this.reasoning;
    if (this.tools.size > 0) message.tool_calls = this.tools.list().map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    message.refusal = this.refusal === '' ? null : this.refusal;
    return JSON.stringify({
      id: this.meta.id,
      object: 'chat.completion',
      created: this.meta.created,
      model: this.meta.model,
      choices: [{ index: 0, message, logprobs: this.logprobs.whole(), finish_reason: openAiFinishReason(end, this.tools.size > 0) }],
      usage: openAiUsage(end),
      system_fingerprint: end.systemFingerprint ?? null,
    });
  }

  streamError(): string {
    return '';
  }
}
