/**
 * `koubou mcp`: MCP over stdio, for `claude mcp add koubou -- npx koubou mcp`. It talks to a running coordinator
 * (--url, KOUBOU_URL, default http://127.0.0.1:8765; token from KOUBOU_API_TOKEN) or, when none answers, starts an
 * embedded one on the configured store. Stdout carries the protocol, so logs go to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { KoubouConfig } from '../config.js';
import { startCore } from '../core.js';
import { createLogger } from '../logger.js';
import type { KoubouApi } from './api.js';
import { httpApi, isReachable } from './http-api.js';
import { localApi } from './local-api.js';
import { createMcpServer } from './server.js';

/**
 * Serves MCP on stdin/stdout until the client closes stdin: through the coordinator at `client.url`, or, when none
 * answers there, an embedded one configured by `config()` (called only then).
 */
export async function runMcpStdio(client: { url: string; token: string | null }, config: () => KoubouConfig): Promise<void> {
  const { api, close } = await connect(client.url, client.token, config);
  const server = createMcpServer(api);
  const transport = new StdioServerTransport();
  const stopped = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await stopped;
  await server.close();
  await close();
}

async function connect(url: string, token: string | null, loadConfig: () => KoubouConfig): Promise<{ api: KoubouApi; close(): Promise<void> }> {
  if (await isReachable(url)) return { api: httpApi(url, token), close: async () => {} };
  const config = loadConfig();
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  log.warn('no coordinator answered; running an embedded one', { url, store: config.store.path });
  const core = await startCore(config, {
    log,
    onFatal: (err) => {
      log.error('supervision gave up', { error: err.message });
      process.exit(70);
    },
  });
  return { api: localApi(core), close: () => core.shutdown(config.pool.shutdown_grace_ms) };
}
