import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import type { SessionFailure } from './session.js';

/**
 * Turns the relayed deltas of one answer into the bytes of one client protocol. A streaming presenter returns frames
 * as deltas arrive; a collecting one returns '' until finish() gives the whole body.
 */
export interface Presenter {
  /** The content-type of a successful answer. */
  readonly contentType: string;
  /** Bytes to send for this delta (never called with the end delta). */
  delta(delta: ChatDelta): string;
  /** The closing bytes (streaming) or the whole body (collecting). */
  finish(end: ChatEnd): string;
  /** The protocol's in-stream error, once the head has gone out; '' when the protocol has none. */
  streamError(failure: SessionFailure): string;
}

/**
 * Tool calls put together from their pieces, in index order; `arguments` is the whole JSON text. A call the server sent
 * without an id (Ollama's) gets `<idPrefix><index>`: give each answer a prefix of its own (`call_<answer id>_`, as the
 * streamed answer names them), so that no two calls of a conversation share an id.
 */
export class ToolCallCollector {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  constructor(private readonly idPrefix = 'call_') {}

  add(pieces: ChatDelta['toolCalls']): void {
    for (const p of pieces ?? []) {
      const call = this.calls.get(p.index) ?? { id: p.id ?? `${this.idPrefix}${p.index}`, name: '', arguments: '' };
      if (p.id) call.id = p.id;
      if (p.name) call.name += p.name;
      if (p.arguments) call.arguments += p.arguments;
      this.calls.set(p.index, call);
    }
  }

  get size(): number {
    return this.calls.size;
  }

  list(): { id: string; name: string; arguments: string }[] {
    return [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  }
}

/**
 * The log probabilities of a whole answer from those of its streamed pieces (ChatDelta.logprobs): each list (chat's
 * content and refusal, completions' tokens, token_logprobs, top_logprobs and text_offset) joined in order.
 */
export class LogprobsCollector {
  private lists: Record<string, unknown[] | null> | null = null;

  add(piece: Record<string, unknown> | undefined): void {
    if (!piece) return;
    this.lists ??= {};
    for (const [key, value] of Object.entries(piece)) {
      const list = this.lists[key];
      if (Array.isArray(value)) {
        if (list) list.push(...value);
        else this.lists[key] = [...value];
      } else if (!(key in this.lists)) this.lists[key] = null;
    }
  }

  /** The joined object, or null when no piece had any (as the API says when logprobs were not asked for). */
  whole(): Record<string, unknown[] | null> | null {
    return this.lists;
  }
}

/** RFC 3339 time with nanosecond digits, as Ollama writes created_at. */
export function ollamaTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

/** An OpenAI finish_reason for how an answer ended, whichever server said it (Ollama's done_reason is "stop" for tool calls). */
export function openAiFinishReason(end: ChatEnd, hadToolCalls: boolean): string {
  const raw = end.finishReason;
  if (raw === 'length' || raw === 'content_filter' || raw === 'tool_calls' || raw === 'function_call') return raw;
  return hadToolCalls ? 'tool_calls' : 'stop';
}
