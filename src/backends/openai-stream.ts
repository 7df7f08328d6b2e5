/**
 * The SSE stream of an OpenAI-compatible completion, read to its end (platform.openai.com/docs/api-reference/
 * chat-streaming; legacy completions stream text_completion objects the same way): `data: {...}` events up to
 * `data: [DONE]`, each a chunk with `model`, `usage` (the include_usage chunk has empty `choices`) and `choices[0]`
 * carrying a delta (or `text`) and `finish_reason`. Errors a server reports mid-stream (an `error` event, or a chunk
 * with `error`) are thrown as BackendReportedError.
 */
import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../errors.js';
import type { AnswerBuilder } from './answer.js';
import { isRecord, optionalNumber, parseBackendJson, parseLooseJson, reportedError } from './json.js';
import { readJsonBody } from './http-client.js';
import { CompleteBy, eachLine } from './body-chunks.js';
import { MAX_LINE_BYTES } from './lines.js';
import { SseDecoder, type SseEvent } from './sse.js';

/**
 * How long after the finish reason the usage chunk and `data: [DONE]` are waited for. Servers send both at once after
 * it; one that sends neither and holds the response open (keep-alive comments and all) must not hold the answer.
 */
export const TRAILING_FACTS_MS = 2_000;

/** Socket errors by which a server that already sent its finish reason may hang up before `[DONE]`. */
const HANG_UP_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/**
 * Reads the stream: model, usage and finish_reason go into `answer`, each chunk's first choice to `onChoice` with the
 * chunk (before its finish_reason is noted). Throws BackendProtocolError for a body that is not such a stream, or one
 * that ends without a choice or without a finish_reason or [DONE]; a JSON body with an `error` (a server refusing
 * before it streams) is thrown as the server's error, and a whole completion (a server ignoring `stream: true`) is
 * read as one chunk. The answer is complete at [DONE], or TRAILING_FACTS_MS after the finish reason. A connection the server drops after the finish reason ends the answer, as [DONE] would.
 */
export async function readCompletionStream(res: Dispatcher.ResponseData, label: string, answer: AnswerBuilder, onChoice: (choice: Record<string, unknown>, chunk: Record<string, unknown>) => void): Promise<void> {
  if (String(res.headers['content-type'] ?? '').startsWith('application/json')) return readWholeCompletion(res, label, answer, onChoice);
  let sawDone = false;
  let sawChoice = false;
  const afterFinish = new CompleteBy(TRAILING_FACTS_MS);
  let eventCount = 0;
  const onEvent = (event: SseEvent) => {
    // Nothing after [DONE] counts (eachLine stops there; a last partial event may still be flushed by end()).
    if (sawDone) return;
    if (event.event === 'error') throw reportedError(parseLooseJson(event.data), label);
    // A named event of another kind (a proxy's `event: ping` keep-alive) carries no part of the answer.
    if (event.event !== 'message') return;
    eventCount++;
    if (event.data.trim() === '[DONE]') {
      sawDone = true;
      return;
    }
    const chunk = parseBackendJson(event.data, `SSE event ${eventCount}`, label);
    if (!isRecord(chunk)) throw new BackendProtocolError(`${label}: SSE event ${eventCount} is not a JSON object`);
    // Servers that fail mid-stream send {"error": {...}} as an event.
    if (chunk.error !== undefined && chunk.error !== null) throw reportedError(chunk.error, label);
    readFacts(chunk, answer);
    if (!Array.isArray(chunk.choices)) throw new BackendProtocolError(`${label}: SSE event ${eventCount} has no "choices" array`);
    const choice: unknown = chunk.choices[0];
    // The usage chunk that include_usage adds has an empty choices array.
    if (choice === undefined) return;
    if (!isRecord(choice)) throw new BackendProtocolError(`${label}: SSE event ${eventCount} has a malformed choice`);
    sawChoice = true;
    onChoice(choice, chunk);
    const finish = finishReasonOf(choice);
    if (finish !== null) {
      answer.rawFinishReason = finish;
      afterFinish.start();
    } else {
      // More of the answer after a finish reason (a server that sent one too early): the wait starts again.
      afterFinish.restart();
    }
  };
  const events = new SseDecoder(label);
  try {
    // [DONE] completes the answer: it does not wait for the server to end the body; nor, past a moment, does a finish
    // reason that no [DONE] follows.
    const ended = await eachLine(res.body, (line) => (events.push(line, onEvent), sawDone), label, MAX_LINE_BYTES, afterFinish);
    if (ended === 'end') events.end(onEvent);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (!(answer.rawFinishReason !== undefined && typeof code === 'string' && HANG_UP_CODES.has(code))) throw err;
  }
  if (!sawChoice) {
    const contentType = String(res.headers['content-type'] ?? 'none');
    throw new BackendProtocolError(
      eventCount === 0
        ? `${label}: response is not an SSE stream (no data events; content-type ${contentType})`
        : `${label}: the stream ended without carrying a choice (${eventCount} events received)`,
    );
  }
  if (!sawDone && answer.rawFinishReason === undefined) {
    throw new BackendProtocolError(`${label}: SSE stream ended without a finish_reason or [DONE] (${eventCount} events received)`);
  }
}

/**
 * A choice's finish reason, or null while the answer goes on: servers that mean "not yet" send null, and some an
 * empty string or the text "null" in every chunk (SGLang 0.4.3, Ollama's OpenAI layer in 2024, KoboldCpp).
 */
export function finishReasonOf(choice: Record<string, unknown>): string | null {
  const reason = choice.finish_reason;
  return typeof reason === 'string' && reason !== '' && reason !== 'null' ? reason : null;
}

/**
 * A JSON body where a stream was asked for: a server refusing before it streams ({"error": ...}), or one that ignores
 * `stream: true` and answers a whole chat.completion / text_completion (some OpenAI-compatible servers and proxies
 * do), read as a stream of one chunk whose delta is the whole message. Bounded by the answer's byte limit.
 */
async function readWholeCompletion(res: Dispatcher.ResponseData, label: string, answer: AnswerBuilder, onChoice: (choice: Record<string, unknown>, chunk: Record<string, unknown>) => void): Promise<void> {
  const body = await readJsonBody(res.body, 'answer', label, answer.bodyLimit);
  if (isRecord(body) && body.error !== undefined && body.error !== null) throw reportedError(body.error, label);
  const choice: unknown = isRecord(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(body) || !isRecord(choice)) {
    throw new BackendProtocolError(`${label}: response is not an SSE stream, nor a completion with a choice (content-type application/json)`);
  }
  readFacts(body, answer);
  onChoice(isRecord(choice.message) ? { ...choice, delta: choice.message } : choice, body);
  answer.rawFinishReason = finishReasonOf(choice) ?? answer.rawFinishReason;
}

/** The model and usage a chunk or body reports (usage.completion_tokens_details.reasoning_tokens included). */
export function readFacts(value: Record<string, unknown>, answer: AnswerBuilder): void {
  if (typeof value.model === 'string' && value.model !== '') answer.model = value.model;
  const usage = value.usage;
  if (!isRecord(usage)) return;
  const details = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  const promptDetails = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  answer.setUsage({
    promptTokens: optionalNumber(usage.prompt_tokens),
    completionTokens: optionalNumber(usage.completion_tokens),
    reasoningTokens: optionalNumber(details.reasoning_tokens),
    cachedTokens: optionalNumber(promptDetails.cached_tokens),
  });
}
