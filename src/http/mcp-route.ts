/** MCP over Streamable HTTP at /mcp, stateless: each request gets its own server and transport (both are cheap). */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import type { KoubouApi } from '../mcp/api.js';
import { createMcpServer } from '../mcp/server.js';

export function mcpRoute(api: KoubouApi): Hono {
  const app = new Hono();
  app.all('/mcp', async (c) => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = createMcpServer(api);
    await server.connect(transport);
    const response = await transport.handleRequest(c.req.raw);
    // Once the answer (or its stream) is done, nothing of this request remains.
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    return response;
  });
  return app;
}
