/** The MCP SDK's own client, connected to Koubou over Streamable HTTP or stdio, with a JSON-reading callTool. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { KOUBOU_CLI } from './cli-paths.js';

const CLI = KOUBOU_CLI;

export interface McpTestClient {
  client: Client;
  /** Calls a tool; returns its JSON answer, or throws with the tool's error text. */
  call(name: string, args?: Record<string, unknown>, onProgress?: (message: string) => void): Promise<any>;
  close(): Promise<void>;
  /** The `koubou mcp` process's pid (stdio only; null over HTTP). */
  pid: number | null;
}

export async function mcpOverHttp(baseUrl: string, token?: string): Promise<McpTestClient> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return connect(new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers } }));
}

/** Runs `koubou mcp` as a child process, as Claude Code would. */
export async function mcpOverStdio(env: Record<string, string>, cwd?: string): Promise<McpTestClient> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], env: { PATH: process.env.PATH ?? '', ...env }, ...(cwd ? { cwd } : {}), stderr: 'pipe' });
  const client = await connect(transport);
  return { ...client, pid: transport.pid };
}

async function connect(transport: Transport): Promise<McpTestClient> {
  const client = new Client({ name: 'koubou-test', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    async call(name, args = {}, onProgress) {
      const result = await client.callTool({ name, arguments: args }, undefined, {
        timeout: 60_000,
        ...(onProgress ? { onprogress: (p: { message?: string }) => onProgress(p.message ?? '') } : {}),
      });
      const text = (result.content as { type: string; text: string }[])[0]!.text;
      if (result.isError) throw new Error(text);
      return JSON.parse(text);
    },
    close: () => client.close(),
    pid: null,
  };
}
