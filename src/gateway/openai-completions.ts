/**
 * OpenAI legacy completions as the API sends them (platform.openai.com/docs/api-reference/completions; the openai
 * package's Completion type): one `text_completion` object `{id, object, created, model, choices: [{text, index,
 * logprobs, finish_reason}], usage}`, or SSE events (`data: {...}\n\n`) of `text_completion` objects carrying pieces of
 * text, closed by one with empty text and the finish_reason, then (with stream_options.include_usage) one with empty
 * choices and the usage, then `data: [DONE]`. An OpenAI-compatible backend's logprobs and system_fingerprint are
 * passed on.
 */
import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import { openAiErrorBody } from './openai-errors.js';
import { openAiUsage, sseData, type CompletionMeta } from './openai-chat.js';
import { LogprobsCollector, type Presenter } from './presenter.js';
import type { SessionFailure } from './session.js';

/** A finish_reason completions know: stop, length or content_filter. */
const finishReason = (end: ChatEnd) => (end.finishReason === 'length' || end.finishReason === 'content_filter' ? end.finishReason : 'stop');

export class OpenAiTextCompletion implements Presenter {
  readonly contentType: string;
  private text = '';
  private readonly logprobs = new LogprobsCollector();
  private fingerprint: string | undefined;

  /** stream: SSE events, else one object; includeUsage: stream_options.include_usage. */
  constructor(private readonly meta: CompletionMeta, private readonly stream: boolean, private readonly includeUsage: boolean) {
    this.contentType = stream ? 'text/event-stream' : 'application/json';
  }

  private object(model: string, choices: unknown[], usage?: unknown): Record<string, unknown> {
    const fingerprint = this.fingerprint === undefined ? {} : { system_fingerprint: this.fingerprint };
    return { id: this.meta.id, object: 'text_completion', created: this.meta.created, model, ...fingerprint, choices, ...(usage === undefined ? {} : { usage }) };
  }

  delta(d: ChatDelta): string {
    this.fingerprint = d.systemFingerprint ?? this.fingerprint;
    // Only a legacy completion's own shape ({tokens, ...}); chat's per-token list (an Ollama's) is not one.
    if (d.logprobs && !Array.isArray(d.logprobs.tokens)) d = { ...d, logprobs: undefined };
    if (!d.content && !d.logprobs) return '';
    if (!this.stream) {
      this.text += d.content ?? '';
      this.logprobs.add(d.logprobs);
      return '';
    }
    return sseData(this.object(this.meta.model, [{ text: d.content ?? '', index: 0, logprobs: d.logprobs ?? null, finish_reason: null }]));
  }

  finish(end: ChatEnd): string {
    // The name the client asked for, as on every earlier piece (Ollama repeats req.Model; vLLM its served name): a
    // backend that answers under another ("llama3.2" for "llama3.2:latest") must not change it at the end.
    const model = this.meta.model;
    this.fingerprint = end.systemFingerprint ?? this.fingerprint;
    if (!this.stream) return JSON.stringify(this.object(model, [{ text: this.text, index: 0, logprobs: this.logprobs.whole(), finish_reason: finishReason(end) }], openAiUsage(end)));
    let out = sseData(this.object(model, [{ text: '', index: 0, logprobs: null, finish_reason: finishReason(end) }]));
    if (this.includeUsage) out += sseData(this.object(model, [], openAiUsage(end)));
    return out + 'data: [DONE]\n\n';
  }

  streamError(failure: SessionFailure): string {
    return this.stream ? sseData(openAiErrorBody(failure.message, 'server_error', failure.code)) : '';
  }
}
