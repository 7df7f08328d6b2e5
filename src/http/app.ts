/** The Hono application: the request guard, auth, one sub-app per resource, one error handler. */
import { Hono, type Context } from 'hono';
import type { Clock } from '../clock.js';
import type { Core } from '../core.js';
import { MethodNotAllowed, RouteNotFound } from '../errors.js';
import { allowedMethods } from './allowed-methods.js';
import type { Logger } from '../logger.js';
import { requireBearer, tokenCheck } from './auth.js';
import { guardRequests } from './request-guard.js';
import { errorHandler, type ErrorBodyFor } from './errors.js';
import { localApi } from '../mcp/local-api.js';
import type { Server } from 'node:http';
import { eventsRoute } from './events-route.js';
import { logRoutes } from './log-routes.js';
import { addWebSocket } from './ws-route.js';
import type { StreamLimits } from './sse-outlet.js';
import { graphqlRoute } from './graphql-route.js';
import { mcpRoute } from './mcp-route.js';
import { poolRoutes } from './pool-routes.js';
import { taskRoutes } from './task-routes.js';
import { dashboardRoute, isDashboardAsset } from './dashboard-route.js';
import { dashboardApiRoutes } from './dashboard-api-routes.js';
import { isTaskStreamPath, taskStreamRoute } from './task-stream-route.js';
import { Throughput } from '../dashboard/throughput.js';
import { WorkerSpeeds } from '../dashboard/worker-speed.js';

/** Routes of another adapter (the LLM gateway), served at "/", and the error bodies its paths answer with. */
export interface MountedRoutes {
  routes: Hono;
  errorBody: ErrorBodyFor;
  /** Its paths that take a JSON body sent without Content-Type or as text or a form, from clients that send no Origin (request-guard.ts). */
  plainJsonPaths?: (path: string) => boolean;
}

/**
 * The app, and what to call with the HTTP server once it listens (WebSocket upgrades need it). Every route that reads the
 * time or sets a timer takes it from `clock`. `mounted` are route groups of other adapters (the LLM gateway), served
 * at "/" behind the same guard and token as the API; an error on their paths, the guard's and the token's included,
 * is answered in their shape.
 */
export function createApp(core: Core, log: Logger, clock: Clock, mounted: readonly MountedRoutes[] = []): { app: Hono; attach(server: Server): void } {
  const { server } = core.config;
  const now = () => clock.now();
  const { app, hasToken } = guardedApp(core, log, server.host, mounted);
  const streams: StreamLimits = {
    maxBufferedBytes: server.stream_buffer_bytes,
    clock,
    onOpen: (stream) => core.metrics.streamOpened(stream, 1),
    onClose: (stream) => core.metrics.streamOpened(stream, -1),
    onDrop(stream, reason) {
      core.metrics.streamDropped(stream);
      log.warn('dropped a stream client that fell behind', { stream, reason });
    },
  };
  app.route('/', taskRoutes(core.service, { syncWaitMs: server.sync_wait_s * 1000, bodyLimitBytes: server.body_limit_bytes }));
  app.route('/', poolRoutes(core, now, hasToken));
  app.route('/', mcpRoute(localApi(core, now), streams, server.body_limit_bytes));
  app.route('/', eventsRoute(core.bus, streams));
  app.route('/', logRoutes(core, now));
  app.route('/', graphqlRoute(core, { bodyLimitBytes: server.body_limit_bytes, log }));
  const sources = {
    throughput: new Throughput(core.bus, now),
    speeds: new WorkerSpeeds(core.bus, now),
  };
  app.route('/', dashboardApiRoutes(core, sources, now));
  app.route('/', taskStreamRoute(core.service, core.bus, streams));
  for (const m of mounted) app.route('/', m.routes);
  app.route('/', dashboardRoute());
  const attach = addWebSocket(app, core, log, { ...streams, maxMessageBytes: server.ws_max_message_bytes, maxSubscriptions: server.ws_max_subscriptions });
  return { app, attach };
}

/**
 * The app of a listener of its own for `routes` alone (the LLM gateway on gateway.ollama_listen), behind the same guard
 * and token as the API; `bindHost` is the address that listener binds.
 */
export function createRoutesApp(core: Core, log: Logger, bindHost: string, mounted: MountedRoutes): Hono {
  const { app } = guardedApp(core, log, bindHost, [mounted]);
  app.route('/', mounted.routes);
  return app;
}

/**
 * An app with the error handler (answering on `mounted` paths in their shape), the request guard and (with
 * server.api_token) the token check, and no routes yet.
 */
function guardedApp(core: Core, log: Logger, bindHost: string, mounted: readonly MountedRoutes[]): { app: Hono; hasToken: (c: Context) => boolean } {
  const { server } = core.config;
  const app = new Hono();
  app.onError(errorHandler(log, (path, err) => mounted.reduce<object | null>((body, m) => body ?? m.errorBody(path, err), null)));
  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path, c.req.method);
    if (allow.length > 0) throw new MethodNotAllowed(c.req.method, c.req.path, allow);
    throw new RouteNotFound(`no route ${c.req.method} ${c.req.path}`);
  });
  const plainJsonPaths = (path: string) => mounted.some((m) => m.plainJsonPaths?.(path) ?? false);
  app.use('*', guardRequests({ bindHost, allowedHosts: server.allowed_hosts, allowedOrigins: server.allowed_origins, plainJsonPaths }));
  // The dashboard's page and files hold no data: they load without a token, and the page asks for one.
  // Browsers cannot set headers on EventSource or WebSocket: those routes also take ?access_token=.
  // /health stays open for probes, but shows more than its status only to a client with the token.
  let hasToken: (c: Context) => boolean = () => true;
  if (server.api_token) {
    const open = (path: string) => path === '/health' || isDashboardAsset(path);
    const queryAllowed = (path: string) => path === '/events' || path === '/ws' || isTaskStreamPath(path);
    hasToken = tokenCheck(server.api_token, queryAllowed);
    app.use('*', requireBearer(hasToken, open));
  }
  return { app, hasToken };
}
