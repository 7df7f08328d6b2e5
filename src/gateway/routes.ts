/** The pool as an LLM server: the OpenAI- and Ollama-compatible routes, over one model directory. */
import { Hono } from 'hono';
import type { Clock } from '../clock.js';
import type { Core } from '../core.js';
import type { Logger } from '../logger.js';
import type { MountedRoutes } from '../http/app.js';
import { gatewayErrorBody } from './error-shapes.js';
import type { GatewayDeps } from './exchange.js';
import { modelDirectory } from './models.js';
import { ModelUse } from './model-use.js';
import { ollamaVersion } from './ollama-version.js';
import { openAiRoutes } from './openai-routes.js';
import { ollamaRoutes } from './ollama-routes.js';
import { modelFacts } from './ollama-model-facts.js';

/** Every gateway route, to mount at "/", and the error bodies of its protocols. */
export function gatewayRoutes(core: Core, log: Logger, clock: Clock): MountedRoutes {
  const now = () => clock.now();
  const deps: GatewayDeps = {
    service: core.service,
    bus: core.bus,
    models: modelDirectory(core, now),
    log: log.child({ adapter: 'gateway' }),
    bodyLimitBytes: core.config.gateway.body_limit_bytes,
    maxBufferedBytes: core.config.server.stream_buffer_bytes,
    flows: core.flows,
    now,
    ollamaVersion: ollamaVersion(core, now),
    modelUse: new ModelUse(now),
  };
  const app = new Hono();
  const ollama = ollamaRoutes(deps, modelFacts(core.config, deps.models, deps.modelUse, now));
  app.route('/', openAiRoutes(deps));
  app.route('/', ollama);
  const ollamaPaths = new Set(ollama.routes.map((r) => r.path));
  // Ollama reads any body as JSON, and curl -d labels it a form: the gateway's routes take it so from non-browsers.
  return { routes: app, errorBody: gatewayErrorBody(ollamaPaths), plainJsonPaths: (path) => path.startsWith('/v1/') || ollamaPaths.has(path) };
}

/**
 * The routes of gateway.ollama_listen: the gateway's, and Ollama's root, which answers "Ollama is running" (what
 * clients that check for a local Ollama look for).
 */
export function ollamaListenerRoutes(gateway: MountedRoutes): MountedRoutes {
  const app = new Hono();
  app.get('/', (c) => c.text('Ollama is running'));
  app.route('/', gateway.routes);
  return { ...gateway, routes: app };
}
