/** An MCP server exposing Koubou's tools over whichever API it is given. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { KoubouApi } from './api.js';
import { registerTools } from './tools.js';

export function createMcpServer(api: KoubouApi, version = '0.1.0'): McpServer {
  const server = new McpServer(
    { name: 'koubou', version },
    { instructions: 'Delegate work to a pool of local LLMs. delegate_task returns a task id at once; poll it with get_task.' },
  );
  registerTools(server, api);
  return server;
}
