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

/** Listens on host:port (0 = any free port) and resolves once the socket is bound. */
export function listen(app: Hono, host: string, port: number, attach: (server: Server) => void = () => {}): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }) as Server;
    attach(server);
    server.once('error', reject);
    server.once('listening', () => {
      const { port: bound } = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${bound}`,
        port: bound,
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
