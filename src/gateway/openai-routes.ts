/**
 * The OpenAI-compatible routes: /v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings, /v1/models and
 * /v1/models/{model} (platform.openai.com/docs/api-reference). Bodies are checked by openai-schemas.ts.
 */
import { Hono } from 'hono';
import { gatewayHandler, refuse, type GatewayDeps } from './exchange.js';
import { openAiErrors } from './error-shapes.js';
import { OpenAiChatCompletion, OpenAiChatStream } from './openai-chat.js';
import { modelNotFound } from './refusal.js';
import { checkBody } from './body-check.js';
import { chatCompletionsBody, completionsBody, embeddingsBody, withoutNoLimit } from './openai-schemas.js';
import type { ServedModel } from './models.js';
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
      const body = withoutNoLimit(checkBody(chatCompletionsBody, raw));
      const model = body.model as string;
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
      const body = withoutNoLimit(checkBody(completionsBody, raw));
      const model = body.model as string;
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
      const body = checkBody(embeddingsBody, raw);
      const model = body.model as string;
      return { call: { protocol: 'openai', endpoint: 'embeddings', body }, presenter: () => new OpenAiEmbeddings(model, body.encoding_format === 'base64') };
    }),
  );

  app.get('/v1/models', async (c) => c.json({ object: 'list', data: (await deps.models.list()).map(modelObject) }));

  // Model names may hold a slash ("org/model"), so the id is the rest of the path.
  app.get('/v1/models/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const model = await deps.models.find(id);
    if (model === null) return refuse(c, openAiErrors, modelNotFound(id));
    return c.json(modelObject(model));
  });

  return app;
}

/** A model object (platform.openai.com/docs/api-reference/models/object); the pool knows no creation time. */
const modelObject = (m: ServedModel) => ({ id: m.name, object: 'model', created: 0, owned_by: m.owner });
