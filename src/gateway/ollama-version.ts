/**
 * The version GET /api/version reports. Ollama clients gate features on it (Codex CLI refuses anything older than
 * 0.13.4 for its Responses API), so it is `gateway.ollama_version` when set, else the oldest version among the live
 * Ollama backends of the whole pool (a client may then use what every one of them has), else FALLBACK_OLLAMA_VERSION.
 * Live: a local Ollama backend that answers its own /api/version, and an Ollama backend of a koubou-node that has live
 * workers and that answered the node when it last asked (nodes send what their backends say with their beats).
 * Versions that say nothing (0.0.0 from a source build, text that is not a version) are left out (release-order.ts).
 */
import type { Core } from '../core.js';
import { OLLAMA_VERSION_REFRESH_MS, fetchOllamaVersions } from '../backends/ollama-version.js';
import { isSlotOf } from '../nats/node-protocol.js';
import { oldestRelease } from './release-order.js';

/** Reported when no Ollama backend answers: a release whose API the gateway's Ollama routes follow. */
export const FALLBACK_OLLAMA_VERSION = '0.13.5';

/** A source of the version to report; the local backends are asked at most once per OLLAMA_VERSION_REFRESH_MS. */
export function ollamaVersion(core: Pick<Core, 'config' | 'workers' | 'nodeOllamaVersions'>, now: () => number): () => Promise<string> {
  const fixed = core.config.gateway.ollama_version;
  const local = core.config.backends.filter((b) => b.type === 'ollama' && b.url);
  let cached: { at: number; versions: Promise<(string | null)[]> } | null = null;
  const localVersions = () => {
    if (cached === null || now() - cached.at > OLLAMA_VERSION_REFRESH_MS) {
      cached = { at: now(), versions: fetchOllamaVersions(local).then((byName) => Object.values(byName)) };
    }
    return cached.versions;
  };
  return async () => {
    if (fixed !== null) return fixed;
    const [own, remote] = await Promise.all([localVersions(), liveNodeVersions(core)]);
    return oldestRelease([...own, ...remote].filter((v): v is string => v !== null)) ?? FALLBACK_OLLAMA_VERSION;
  };
}

/** The versions nodes reported for their Ollama backends that have live (idle or busy) workers now. */
async function liveNodeVersions(core: Pick<Core, 'workers' | 'nodeOllamaVersions'>): Promise<(string | null)[]> {
  const reported = core.nodeOllamaVersions();
  if (reported.length === 0) return [];
  const live = (await core.workers()).filter((w) => w.location === 'remote' && (w.status === 'idle' || w.status === 'busy'));
  return reported.filter((r) => live.some((w) => w.backend === r.backend && isSlotOf(w.id, r.nodeId))).map((r) => r.version);
}
