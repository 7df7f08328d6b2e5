/** Serves a Hono app with @hono/node-server and stops it cleanly. */
import { getRequestListener, RequestError } from '@hono/node-server';
import type { Hono } from 'hono';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MalformedRequest } from '../errors.js';
import { errorBody } from './errors.js';

export interface Listening {
  url: string;
  port: number;
  /** Stops accepting; open keep-alive connections are closed once idle, the rest after `forceAfterMs`. */
  close(forceAfterMs?: number): Promise<void>;
}

/** How long a client may take over a request; see server.*_timeout_s in the config. */
export interface ServerTimeouts {
  /** To send the request's headers. */
  headersMs: number;
  /** To send the whole request, body included. Answers may take longer: streams and long-polls are not cut. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveMs: number;
}

/** How many connections a listener holds at once, and who hears of those closed past it. */
export interface ConnectionLimit {
  max: number;
  /** Called at most once per DROP_REPORT_MS while connections are being closed, with how many were since the last call. */
  onDropped(count: number): void;
}

/** At most one report of dropped connections per this long: a flood must not flood the log too. */
const DROP_REPORT_MS = 10_000;

/** A bound socket whose app comes later. */
export interface Bound extends Listening {
  /** From now on requests go to `app`; `attach` gets the server (WebSocket upgrades need it). */
  serve(app: Hono, attach?: (server: Server) => void): void;
}

type Fetch = Hono['fetch'];

/** Answers while the app is not there yet: a 503 a client may retry. */
const starting: Fetch = () =>
  Response.json({ error: { code: 'starting', message: 'koubou is starting; try again in a moment' } }, { status: 503, headers: { 'retry-after': '1' } });

/**
 * Binds host:port (0 = any free port) and resolves once the socket is bound, before the app exists: a coordinator
 * learns that its port is taken before it recovers or runs anything.
 */
export function bind(host: string, port: number, timeouts: ServerTimeouts, limit?: ConnectionLimit): Promise<Bound> {
  let handler: Fetch = starting;
  return new Promise((resolve, reject) => {
    // Node checks the headers and request timeouts on an interval (30 s by default), which would stretch them.
    const serverOptions = {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
    };
    const listener = getRequestListener((req, env) => handler(req, env), { hostname: host, errorHandler: unreadable });
    const server = createServer(serverOptions, (incoming, outgoing) => void listener(lowerCaseHost(incoming), outgoing));
    server.keepAliveTimeout = timeouts.keepAliveMs;
    if (limit) {
      // Node closes a connection that opens past maxConnections at once and emits 'drop' for it.
      server.maxConnections = limit.max;
      let dropped = 0;
      let reportDue = 0;
      server.on('drop', () => {
        dropped++;
        const now = Date.now();
        if (now < reportDue) return;
        reportDue = now + DROP_REPORT_MS;
        limit.onDropped(dropped);
        dropped = 0;
      });
    }
    server.once('error', reject);
    server.listen(port, host);
    server.once('listening', () => {
      const { port: bound } = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${bound}`,
        port: bound,
        serve(app, attach) {
          attach?.(server);
          handler = app.fetch;
        },
        close: (forceAfterMs = 0) =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), forceAfterMs).unref();
          }),
      });
    });
  });
}

/**
 * RFC 9110 §4.2.3: the host is case-insensitive. @hono/node-server refuses a Host whose case its URL would change
 * (`LOCALHOST:8765`), so the name is lower-cased before it looks; the request guard then judges the name itself.
 */
function lowerCaseHost(incoming: IncomingMessage): IncomingMessage {
  const host = incoming.headers.host;
  if (host !== undefined && host !== host.toLowerCase()) incoming.headers.host = host.toLowerCase();
  return incoming;
}

/**
 * What @hono/node-server answers a request it cannot make into one (a Host that is no host name, a backslash in the
 * path): a 400 saying why, where it would send an empty one. The app answers its own errors; anything else thrown
 * before it runs is a 500, with a body too.
 */
function unreadable(err: unknown): Response {
  if (!(err instanceof RequestError)) return Response.json({ error: { code: 'internal_error', message: 'internal error' } }, { status: 500 });
  return Response.json(errorBody(new MalformedRequest(`this request cannot be read: ${err.message.slice(0, 200)}`)), { status: 400 });
}
