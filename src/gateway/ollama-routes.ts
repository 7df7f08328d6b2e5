/**
 * The Ollama-compatible routes (github.com/ollama/ollama docs/api.md and server/routes.go): /api/chat, /api/generate
 * (NDJSON unless `stream: false`), /api/embed, /api/embeddings (the older one-prompt form), /api/tags, /api/show,
 * /api/ps, /api/version, /api/pull and /api/delete. Bodies are checked by ollama-schemas.ts; errors are Ollama's
 * {"error": "..."}. As Ollama does, a chat without messages or a generate without a prompt loads the model and an
 * embed without input returns no vectors, at once: the pool's backends load their models as they need them, so there
 * is nothing to run. With keep_alive 0 it unloads the model: every local Ollama backend serving it is asked to. Pulling a model the pool serves succeeds at once (Codex CLI
 * pulls a model it does not find under its exact name); the pool never pulls or deletes models.
 */
import { Hono, type Context } from 'hono';
import { gatewayHandler, refuse, type GatewayDeps } from './exchange.js';
import { ollamaErrors } from './error-shapes.js';
import { readJson } from '../http/json-body.js';
import { OllamaAnswer, loadAnswer } from './ollama-chat.js';
import { OllamaEmbeddings, OllamaLegacyEmbedding } from './embeddings.js';
import { checkBody } from './body-check.js';
import { chatBody, embedBody, embeddingsBody, generateBody, modelRequestBody, namedModel, unloadsNow } from './ollama-schemas.js';
import { GatewayRefusal, shownModel } from './refusal.js';
import type { ModelFacts } from './ollama-model-facts.js';
import type { ServedModel } from './models.js';

/** Ollama's answer to a request naming a model it does not have (server/routes.go). */
const notFound = (name: string) => `model '${shownModel(name)}' not found`;

export function ollamaRoutes(deps: GatewayDeps, facts: ModelFacts): Hono {
  const app = new Hono();
  // A load is answered at once (backends load a model when a request needs it); an unload reaches the Ollamas serving it.
  const loadRequest = (endpoint: 'chat' | 'generate', model: string, keepAlive: unknown) => ({
    model,
    answer: async () => {
      if (unloadsNow(keepAlive)) {
        const silent = await facts.unload(model);
        if (silent.length > 0) deps.log.warn('an unload request reached not every Ollama serving its model', { model: shownModel(model), backends: silent });
      }
      return loadAnswer(endpoint, model, keepAlive, deps.now());
    },
  });

  app.post(
    '/api/chat',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(chatBody, raw);
      const model = body.model as string;
      if (!Array.isArray(body.messages) || body.messages.length === 0) return loadRequest('chat', model, body.keep_alive);
      return { call: { protocol: 'ollama', endpoint: 'chat', body }, presenter: (taskId) => new OllamaAnswer('chat', body.stream !== false, model, deps.now, taskId, body.think !== false) };
    }),
  );

  app.post(
    '/api/generate',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(generateBody, raw);
      const model = body.model as string;
      if (!body.prompt) return loadRequest('generate', model, body.keep_alive);
      return { call: { protocol: 'ollama', endpoint: 'generate', body }, presenter: (taskId) => new OllamaAnswer('generate', body.stream !== false, model, deps.now, taskId, body.think !== false) };
    }),
  );

  app.post(
    '/api/embed',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(embedBody, raw);
      const model = body.model as string;
      if (!body.input || (Array.isArray(body.input) && body.input.length === 0)) return { model, answer: () => ({ model, embeddings: [] }) };
      return { call: { protocol: 'ollama', endpoint: 'embeddings', body }, presenter: () => new OllamaEmbeddings(model, deps.now) };
    }),
  );

  app.post(
    '/api/embeddings',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(embeddingsBody, raw);
      const model = body.model as string;
      if (!body.prompt) return { model, answer: () => ({ embedding: [] }) };
      // Asked as /api/embed asks it, whatever the backend: one input, one vector back.
      const { prompt, ...rest } = body;
      return { call: { protocol: 'ollama', endpoint: 'embeddings', body: { ...rest, input: prompt } }, presenter: () => new OllamaLegacyEmbedding() };
    }),
  );

  app.get('/api/tags', async (c) => c.json({ models: await facts.tags(await deps.models.list()) }));

  app.get('/api/ps', async (c) => c.json({ models: await facts.running() }));

  app.get('/api/version', async (c) => c.json({ version: await deps.ollamaVersion() }));

  app.post('/api/show', async (c) => {
    const found = await servedModel(c, deps);
    return found instanceof Response ? found : c.json(await facts.show(found.model));
  });

  app.post('/api/pull', async (c) => {
    const found = await servedModel(c, deps, (name) => `${notFound(name)}: the pool serves its backends' models and pulls none`);
    if (found instanceof Response) return found;
    // Ollama's pull answers: progress lines ending in {"status":"success"}, or with stream false only that one.
    if (found.body.stream === false) return c.body(JSON.stringify({ status: 'success' }), 200, { 'content-type': 'application/json' });
    return c.body(`${JSON.stringify({ status: 'success' })}\n`, 200, { 'content-type': 'application/x-ndjson' });
  });

  app.delete('/api/delete', async (c) => {
    const found = await servedModel(c, deps);
    if (found instanceof Response) return found;
    return refuse(c, ollamaErrors, new GatewayRefusal(403, 'not_supported', `model '${shownModel(namedModel(found.body))}' was not deleted: the pool does not manage its backends' models; delete it on the Ollama that holds it`, 'model'));
  });

  return app;
}

/**
 * The model a show, pull or delete body names, if the pool serves it; else the refusal to send (400, or a 404 saying
 * `missing`).
 */
async function servedModel(c: Context, deps: GatewayDeps, missing = notFound): Promise<{ model: ServedModel; body: Record<string, unknown> } | Response> {
  try {
    const body = checkBody(modelRequestBody, await readJson(c, deps.bodyLimitBytes));
    const name = namedModel(body);
    const model = await deps.models.find(name);
    if (model === null) throw new GatewayRefusal(404, 'model_not_found', missing(name), 'model');
    return { model, body };
  } catch (err) {
    return refuse(c, ollamaErrors, err);
  }
}
