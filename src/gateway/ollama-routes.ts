/**
 * The Ollama-compatible routes (github.com/ollama/ollama docs/api.md): /api/chat, /api/generate (NDJSON unless
 * `stream: false`), /api/tags, /api/show, /api/ps, /api/version. Errors are Ollama's {"error": "..."}.
 */
import { Hono } from 'hono';
import { gatewayHandler, refuse, type GatewayDeps } from './exchange.js';
import { ollamaErrors } from './error-shapes.js';
import { readJson } from '../http/json-body.js';
import type { ServedModel } from './models.js';
import { OllamaAnswer } from './ollama-chat.js';
import { OllamaEmbeddings } from './embeddings.js';
import { bodyObject, checkMessages, optional, required } from './refusal.js';

/** Ollama names every model with a tag; an untagged one is its ":latest". */
const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`);

function listing(m: ServedModel) {
  return {
    name: tagged(m.name),
    model: tagged(m.name),
    modified_at: '1970-01-01T00:00:00Z',
    size: 0,
    digest: '',
    details: { parent_model: '', format: '', family: '', families: null, parameter_size: '', quantization_level: '' },
  };
}

export function ollamaRoutes(deps: GatewayDeps): Hono {
  const app = new Hono();

  app.post(
    '/api/chat',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      checkMessages(required(body, 'messages', 'array') as unknown[]);
      optional(body, 'stream', 'boolean');
      optional(body, 'tools', 'array');
      optional(body, 'options', 'object');
      return { call: { protocol: 'ollama', endpoint: 'chat', body }, presenter: () => new OllamaAnswer('chat', body.stream !== false, model, deps.now) };
    }),
  );

  app.post(
    '/api/generate',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      required(body, 'prompt', 'string');
      optional(body, 'stream', 'boolean');
      optional(body, 'options', 'object');
      return { call: { protocol: 'ollama', endpoint: 'generate', body }, presenter: () => new OllamaAnswer('generate', body.stream !== false, model, deps.now) };
    }),
  );

  app.post(
    '/api/embed',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      required(body, 'input', 'string or array');
      return { call: { protocol: 'ollama', endpoint: 'embeddings', body }, presenter: () => new OllamaEmbeddings(model, deps.now) };
    }),
  );

  app.get('/api/tags', async (c) => c.json({ models: (await deps.models.list()).map(listing) }));

  app.get('/api/ps', async (c) =>
    c.json({ models: (await deps.models.list()).map((m) => ({ ...listing(m), expires_at: '0001-01-01T00:00:00Z', size_vram: 0 })) }),
  );

  app.get('/api/version', async (c) => c.json({ version: await deps.ollamaVersion() }));

  app.post('/api/show', async (c) => {
    let name: string;
    try {
      const body = bodyObject(await readJson(c, deps.bodyLimitBytes));
      // Older clients send the model as `name`.
      name = required(body.model === undefined ? { model: body.name } : body, 'model', 'string') as string;
    } catch (err) {
      return refuse(c, ollamaErrors, err);
    }
    const model = await deps.models.find(name);
    if (!model) return c.json({ error: `model '${name}' not found` }, 404);
    const { details } = listing(model);
    return c.json({ modelfile: '', parameters: '', template: '', details, model_info: {}, capabilities: ['completion', 'tools'], modified_at: '1970-01-01T00:00:00Z' });
  });

  return app;
}
