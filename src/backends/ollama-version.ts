/** What version an Ollama server says it is: GET /api/version → {"version":"0.13.5"} (github.com/ollama/ollama docs/api.md). */
import { request } from 'undici';
import { parseBaseUrl } from './base-url.js';
import { isRecord } from './json.js';

/** Bytes of a version answer read at most. */
const MAX_BYTES = 4096;

/** How often a coordinator or a node asks its Ollama backends their versions again (an Ollama may be upgraded or come up). */
export const OLLAMA_VERSION_REFRESH_MS = 30_000;

/** How long one answer is waited for. */
export const OLLAMA_VERSION_TIMEOUT_MS = 1_000;

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

/** Each named Ollama's version (null: it did not answer), asked all at once, each within OLLAMA_VERSION_TIMEOUT_MS. */
export async function fetchOllamaVersions(backends: readonly { name: string; url: string }[]): Promise<Record<string, string | null>> {
  const found = await Promise.all(backends.map((b) => fetchOllamaVersion(b.url, AbortSignal.timeout(OLLAMA_VERSION_TIMEOUT_MS))));
  return Object.fromEntries(backends.map((b, i) => [b.name, found[i]!]));
}
