/** The pool as an LLM server: the OpenAI- and Ollama-compatible routes, over one model directory. */
import { Hono } from 'hono';
import type { Core } from '../core.js';
import type { Logger } from '../logger.js';
import type { GatewayDeps } from './exchange.js';
import { modelDirectory } from './models.js';
import { openAiRoutes } from './openai-routes.js';
import { ollamaRoutes } from './ollama-routes.js';

/** Every gateway route, to mount at "/". */
export function gatewayRoutes(core: Core, log: Logger): Hono {
  const deps: GatewayDeps = {
    service: core.service,
    bus: core.bus,
    models: modelDirectory(core),
    log: log.child({ adapter: 'gateway' }),
    bodyLimitBytes: core.config.server.body_limit_bytes,
    maxBufferedBytes: core.config.server.stream_buffer_bytes,
  };
  const app = new Hono();
  app.route('/', openAiRoutes(deps));
  app.route('/', ollamaRoutes(deps));
  return app;
}
