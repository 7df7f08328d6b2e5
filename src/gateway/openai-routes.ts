/**
 * The OpenAI-compatible routes: /v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings, /v1/models
 * (platform.openai.com/docs/api-reference).
 */
import { Hono } from 'hono';
import { gatewayHandler, type GatewayDeps } from './exchange.js';
import { openAiErrors } from './error-shapes.js';
import { OpenAiChatCompletion, OpenAiChatStream } from './openai-chat.js';
import { GatewayRefusal, bodyObject, checkMessages, optional, required } from './refusal.js';
import { OpenAiEmbeddings } from './embeddings.js';
import { ResponsesAnswer } from './openai-responses.js';
import { OpenAiTextCompletion } from './openai-completions.js';
import { checkResponsesBody } from './responses-request.js';

/** stream_options.include_usage of a streamed request: the usage then comes in a chunk of its own. */
const wantsUsage = (body: Record<string, unknown>) => body.stream === true && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

export function openAiRoutes(deps: GatewayDeps): Hono {
  const app = new Hono();

  app.post(
    '/v1/chat/completions',
    gatewayHandler(deps, openAiErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      checkMessages(required(body, 'messages', 'array') as unknown[]);
      optional(body, 'stream', 'boolean');
      optional(body, 'stream_options', 'object');
      optional(body, 'tools', 'array');
      const stream = body.stream === true;
      const includeUsage = wantsUsage(body);
      return {
        call: { protocol: 'openai', endpoint: 'chat', body },
        presenter: (taskId) => {
          const meta = { id: `chatcmpl-${taskId}`, created: Math.floor(deps.now() / 1000), model };
          return stream ? new OpenAiChatStream(meta, includeUsage) : new OpenAiChatCompletion(meta);
        },
      };
    }),
  );

  app.post(
    '/v1/responses',
    gatewayHandler(deps, openAiErrors, (raw) => {
      const body = checkResponsesBody(raw);
      return {
        call: { protocol: 'openai', endpoint: 'responses', body },
        presenter: (taskId) => new ResponsesAnswer({ id: `resp_${taskId}`, createdAt: Math.floor(deps.now() / 1000), request: body, now: deps.now }, body.stream === true),
      };
    }),
  );

  app.post(
    '/v1/completions',
    gatewayHandler(deps, openAiErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      required(body, 'prompt', 'string or array');
      if (Array.isArray(body.prompt) && !body.prompt.every((p) => typeof p === 'string')) {
        throw new GatewayRefusal(400, 'invalid_type', "Invalid type for 'prompt': expected a string or a list of strings (token lists are not supported).", 'prompt');
      }
      optional(body, 'stream', 'boolean');
      optional(body, 'stream_options', 'object');
      optional(body, 'suffix', 'string');
      const stream = body.stream === true;
      const includeUsage = wantsUsage(body);
      return {
        call: { protocol: 'openai', endpoint: 'completions', body },
        presenter: (taskId) => new OpenAiTextCompletion({ id: `cmpl-${taskId}`, created: Math.floor(deps.now() / 1000), model }, stream, includeUsage),
      };
    }),
  );

  app.post(
    '/v1/embeddings',
    gatewayHandler(deps, openAiErrors, (raw) => {
      const body = bodyObject(raw);
      const model = required(body, 'model', 'string') as string;
      required(body, 'input', 'string or array');
      optional(body, 'encoding_format', 'string');
      if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
        throw new GatewayRefusal(400, 'invalid_value', `Invalid value for 'encoding_format': expected "float" or "base64", got ${JSON.stringify(body.encoding_format)}.`, 'encoding_format');
      }
      return { call: { protocol: 'openai', endpoint: 'embeddings', body }, presenter: () => new OpenAiEmbeddings(model, body.encoding_format === 'base64') };
    }),
  );

  app.get('/v1/models', async (c) => {
    const models = await deps.models.list();
    return c.json({ object: 'list', data: models.map((m) => ({ id: m.name, object: 'model', created: 0, owned_by: m.owner })) });
  });

  return app;
}
