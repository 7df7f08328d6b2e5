/**
 * The version GET /api/version reports. Ollama clients gate features on it (Codex CLI refuses anything older than
 * 0.13.4 for its Responses API), so it is `gateway.ollama_version` when set, else the lowest version among the local
 * Ollama backends that answer (a client may then use what every one of them has), else FALLBACK_OLLAMA_VERSION.
 */
import type { KoubouConfig } from '../config.js';
import { fetchOllamaVersion } from '../backends/ollama-version.js';

/** Reported when no Ollama backend answers: a release whose API the gateway's Ollama routes follow. */
export const FALLBACK_OLLAMA_VERSION = '0.13.5';

/** How long the backends' answers are reused, and how long one is waited for. */
const CACHE_MS = 30_000;
const ASK_TIMEOUT_MS = 1_000;

/** A source of the version to report; backends are asked at most once per CACHE_MS. */
export function ollamaVersion(config: Pick<KoubouConfig, 'gateway' | 'backends'>, now: () => number): () => Promise<string> {
  const fixed = config.gateway.ollama_version;
  const urls = config.backends.flatMap((b) => (b.type === 'ollama' && b.url ? [b.url] : []));
  let cached: { at: number; version: Promise<string> } | null = null;
  return () => {
    if (fixed !== null) return Promise.resolve(fixed);
    if (cached === null || now() - cached.at > CACHE_MS) {
      const version = Promise.all(urls.map((u) => fetchOllamaVersion(u, AbortSignal.timeout(ASK_TIMEOUT_MS)))).then(
        (found) => found.filter((v): v is string => v !== null).sort(compareVersions)[0] ?? FALLBACK_OLLAMA_VERSION,
      );
      cached = { at: now(), version };
    }
    return cached.version;
  };
}

/** Orders versions as semver does: numbers compared as numbers, a pre-release before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.replace(/^v/, '').split(/-(.*)/s);
    return { nums: core.split('+')[0]!.split('.').map((n) => Number.parseInt(n, 10) || 0), pre: pre ?? null };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === null) return 1;
  if (y.pre === null) return -1;
  return x.pre < y.pre ? -1 : 1;
}
