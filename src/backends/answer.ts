/**
 * One answer as it streams in, and the verdict on it once it ends. Both protocols feed an AnswerBuilder; the verdict
 * rules live here once: a complete answer, a cut one (`length` with text: truncated), or a failure (no text before
 * the limit, a finish reason meaning the server gave up, an answer past the size cap).
 */
import { AnswerAborted, AnswerEmpty, AnswerTruncated, OutputTooLarge } from './answer-errors.js';
import type { AnswerInfo, AnswerUsage, FinishReason } from '../tasks/task.js';
import type { GenerateRequest, GenerateResult } from './types.js';

/** Default for tasks.max_output_bytes: 4 MiB of answer and reasoning per call. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Finish reasons servers send, by what they mean. Unknown ones count as a normal stop. */
const FINISH_ALIASES: Record<string, FinishReason> = {
  stop: 'stop',
  eos: 'stop',
  eos_token: 'stop',
  stop_sequence: 'stop',
  end_turn: 'stop',
  length: 'length',
  max_tokens: 'length',
  model_length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
  // vLLM ends a request the engine dropped with "abort"; "error" is what it and others send when generation failed.
  abort: 'error',
  error: 'error',
};

/** Maps a server's finish reason (OpenAI finish_reason, Ollama done_reason) onto FinishReason; undefined → stop. */
export function normaliseFinishReason(raw: string | undefined): FinishReason {
  if (raw === undefined) return 'stop';
  return FINISH_ALIASES[raw.toLowerCase()] ?? 'stop';
}

export interface AnswerLimits {
  /** Bytes of answer plus reasoning (kept or not: a runaway thinker is bounded too) past which the call is refused. */
  maxBytes: number;
  /** Keep the reasoning text (else only its length is counted). */
  keepReasoning: boolean;
  /** Prefix for messages: which backend said it. */
  label: string;
  /** The model asked for: the answer's model when the server names none. */
  model: string;
  onChunk?: ((text: string) => void) | undefined;
}

/** Collects content and reasoning pieces and the facts the server reports about the answer. */
export class AnswerBuilder {
  private readonly content: string[] = [];
  private readonly reasoningParts: string[] = [];
  private bytes = 0;
  private reasoningChars = 0;
  model: string | undefined;
  rawFinishReason: string | undefined;
  usage: AnswerUsage = { promptTokens: null, completionTokens: null, reasoningTokens: null };

  constructor(private readonly limits: AnswerLimits) {}

  /** The builder for one backend call: its cap, whether to keep reasoning, its onChunk; `model` is the one asked for. */
  static forRequest(req: GenerateRequest, label: string, model: string): AnswerBuilder {
    return new AnswerBuilder({
      maxBytes: req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      keepReasoning: req.keepReasoning ?? false,
      label,
      model,
      onChunk: req.onChunk,
    });
  }

  /** A piece of the answer: passed on to onChunk. Throws OutputTooLarge past the cap, keeping what fits. */
  addContent(text: string): void {
    if (text === '') return;
    const fits = this.room(text);
    if (fits !== text) {
      if (fits !== '') this.pushContent(fits);
      throw this.tooLarge();
    }
    this.pushContent(text);
  }

  /** A piece of reasoning sent apart from the answer: never part of the output. */
  addReasoning(text: string): void {
    if (text === '') return;
    this.reasoningChars += text.length;
    const fits = this.room(text);
    if (this.limits.keepReasoning && fits !== '') this.reasoningParts.push(fits);
    if (fits !== text) throw this.tooLarge();
  }

  /** Bytes of the answer that are neither text nor reasoning (tool call arguments): counted against the cap only. */
  addOther(text: string): void {
    if (text !== '' && this.room(text) !== text) throw this.tooLarge();
  }

  /**
   * Bytes a non-streamed body carrying this answer may have: the cap twice over (JSON escapes) plus 1 MiB of
   * envelope. Past it the body is abandoned unread.
   */
  get bodyLimit(): number {
    return this.limits.maxBytes * 2 + 1024 * 1024;
  }

  /** Takes the server's token counts; absent fields keep what an earlier chunk said. */
  setUsage(usage: Partial<AnswerUsage>): void {
    for (const key of ['promptTokens', 'completionTokens', 'reasoningTokens', 'cachedTokens'] as const) {
      const value = usage[key];
      if (typeof value === 'number') this.usage[key] = value;
    }
  }

  /**
   * The verdict on the ended answer. Throws AnswerAborted for an abort/error finish reason (retryable), AnswerTruncated
   * for an answer that hit the token limit before any text (permanent), AnswerEmpty for one that ended on any other
   * reason without text (see there); otherwise returns it, `truncated` when cut.
   */
  finish(): GenerateResult {
    const output = this.content.join('');
    const finishReason = normaliseFinishReason(this.rawFinishReason);
    const truncated = finishReason === 'length' || finishReason === 'content_filter';
    const info = this.info(finishReason, truncated);
    const { label } = this.limits;
    if (finishReason === 'error') {
      throw new AnswerAborted(
        `${label}: the server ended the answer with finish_reason ${JSON.stringify(this.rawFinishReason)} after ${output.length} characters`,
        info,
      );
    }
    if (finishReason === 'length' && output.trim() === '') {
      const spent = this.reasoningChars > 0 || (this.usage.reasoningTokens ?? 0) > 0;
      const tokens = this.usage.completionTokens === null ? '' : ` (${this.usage.completionTokens} tokens)`;
      throw new AnswerTruncated(
        spent
          ? `${label}: the token budget${tokens} went on reasoning and the answer is empty; raise options.max_tokens or the server's limit, or lower the model's reasoning effort`
          : `${label}: the answer hit the token limit${tokens} before any text; raise options.max_tokens or the server's limit`,
        info,
      );
    }
    if (output.trim() === '') {
      throw new AnswerEmpty(`${label}: the server ended the answer (finish reason ${JSON.stringify(this.rawFinishReason ?? 'none')}) without any text`, info);
    }
    return { output, ...info };
  }

  /** The answer as the server ended it, without a verdict: a relayed answer (gateway) is its client's to judge. */
  relayed(): GenerateResult {
    const finishReason = normaliseFinishReason(this.rawFinishReason);
    return { output: this.content.join(''), ...this.info(finishReason, finishReason === 'length' || finishReason === 'content_filter') };
  }

  private info(finishReason: FinishReason, truncated: boolean): AnswerInfo {
    const reasoning = this.limits.keepReasoning && this.reasoningParts.length > 0 ? { reasoning: this.reasoningParts.join('') } : {};
    return { finishReason, truncated, model: this.model ?? this.limits.model, usage: { ...this.usage }, ...reasoning };
  }

  private pushContent(text: string): void {
    this.content.push(text);
    this.limits.onChunk?.(text);
  }

  /** The part of text that still fits under the cap (whole characters), counting it as taken. */
  private room(text: string): string {
    const size = Buffer.byteLength(text, 'utf8');
    if (this.bytes + size <= this.limits.maxBytes) {
      this.bytes += size;
      return text;
    }
    const fits = utf8Prefix(text, this.limits.maxBytes - this.bytes);
    this.bytes = this.limits.maxBytes + 1;
    return fits;
  }

  private tooLarge(): OutputTooLarge {
    return new OutputTooLarge(
      `${this.limits.label}: the answer grew past tasks.max_output_bytes (${this.limits.maxBytes} bytes); the call was aborted and the first bytes kept`,
      this.info('length', true),
      this.content.join(''),
    );
  }
}

/** The longest start of text whose UTF-8 encoding fits in maxBytes, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up to the first byte of the character that would be cut (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
