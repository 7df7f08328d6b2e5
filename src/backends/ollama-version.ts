/** What version an Ollama server says it is: GET /api/version → {"version":"0.13.5"} (github.com/ollama/ollama docs/api.md). */
import { request } from 'undici';
import { parseBaseUrl } from './base-url.js';
import { isRecord } from './json.js';

/** Bytes of a version answer read at most. */
const MAX_BYTES = 4096;

/** The version the Ollama at `url` reports, or null when it does not answer 200 with one before the signal. Never throws. */
export async function fetchOllamaVersion(url: string, signal: AbortSignal): Promise<string | null> {
  try {
    const { origin, basePath } = parseBaseUrl(url, 'ollama');
    const res = await request(`${origin}${basePath}/api/version`, { method: 'GET', signal });
    const text = await res.body.text();
    if (res.statusCode !== 200 || text.length > MAX_BYTES) return null;
    const body: unknown = JSON.parse(text);
    return isRecord(body) && typeof body.version === 'string' && body.version !== '' ? body.version : null;
  } catch {
    return null;
  }
}
