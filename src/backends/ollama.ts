import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../errors.js';
import { parseBaseUrl } from './base-url.js';
import { closePool, createBackendPool, fetchModelNames, readJsonBody, sendBackendRequest } from './http-client.js';
import { toBackendError } from './http-errors.js';
import { errorPayloadText, isRecord, optionalNumber, parseBackendJson } from './json.js';
import { readLines } from './lines.js';
import type { Backend, BackendSettings, GenerateRequest, GenerateResult } from './types.js';

type OllamaEndpoint = 'chat' | 'generate';

/** One decoded Ollama response object: the answer piece it carries and whether it is the last one. */
interface OllamaPiece {
  text: string;
  done: boolean;
  object: Record<string, unknown>;
}

/** A Backend speaking Ollama's native API (/api/chat or /api/generate, NDJSON streaming). */
export function createOllamaBackend(settings: BackendSettings): Backend {
  const { origin, basePath } = parseBaseUrl(settings.url, settings.name);
  const label = `ollama backend "${settings.name}" (${origin}${basePath})`;
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
      const final = stream
        ? await readStreamedAnswer(res.body, endpoint, label, req.onChunk)
        : await readSingleAnswer(res.body, endpoint, label);
      return {
        output: final.output,
        model: typeof final.object.model === 'string' && final.object.model !== '' ? final.object.model : model,
        promptTokens: optionalNumber(final.object.prompt_eval_count),
        completionTokens: optionalNumber(final.object.eval_count),
      };
    } catch (err) {
      throw toBackendError(err, req.signal, label);
    }
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

/** Reads NDJSON objects as they arrive until the one with `done: true`, passing each piece to onChunk. */
async function readStreamedAnswer(
  body: Dispatcher.ResponseData['body'],
  endpoint: OllamaEndpoint,
  label: string,
  onChunk: ((text: string) => void) | undefined,
): Promise<{ output: string; object: Record<string, unknown> }> {
  const pieces: string[] = [];
  let final: Record<string, unknown> | undefined;
  let lineCount = 0;
  for await (const line of readLines(body)) {
    // Read on past the final object to the end of the body so the connection can be reused.
    if (final !== undefined || line.trim() === '') continue;
    lineCount++;
    const piece = decodePiece(parseBackendJson(line, `stream line ${lineCount}`, label), endpoint, label, `stream line ${lineCount}`);
    if (piece.text !== '') {
      pieces.push(piece.text);
      onChunk?.(piece.text);
    }
    if (piece.done) final = piece.object;
  }
  if (final === undefined) {
    throw new BackendProtocolError(
      `${label}: stream ended before the object with "done": true (${lineCount} ${lineCount === 1 ? 'line' : 'lines'} received)`,
    );
  }
  return { output: pieces.join(''), object: final };
}

/** Reads the single JSON object a `stream: false` request answers with. */
async function readSingleAnswer(
  body: Dispatcher.ResponseData['body'],
  endpoint: OllamaEndpoint,
  label: string,
): Promise<{ output: string; object: Record<string, unknown> }> {
  const piece = decodePiece(await readJsonBody(body, 'response body', label), endpoint, label, 'response body');
  return { output: piece.text, object: piece.object };
}

/** Checks one response object's shape and pulls out its text: `message.content` (chat) or `response` (generate). */
function decodePiece(value: unknown, endpoint: OllamaEndpoint, label: string, where: string): OllamaPiece {
  if (!isRecord(value)) throw new BackendProtocolError(`${label}: ${where} is not a JSON object`);
  // Ollama reports failures that happen after the headers as an {"error": "..."} object.
  if (value.error !== undefined) {
    throw new BackendProtocolError(`${label}: server reported an error: ${errorPayloadText(value.error)}`);
  }
  const done = value.done === true;
  const text = endpoint === 'chat' ? (isRecord(value.message) ? value.message.content : undefined) : value.response;
  if (typeof text === 'string') return { text, done, object: value };
  // The closing object may carry no text at all.
  if (text === undefined && done) return { text: '', done, object: value };
  const field = endpoint === 'chat' ? 'message.content' : 'response';
  throw new BackendProtocolError(`${label}: ${where} has no string "${field}"`);
}
