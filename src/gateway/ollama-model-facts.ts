/**
 * What /api/tags, /api/show and /api/ps say of the pool's models (shapes: github.com/ollama/ollama api/types.go
 * ListModelResponse, ShowResponse, ProcessModelResponse). A model of a local Ollama backend is what that Ollama says
 * (its /api/show, its /api/ps), asked at once and each within a short timeout. For the others (OpenAI-compatible
 * servers, koubou-nodes' workers), or when the Ollama does not answer, only what the gateway knows: capabilities from
 * what the model has been asked to do ("embedding" once it has answered embeddings; "completion" and "tools" for a
 * model that generates, as the gateway relays tools to every backend), and as running, the models answering a gateway
 * request now or that finished one within Ollama's default keep-alive.
 */
import type { KoubouConfig } from '../config.js';
import { listedOllamaModels, loadedOllamaModels, showOllamaModel, unloadOllamaModel } from '../backends/ollama-models.js';
import { sameModel } from '../routing/capabilities.js';
import type { ModelDirectory, ServedModel } from './models.js';
import type { ModelUse } from './model-use.js';

/** Ollama keeps a model loaded this long after its last request unless told otherwise (its OLLAMA_KEEP_ALIVE default). */
const KEEP_ALIVE_MS = 5 * 60_000;

/** Ollama names every model with a tag; an untagged one is its ":latest". */
const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);

const NO_DETAILS = { parent_model: '', format: '', family: '', families: null, parameter_size: '', quantization_level: '' };

/** A served model as /api/tags lists it when its server says nothing of it (no size, digest or file details). */
export function listing(m: ServedModel) {
  return { name: tagged(m.name), model: tagged(m.name), modified_at: '1970-01-01T00:00:00Z', size: 0, digest: '', details: NO_DETAILS };
}

export interface ModelFacts {
  /**
   * The /api/tags entries of these served models: a local Ollama backend's own entry (size, digest, details, modified_at:
   * what Open WebUI shows) under the pool's name, else `listing`'s.
   */
  tags(models: readonly ServedModel[]): Promise<Record<string, unknown>[]>;
  /** The /api/show answer for a served model. */
  show(model: ServedModel): Promise<Record<string, unknown>>;
  /** The /api/ps list. */
  running(): Promise<Record<string, unknown>[]>;
  /**
   * Unloads `name` from every local Ollama backend serving it, under the name that backend knows it by; resolves with
   * the names of those that did not answer. A koubou-node's backends are not reached, nor OpenAI-compatible servers.
   */
  unload(name: string): Promise<string[]>;
}

export function modelFacts(config: Pick<KoubouConfig, 'backends'>, models: ModelDirectory, use: ModelUse, now: () => number): ModelFacts {
  /** The URL of the local Ollama backend that serves `model`, if that is where it runs. */
  const ollamaUrl = (model: ServedModel) => (model.protocol === 'ollama' ? config.backends.find((b) => b.name === model.owner)?.url ?? null : null);

  const known = (model: ServedModel) => {
    const { generated, embedded } = use.kinds(model.name);
    const capabilities = embedded && !generated ? ['embedding'] : ['completion', 'tools', ...(embedded ? ['embedding'] : [])];
    return { details: NO_DETAILS, model_info: {}, capabilities, modified_at: '1970-01-01T00:00:00Z' };
  };

  return {
    async tags(served) {
      const urls = [...new Set(served.map(ollamaUrl).filter((u): u is string => u !== null))];
      const answers = new Map(await Promise.all(urls.map(async (url) => [url, await listedOllamaModels(url)] as const)));
      return served.map((model) => {
        const url = ollamaUrl(model);
        const own = url === null ? undefined : answers.get(url)?.find((m) => typeof m.name === 'string' && sameModel(m.name, model.name));
        return own ? { ...own, name: tagged(model.name), model: tagged(model.name) } : listing(model);
      });
    },

    async unload(name) {
      const serving = config.backends.flatMap((b) => {
        const known = b.type === 'ollama' ? [b.model, ...b.models].find((m) => sameModel(m, name)) : undefined;
        return known === undefined ? [] : [{ backend: b.name, url: b.url, model: known }];
      });
      const answered = await Promise.all(serving.map((s) => unloadOllamaModel(s.url, s.model)));
      return serving.filter((_, i) => !answered[i]).map((s) => s.backend);
    },

    async show(model) {
      const url = ollamaUrl(model);
      return (url === null ? null : await showOllamaModel(url, model.name)) ?? known(model);
    },

    async running() {
      const served = await models.list();
      const urls = [...new Set(served.map(ollamaUrl).filter((u): u is string => u !== null))];
      const answers = new Map(await Promise.all(urls.map(async (url) => [url, await loadedOllamaModels(url)] as const)));
      const out: Record<string, unknown>[] = [];
      const recent = use.recent(KEEP_ALIVE_MS);
      for (const model of served) {
        const url = ollamaUrl(model);
        const loaded = url === null ? null : answers.get(url);
        if (loaded) {
          // What the Ollama itself says: the entry for this model, if it is loaded there.
          const entry = loaded.find((m) => typeof m.name === 'string' && sameModel(m.name, model.name));
          if (entry) out.push(entry);
          continue;
        }
        const used = recent.find((r) => sameModel(r.model, model.name));
        if (used) {
          const name = tagged(model.name);
          out.push({ name, model: name, size: 0, digest: '', details: NO_DETAILS, expires_at: new Date(used.lastEnded + KEEP_ALIVE_MS).toISOString(), size_vram: 0, context_length: 0 });
        }
      }
      return out;
    },
  };
}
