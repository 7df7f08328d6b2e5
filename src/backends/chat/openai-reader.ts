/**
 * Reads an OpenAI-compatible server's answer into a ChatRelay: chat.completion.chunk / text_completion SSE events up
 * to `data: [DONE]` (delta.content or text, delta.reasoning_content or reasoning, delta.tool_calls pieces, logprobs,
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
  await readCompletionStream(res, label, relay.answer, (choice, chunk) => {
    if (typeof chunk.system_fingerprint === 'string') relay.systemFingerprint ??= chunk.system_fingerprint;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
    const content = typeof delta.content === 'string' ? delta.content : choice.text;
    relay.piece(str(content), str(reasoning), toolCallPieces(delta.tool_calls), isRecord(choice.logprobs) ? choice.logprobs : undefined);
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

/** delta.tool_calls: [{index, id?, type?, function: {name?, arguments?}}]. */
function toolCallPieces(raw: unknown): ToolCallDelta[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.filter(isRecord).map((call, i) => {
    const fn = isRecord(call.function) ? call.function : {};
    const piece: ToolCallDelta = { index: typeof call.index === 'number' ? call.index : i };
    if (typeof call.id === 'string') piece.id = call.id;
    if (typeof fn.name === 'string') piece.name = fn.name;
    if (typeof fn.arguments === 'string') piece.arguments = fn.arguments;
    return piece;
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
