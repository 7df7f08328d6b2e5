import type { Dispatcher } from 'undici';
import { backendLabel } from './error-wording.js';
import { BackendProtocolError } from '../errors.js';
import { parseBaseUrl } from './base-url.js';
import { closePool, createBackendPool, fetchModelNames, readJsonBody, sendBackendRequest } from './http-client.js';
import { toBackendError } from './http-errors.js';
import { AnswerBuilder } from './answer.js';
import { isRecord, optionalNumber, parseBackendJson, reportedError } from './json.js';
import { eachLine } from './body-chunks.js';
import type { Backend, BackendSettings, GenerateRequest, GenerateResult } from './types.js';
import { relayCall } from './chat/relay.js';
import { relayOllamaEmbeddings, relayOllamaStream } from './chat/ollama-reader.js';
import { toOllamaRequest } from './chat/to-ollama.js';
import type { ChatRequest } from '../tasks/chat.js';

type OllamaEndpoint = 'chat' | 'generate';

/** A Backend speaking Ollama's native API (/api/chat or /api/generate, NDJSON streaming). */
export function createOllamaBackend(settings: BackendSettings): Backend {
  const { origin, basePath } = parseBaseUrl(settings.url, settings.name);
  const label = backendLabel('ollama', settings.name, `${origin}${basePath}`);
  const endpoint: OllamaEndpoint = settings.endpoint ?? 'chat';
  const stream = settings.stream ?? true;
  const path = `${basePath}/api/${endpoint}`;
  const pool = createBackendPool(origin);

  async function generate(req: GenerateRequest): Promise<GenerateResult> {
    const model = req.model ?? settings.model;
    try {
      const res = await sendBackendRequest(
        pool,
        { method: 'POST', path, body: requestBody(endpoint, model, req, stream), signal: req.signal },
        label,
      );
      const answer = AnswerBuilder.forRequest(req, label, model);
      if (stream) await readStreamedAnswer(res.body, endpoint, label, answer);
      else readPiece(await readJsonBody(res.body, 'response body', label, answer.bodyLimit), endpoint, label, 'response body', answer);
      return answer.finish();
    } catch (err) {
      throw toBackendError(err, req.signal, label);
    }
  }

  /** A gateway call: passed through or translated (chat/to-ollama.ts), the answer relayed piece by piece. */
  async function chat(req: ChatRequest): Promise<GenerateResult> {
    const { path: api, body } = toOllamaRequest(req.call);
    const request = { method: 'POST' as const, path: `${basePath}/api/${api}`, body, signal: req.signal };
    return relayCall(pool, request, req, label, api === 'embed' ? relayOllamaEmbeddings : relayOllamaStream);
  }

  /** /api/tags answers {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", …}]}. */
  const listModels = (signal?: AbortSignal) =>
    fetchModelNames(pool, `${basePath}/api/tags`, undefined, signal, (listing) =>
      isRecord(listing) && Array.isArray(listing.models)
        ? listing.models.flatMap((m) => (isRecord(m) ? [m.name, m.model].filter((n): n is string => typeof n === 'string') : []))
        : [],
    );

  return {
    name: settings.name,
    type: 'ollama',
    model: settings.model,
    generate,
    chat,
    probe: async (signal) => (await listModels(signal)) !== null,
    listModels,
    close: () => closePool(pool),
  };
}

function requestBody(endpoint: OllamaEndpoint, model: string, req: GenerateRequest, stream: boolean): Record<string, unknown> {
  const hasSystem = req.system !== undefined && req.system !== '';
  const limits = req.maxTokens !== undefined ? { options: { num_predict: req.maxTokens } } : {};
  if (endpoint === 'generate') {
    return hasSystem ? { model, prompt: req.prompt, system: req.system, stream, ...limits } : { model, prompt: req.prompt, stream, ...limits };
  }
  const messages = hasSystem
    ? [{ role: 'system', content: req.system }, { role: 'user', content: req.prompt }]
    : [{ role: 'user', content: req.prompt }];
  return { model, messages, stream, ...limits };
}

/** Reads NDJSON objects as they arrive into the answer, until the one with `done: true`. */
async function readStreamedAnswer(
  body: Dispatcher.ResponseData['body'],
  endpoint: OllamaEndpoint,
  label: string,
  answer: AnswerBuilder,
): Promise<void> {
  let done = false;
  let lineCount = 0;
  const take = (line: string): boolean => {
    if (line.trim() === '') return false;
    lineCount++;
    const where = `stream line ${lineCount}`;
    done = readPiece(parseBackendJson(line, where, label), endpoint, label, where, answer);
    return done;
  };
  // Lines are taken as chunks complete them (no promise per line or chunk), up to the object with "done": true: the
  // answer does not wait for the server to end the body.
  await eachLine(body, take, label);
  if (!done) {
    throw new BackendProtocolError(
      `${label}: stream ended before the object with "done": true (${lineCount} ${lineCount === 1 ? 'line' : 'lines'} received)`,
    );
  }
}

/**
 * Checks one response object's shape and adds it to the answer: the text (`message.content` for chat, `response` for
 * generate), the reasoning (`message.thinking` / `thinking`), and on the last object done_reason, model and counts.
 * Returns whether it was the last object (`done: true`).
 */
function readPiece(value: unknown, endpoint: OllamaEndpoint, label: string, where: string, answer: AnswerBuilder): boolean {
  if (!isRecord(value)) throw new BackendProtocolError(`${label}: ${where} is not a JSON object`);
  // Ollama reports failures that happen after the headers as an {"error": "..."} object.
  if (value.error !== undefined) throw reportedError(value.error, label);
  const done = value.done === true;
  const message = endpoint === 'chat' ? (isRecord(value.message) ? value.message : undefined) : value;
  const text = endpoint === 'chat' ? message?.content : value.response;
  // The closing object may carry no text at all.
  if (typeof text !== 'string' && !(text === undefined && done)) {
    const field = endpoint === 'chat' ? 'message.content' : 'response';
    throw new BackendProtocolError(`${label}: ${where} has no string "${field}"`);
  }
  if (typeof message?.thinking === 'string') answer.addReasoning(message.thinking);
  if (typeof text === 'string') answer.addContent(text);
  if (typeof value.model === 'string' && value.model !== '') answer.model = value.model;
  if (done) {
    if (typeof value.done_reason === 'string') answer.rawFinishReason = value.done_reason;
    answer.setUsage({ promptTokens: optionalNumber(value.prompt_eval_count), completionTokens: optionalNumber(value.eval_count) });
  }
  return done;
}
