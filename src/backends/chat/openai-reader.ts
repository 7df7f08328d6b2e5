/**
 * Reads an OpenAI-compatible server's answer into a ChatRelay: chat.completion.chunk / text_completion SSE events up
 * to `data: [DONE]` (delta.content or text, delta.reasoning_content or reasoning, delta.tool_calls pieces,
 * finish_reason, model, usage), or an embeddings list. Formats: platform.openai.com/docs/api-reference/chat-streaming.
 */
import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../../errors.js';
import { readJsonBody } from '../http-client.js';
import { isRecord, optionalNumber, parseBackendJson, parseLooseJson, reportedError } from '../json.js';
import { readLines } from '../lines.js';
import { readSseEvents } from '../sse.js';
import type { ChatRelay } from './relay.js';
import type { ToolCallDelta } from '../../tasks/chat.js';

/** Reads a streamed chat or text completion to its end and relays it; the stream must carry a finish or [DONE]. */
export async function relayOpenAiStream(res: Dispatcher.ResponseData, label: string, relay: ChatRelay): Promise<void> {
  let sawDone = false;
  let count = 0;
  for await (const event of readSseEvents(readLines(res.body, label))) {
    if (sawDone) continue;
    count++;
    if (event.event === 'error') throw reportedError(parseLooseJson(event.data), label);
    if (event.data === '[DONE]') {
      sawDone = true;
      continue;
    }
    const chunk = parseBackendJson(event.data, `SSE event ${count}`, label);
    if (!isRecord(chunk)) throw new BackendProtocolError(`${label}: SSE event ${count} is not a JSON object`);
    if (chunk.error !== undefined && chunk.error !== null) throw reportedError(chunk.error, label);
    readFacts(chunk, relay);
    const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) continue;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
    const content = typeof delta.content === 'string' ? delta.content : choice.text;
    relay.piece(str(content), str(reasoning), toolCallPieces(delta.tool_calls));
    if (typeof choice.finish_reason === 'string') relay.answer.rawFinishReason = choice.finish_reason;
  }
  if (!sawDone && relay.answer.rawFinishReason === undefined) {
    throw new BackendProtocolError(`${label}: SSE stream ended without a finish_reason or [DONE] (${count} events received)`);
  }
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
  readFacts(value, relay);
  relay.embeddings(vectors);
  relay.end();
}

function readFacts(value: Record<string, unknown>, relay: ChatRelay): void {
  if (typeof value.model === 'string' && value.model !== '') relay.answer.model = value.model;
  if (isRecord(value.usage)) {
    relay.answer.setUsage({ promptTokens: optionalNumber(value.usage.prompt_tokens), completionTokens: optionalNumber(value.usage.completion_tokens) });
  }
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
