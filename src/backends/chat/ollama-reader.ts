/**
 * Reads an Ollama server's answer into a ChatRelay: NDJSON objects up to the one with `done: true` (message.content or
 * response, message.thinking or thinking, message.tool_calls whole, done_reason, generate's context, counts and
 * timings), or an /api/embed answer. Format: github.com/ollama/ollama docs/api.md.
 */
import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../../errors.js';
import { readJsonBody } from '../http-client.js';
import { isRecord, optionalNumber, parseBackendJson, reportedError } from '../json.js';
import { eachLine } from '../body-chunks.js';
import type { ChatRelay } from './relay.js';
import type { ToolCallDelta } from '../../tasks/chat.js';

const DURATIONS = ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'] as const;

/** Reads a streamed /api/chat or /api/generate answer to its last object and relays it. */
export async function relayOllamaStream(res: Dispatcher.ResponseData, label: string, relay: ChatRelay): Promise<void> {
  // Assigned in the line handler, which control-flow narrowing does not follow.
  let done = null as Record<string, unknown> | null;
  let count = 0;
  let calls = 0;
  // The object with "done": true completes the answer: it does not wait for the server to end the body.
  await eachLine(res.body, (line) => {
    if (line.trim() === '') return false;
    count++;
    const value = parseBackendJson(line, `stream line ${count}`, label);
    if (!isRecord(value)) throw new BackendProtocolError(`${label}: stream line ${count} is not a JSON object`);
    if (value.error !== undefined) throw reportedError(value.error, label);
    const message = isRecord(value.message) ? value.message : value;
    const content = isRecord(value.message) ? value.message.content : value.response;
    const toolCalls = Array.isArray(message.tool_calls)
      ? message.tool_calls.filter(isRecord).map((call): ToolCallDelta => {
          const fn = isRecord(call.function) ? call.function : {};
          const piece: ToolCallDelta = { index: calls++, arguments: JSON.stringify(fn.arguments ?? {}) };
          if (typeof call.id === 'string') piece.id = call.id;
          if (typeof fn.name === 'string') piece.name = fn.name;
          return piece;
        })
      : undefined;
    // Ollama's per-token list is the `content` list of OpenAI's chat logprobs, entry for entry ({token, logprob, bytes,
    // top_logprobs}: api/types.go Logprob; its own OpenAI layer passes it on so).
    const logprobs = Array.isArray(value.logprobs) && value.logprobs.length > 0 ? { content: value.logprobs } : undefined;
    relay.piece(str(content), str(message.thinking), toolCalls, logprobs);
    if (typeof value.model === 'string' && value.model !== '') relay.answer.model = value.model;
    if (value.done === true) done = value;
    return done !== null;
  }, label);
  if (!done) throw new BackendProtocolError(`${label}: stream ended before the object with "done": true (${count} lines received)`);
  if (typeof done.done_reason === 'string') relay.answer.rawFinishReason = done.done_reason;
  if (Array.isArray(done.context) && done.context.every((n) => typeof n === 'number')) relay.context = done.context as number[];
  relay.answer.setUsage({ promptTokens: optionalNumber(done.prompt_eval_count), completionTokens: optionalNumber(done.eval_count) });
  relay.end(timings(done));
}

/** Reads an /api/embed answer ({model, embeddings: [[...]], prompt_eval_count, ...}) and relays it. */
export async function relayOllamaEmbeddings(res: Dispatcher.ResponseData, label: string, relay: ChatRelay): Promise<void> {
  const value = await readJsonBody(res.body, 'response body', label, relay.answer.bodyLimit);
  if (!isRecord(value) || !Array.isArray(value.embeddings)) throw new BackendProtocolError(`${label}: the /api/embed answer has no "embeddings" list`);
  if (typeof value.model === 'string') relay.answer.model = value.model;
  relay.answer.setUsage({ promptTokens: optionalNumber(value.prompt_eval_count) });
  relay.embeddings(value.embeddings as number[][]);
  relay.end(timings(value));
}

function timings(value: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of DURATIONS) {
    const n = optionalNumber(value[key]);
    if (n !== undefined) out[key] = n;
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
