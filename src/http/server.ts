/** Serves a Hono app with @hono/node-server and stops it cleanly. */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  port: number;
  /** Stops accepting; open keep-alive connections are closed once idle, the rest after `forceAfterMs`. */
  close(forceAfterMs?: number): Promise<void>;
}

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
export function bind(host: string, port: number): Promise<Bound> {
  let handler: Fetch = starting;
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: (req, env) => handler(req, env), hostname: host, port }) as Server;
    server.once('error', reject);
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
