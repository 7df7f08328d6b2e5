/** MCP over Streamable HTTP at /mcp, stateless: each request gets its own server and transport (both are cheap). */
import { Hono } from 'hono';
import { loadOnce } from '../load-once.js';
import type { KoubouApi } from '../mcp/api.js';
import { readJson } from './json-body.js';
import { nodeResponse, startSse, type StreamLimits } from './sse-outlet.js';

/**
 * /mcp; a POST body is read under `bodyLimitBytes` like every other JSON body (413 past it), and an SSE answer whose
 * client holds more than limits.maxBufferedBytes unread is sent `dropped` and closed.
 */
export function mcpRoute(api: KoubouApi, limits: StreamLimits, bodyLimitBytes: number): Hono {
  const app = new Hono();
  app.all('/mcp', async (c) => {
    // Read before the SDK would (its own cap is 4 MiB): the same limit and errors as POST /task/delegate.
    const parsedBody = c.req.method === 'POST' ? await readJson(c, bodyLimitBytes) : undefined;
    const { WebStandardStreamableHTTPServerTransport, createMcpServer } = await loadSdk();
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = createMcpServer(api);
    await server.connect(transport);
    const response = await transport.handleRequest(c.req.raw, parsedBody === undefined ? undefined : { parsedBody });
    // Once the answer (or its stream) is done, nothing of this request remains.
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
    if (!isStream || !response.body || !nodeResponse(c.env)) return response;
    return relayBounded(c.env, response, limits, () => void server.close().catch(() => {}));
  });
  return app;
}

/** The MCP SDK (with zod and ajv) is most of what the coordinator would load at start: it comes with the first /mcp request. */
const loadSdk = loadOnce(async () => {
  const [{ WebStandardStreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('../mcp/server.js'),
  ]);
  return { WebStandardStreamableHTTPServerTransport, createMcpServer };
});

/**
 * The SDK enqueues every message of an SSE answer into its stream at once, whether the client reads or not. Read it as
 * it comes and pass it through a bounded outlet instead: the SDK's stream never holds more than one message.
 */
function relayBounded(env: unknown, response: Response, limits: StreamLimits, onDone: () => void): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const { outlet, response: sent } = startSse(
    env,
    '/mcp',
    limits,
    () => {
      void reader.cancel().catch(() => {});
      onDone();
    },
    { status: response.status, headers: Object.fromEntries(response.headers) },
  );
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // The SDK enqueues whole SSE events, so each chunk decodes on its own.
        outlet.send(decoder.decode(value, { stream: true }));
      }
      outlet.end();
    } catch {
      outlet.end();
    }
  })();
  return sent;
}
