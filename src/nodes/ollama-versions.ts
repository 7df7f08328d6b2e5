/**
 * The versions of a koubou-node's Ollama backends, as each one's GET /api/version says, asked at start and every
 * OLLAMA_VERSION_REFRESH_MS (as the coordinator asks its own): the node sends them with its join and its beats, so the
 * coordinator's /api/version can report the oldest Ollama in the whole pool.
 */
import { OLLAMA_VERSION_REFRESH_MS, fetchOllamaVersions } from '../backends/ollama-version.js';
import type { BackendSettings } from '../backends/types.js';

export interface OllamaVersionWatch {
  /** Resolves once every Ollama backend has answered or timed out the first time. */
  readonly ready: Promise<void>;
  /** By backend name: the version its server last reported, null when it did not answer. Only Ollama backends. */
  current(): Record<string, string | null>;
  stop(): void;
}

/** Starts asking; the timer does not keep the process alive. */
export function watchOllamaVersions(backends: readonly Pick<BackendSettings, 'name' | 'type' | 'url'>[]): OllamaVersionWatch {
  const ollamas = backends.filter((b) => b.type === 'ollama');
  let versions: Record<string, string | null> = Object.fromEntries(ollamas.map((b) => [b.name, null]));
  const ask = async () => {
    versions = await fetchOllamaVersions(ollamas);
  };
  const ready = ollamas.length === 0 ? Promise.resolve() : ask();
  const timer = ollamas.length === 0 ? null : setInterval(() => void ask(), OLLAMA_VERSION_REFRESH_MS).unref();
  return {
    ready,
    current: () => versions,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
