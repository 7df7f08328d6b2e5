/**
 * Reads an OpenAI-compatible server's answer into a ChatRelay: chat.completion.chunk / text_completion SSE events up
 * to `data: [DONE]` (delta.content or text, delta.refusal, delta.reasoning_content or reasoning, delta.tool_calls pieces, logprobs,
 * finish_reason, model, system_fingerprint, usage), or an embeddings list. Formats:
 * platform.openai.com/docs/api-reference/chat-streaming.
 */
import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../../errors.js';
import { readJsonBody } from '../http-client.js';
import { isRecord } from '../json.js';
import { readCompletionStream, readFacts } from '../openai-stream.js';
import type { ChatRelay } from './relay.js';
import type { ToolCallDelta } from '../../tasks/chat.js';

/** Reads a streamed chat or text completion to its end and relays it, piece by piece (openai-stream.ts). */
export async function relayOpenAiStream(res: Dispatcher.ResponseData, label: string, relay: ChatRelay): Promise<void> {
  const toolCallPieces = new ToolCallPieces();
  await readCompletionStream(res, label, relay.answer, (choice, chunk) => {
    if (typeof chunk.system_fingerprint === 'string') relay.systemFingerprint ??= chunk.system_fingerprint;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
    const content = typeof delta.content === 'string' ? delta.content : choice.text;
    relay.piece(str(content), str(reasoning), toolCallPieces.read(delta.tool_calls), isRecord(choice.logprobs) ? choice.logprobs : undefined, str(delta.refusal));
  });
  relay.end();
}

/** Reads an embeddings list ({data: [{embedding, index}], usage}) and relays its vectors in input order. */
export async function relayOpenAiEmbeddings(res: Dispatcher.ResponseData, label: string, relay: ChatRelay): Promise<void> {
  const value = await readJsonBody(res.body, 'response body', label, relay.answer.bodyLimit);
  if (!isRecord(value) || !Array.isArray(value.data)) throw new BackendProtocolError(`${label}: the embeddings answer has no "data" array`);
  const items = value.data.filter(isRecord).sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
  const vectors = items.map((item, i) => {
    if (!Array.isArray(item.embedding)) throw new BackendProtocolError(`${label}: data[${i}].embedding is not a list of numbers`);
    return item.embedding as number[];
  });
  readFacts(value, relay.answer);
  relay.embeddings(vectors);
  relay.end();
}

/**
 * One stream's delta.tool_calls pieces ([{index, id?, type?, function: {name?, arguments?}}]) as ToolCallDeltas that
 * any client can put together. OpenAI sends a call's id and name once, in its first piece, and an index in each; some
 * OpenAI-compatible servers do not (Gemini's layer leaves out the index, others repeat the whole name in every piece).
 * So: without an index, a new id starts a new call and a piece without one continues the last; an id or a name equal
 * to what the call already has is a repeat, not more of it.
 */
class ToolCallPieces {
  private readonly calls = new Map<number, { id: string | undefined; name: string | undefined }>();
  private last: number | null = null;

  read(raw: unknown): ToolCallDelta[] | undefined {
    if (!Array.isArray(raw)) return undefined;
    return raw.filter(isRecord).map((call, position) => {
      const fn = isRecord(call.function) ? call.function : {};
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
      const name = typeof fn.name === 'string' && fn.name !== '' ? fn.name : undefined;
      const index = this.indexOf(call.index, id, position);
      const known = this.calls.get(index) ?? { id: undefined, name: undefined };
      const piece: ToolCallDelta = { index };
      if (id !== undefined && id !== known.id) piece.id = id;
      if (name !== undefined && name !== known.name) piece.name = name;
      if (typeof fn.arguments === 'string') piece.arguments = fn.arguments;
      this.calls.set(index, { id: id ?? known.id, name: piece.name === undefined ? known.name : (known.name ?? '') + piece.name });
      this.last = index;
      return piece;
    });
  }

  private indexOf(raw: unknown, id: string | undefined, position: number): number {
    if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
    if (id !== undefined) {
      for (const [index, call] of this.calls) if (call.id === id) return index;
      return this.calls.size === 0 ? 0 : Math.max(...this.calls.keys()) + 1;
    }
    return this.last ?? position;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
