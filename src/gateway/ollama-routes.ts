/**
 * The Ollama-compatible routes (github.com/ollama/ollama docs/api.md): /api/chat, /api/generate (NDJSON unless
 * `stream: false`), /api/tags, /api/show, /api/ps, /api/version. Bodies are checked by ollama-schemas.ts; errors are
 * Ollama's {"error": "..."}.
 */
import { Hono } from 'hono';
import { gatewayHandler, refuse, type GatewayDeps } from './exchange.js';
import { ollamaErrors } from './error-shapes.js';
import { readJson } from '../http/json-body.js';
import type { ServedModel } from './models.js';
import { OllamaAnswer } from './ollama-chat.js';
import { OllamaEmbeddings } from './embeddings.js';
import { GatewayRefusal } from './refusal.js';
import { checkBody } from './body-check.js';
import { chatBody, embedBody, generateBody, modelRequestBody, namedModel } from './ollama-schemas.js';

/** A field this route still needs (a request without it is no request for an answer). */
const missing = (field: string) => new GatewayRefusal(400, 'missing_required_parameter', `Missing required parameter: '${field}'.`, field);

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
      const body = checkBody(chatBody, raw);
      const model = body.model as string;
      if (!Array.isArray(body.messages) || body.messages.length === 0) throw missing('messages');
      return { call: { protocol: 'ollama', endpoint: 'chat', body }, presenter: () => new OllamaAnswer('chat', body.stream !== false, model, deps.now) };
    }),
  );

  app.post(
    '/api/generate',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(generateBody, raw);
      const model = body.model as string;
      if (!body.prompt) throw missing('prompt');
      return { call: { protocol: 'ollama', endpoint: 'generate', body }, presenter: () => new OllamaAnswer('generate', body.stream !== false, model, deps.now) };
    }),
  );

  app.post(
    '/api/embed',
    gatewayHandler(deps, ollamaErrors, (raw) => {
      const body = checkBody(embedBody, raw);
      const model = body.model as string;
      if (!body.input) throw missing('input');
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
      // Older clients send the model as `name`.
      name = namedModel(checkBody(modelRequestBody, await readJson(c, deps.bodyLimitBytes)));
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
