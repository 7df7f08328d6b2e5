/** The Hono application: body limit, auth, one sub-app per resource, one error handler. */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Core } from '../core.js';
import { PayloadTooLarge, RouteNotFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { requireBearer } from './auth.js';
import { errorHandler } from './errors.js';
import { poolRoutes } from './pool-routes.js';
import { taskRoutes } from './task-routes.js';

export function createApp(core: Core, log: Logger, now: () => number = Date.now): Hono {
  const { server } = core.config;
  const app = new Hono();
  app.onError(errorHandler(log));
  app.notFound((c) => {
    throw new RouteNotFound(`no route ${c.req.method} ${c.req.path}`);
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: server.body_limit_bytes,
      onError: () => {
        throw new PayloadTooLarge(`the request body is over the ${server.body_limit_bytes}-byte limit`);
      },
    }),
  );
  if (server.api_token) app.use('*', requireBearer(server.api_token, (path) => path === '/health'));
  app.route('/', taskRoutes(core.service, server.sync_wait_s * 1000));
  app.route('/', poolRoutes(core, now));
  return app;
}
