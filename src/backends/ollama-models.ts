/**
 * What an Ollama server says of its models (github.com/ollama/ollama docs/api.md): POST /api/show {"model"} → the
 * model's details, model_info and capabilities; GET /api/tags and /api/ps → {"models": [...]} of the models it has
 * and of those it has loaded; POST
 * /api/generate with keep_alive 0 unloads one.
 */
import { request } from 'undici';
import { parseBaseUrl } from './base-url.js';
import { isRecord } from './json.js';

/** Bytes of an answer read at most (a show answer with its template and license runs to tens of kilobytes). */
const MAX_BYTES = 1024 * 1024;

/** How long one answer is waited for: these answer listing requests, which must not hang on a busy backend. */
export const OLLAMA_MODELS_TIMEOUT_MS = 2_000;

/** The JSON object the Ollama at `url` answers `path` with (200 only); null when it does not within the timeout. Never throws. */
async function askOllama(url: string, path: string, body?: object): Promise<Record<string, unknown> | null> {
  try {
    const { origin, basePath } = parseBaseUrl(url, 'ollama');
    const res = await request(`${origin}${basePath}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(OLLAMA_MODELS_TIMEOUT_MS),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200 || text.length > MAX_BYTES) return null;
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** The Ollama's /api/show answer for `model`, or null. */
export const showOllamaModel = (url: string, model: string) => askOllama(url, '/api/show', { model });

/**
 * Asks the Ollama to unload `model` now (POST /api/generate {"model", "keep_alive": 0}, as `ollama stop` does); true
 * once it said so. Requests still running on it finish first (Ollama expires the runner after them).
 */
export const unloadOllamaModel = async (url: string, model: string): Promise<boolean> => (await askOllama(url, '/api/generate', { model, keep_alive: 0 })) !== null;

/** The models the Ollama's /api/tags lists (each as it wrote it), or null when it does not answer. */
export async function listedOllamaModels(url: string): Promise<Record<string, unknown>[] | null> {
  const answer = await askOllama(url, '/api/tags');
  return answer !== null && Array.isArray(answer.models) ? answer.models.filter(isRecord) : null;
}

/** The models the Ollama's /api/ps lists as loaded (each as it wrote it), or null when it does not answer. */
export async function loadedOllamaModels(url: string): Promise<Record<string, unknown>[] | null> {
  const answer = await askOllama(url, '/api/ps');
  return answer !== null && Array.isArray(answer.models) ? answer.models.filter(isRecord) : null;
}
