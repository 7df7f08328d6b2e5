/**
 * The models the pool serves: each local LLM backend's `model` and `models` (its workers are started on demand), and
 * the models every live worker of a koubou-node announced (its backend's `model` and `models`). Read per request, so kept in a cache that any worker event (a
 * start, a loss, a node leaving) throws away, and that is read again after a second anyway.
 */
import type { Core } from '../core.js';
import { modelKey, sameModel } from '../routing/capabilities.js';

export interface ServedModel {
  /** As configured or announced, e.g. "llama3.2" or "gpt-oss:20b". */
  name: string;
  /** Where it runs: the local backend's name, or "node" for a koubou-node's worker. */
  owner: string;
  /** The protocol of the local backend serving it; null for a node's worker. */
  protocol: 'ollama' | 'openai' | null;
}

export interface ModelDirectory {
  /** Every served model, each once (`m` and `m:latest` are one: sameModel), local backends first. */
  list(): Promise<ServedModel[]>;
  /**
   * The served model a request's `model` names (Ollama's implied ":latest" tag ignored on either side: sameModel), or
   * null. A model whose node left less than pool.node_return_ms ago is still found: the request waits for it, as a task does.
   */
  find(name: string): Promise<ServedModel | null>;
}

/** Longest a listing is reused, events or not. */
const MAX_AGE_MS = 1_000;

/** How soon after a worker event the listing is read again (one read for a burst of events). */
const REFRESH_AFTER_EVENT_MS = 200;

/**
 * The directory of `core`'s models; `now` is the clock (ms) the cache ages by. A model of a local backend is found
 * without reading the live workers: the config says it, and each request asks.
 */
export function modelDirectory(core: Pick<Core, 'config' | 'workers' | 'workerEvents' | 'nodesHeardFrom'>, now: () => number): ModelDirectory {
  let cached: Promise<ServedModel[]> | null = null;
  let readAt = 0;
  // A worker event also reads the listing again soon (once for a burst), so a node's leaving is noticed when it happens.
  let refresh: NodeJS.Timeout | null = null;
  core.workerEvents.subscribe(() => {
    cached = null;
    refresh ??= setTimeout(() => {
      refresh = null;
      list().catch(() => undefined);
    }, REFRESH_AFTER_EVENT_MS).unref();
  });
  const local: ServedModel[] = [];
  for (const b of core.config.backends) {
    if (b.type === 'command') continue;
    for (const name of [b.model, ...b.models]) if (!local.some((m) => sameModel(m.name, name))) local.push({ name, owner: b.name, protocol: b.type });
  }
  // Nodes' models that went from the listing, until when they are still waited for (a node restarting comes back).
  const leaving = new Map<string, { model: ServedModel; until: number }>();
  let lastListed: ServedModel[] = [];
  const load = async (): Promise<ServedModel[]> => {
    const out = [...local];
    const seen = new Set(out.map((m) => modelKey(m.name)));
    for (const w of await core.workers()) {
      if (w.location !== 'remote' || (w.status !== 'idle' && w.status !== 'busy')) continue;
      for (const name of w.models) if (!seen.has(modelKey(name))) out.push({ name, owner: 'node', protocol: null }), seen.add(modelKey(name));
    }
    for (const m of lastListed) if (!seen.has(modelKey(m.name))) leaving.set(modelKey(m.name), { model: m, until: now() + core.config.pool.node_return_ms });
    for (const key of seen) leaving.delete(key);
    lastListed = out;
    return out;
  };
  const returning = (name: string): ServedModel | null => {
    const left = leaving.get(modelKey(name));
    if (left !== undefined && left.until > now()) return left.model;
    leaving.delete(modelKey(name));
    // The nodes this coordinator's store heard from before a restart rejoin in a moment.
    const heard = core.nodesHeardFrom();
    const model = now() < heard.since + core.config.pool.node_return_ms ? heard.models.find((m) => sameModel(m, name)) : undefined;
    return model === undefined ? null : { name: model, owner: 'node', protocol: null };
  };
  const list = () => {
    // Also read again after a while: an event may come just before the worker's record it announces is written.
    if (now() - readAt > MAX_AGE_MS) cached = null;
    if (cached === null) readAt = now();
    const current = (cached ??= load());
    // A failed read is not kept: the next request reads again.
    current.catch(() => (cached = null));
    return current;
  };
  const match = (models: readonly ServedModel[], name: string) => models.find((m) => sameModel(m.name, name)) ?? null;
  return {
    list,
    async find(name) {
      return match(local, name) ?? match(await list(), name) ?? returning(name);
    },
  };
}
