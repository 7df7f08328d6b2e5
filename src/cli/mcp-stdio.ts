/**
 * `koubou mcp`: MCP over stdio, for `claude mcp add koubou -- npx koubou mcp`. It talks to a running coordinator and
 * starts one of its own only when none runs for its store, so two agent sessions in one project share one pool:
 *   1. --url / KOUBOU_URL, when it answers;
 *   2. the coordinator holding the configured store (its URL is in the store's lock file), wherever it listens;
 *   3. the default URL (http://127.0.0.1:8765), when it answers;
 *   4. otherwise an embedded coordinator on the configured store, also listening on 127.0.0.1 (server.port when set,
 *      else any free port) and named in the lock file, so the next `koubou mcp` finds it through step 2.
 * Token from KOUBOU_API_TOKEN (or server.api_token). Stdout carries the protocol, so logs go to stderr (warnings) and
 * to the store's log file. The MCP handshake and tools/list are answered while the connection is still being made (an
 * embedded coordinator takes a second to start); tool calls wait for it. When the coordinator it forwards to goes away
 * (the first of two sessions ends), the next call makes the connection again by the same steps, so this process takes
 * the store over, or forwards to whoever took it first (see mcp-link.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { DEFAULT_URL, type KoubouConfig } from '../config.js';
import { StoreInUse } from '../errors.js';
import type { Logger } from '../logger.js';
import { logFilePath } from '../logging/log-file.js';
import { LISTENING_MSG } from '../logging/listening.js';
import type { Coordinator } from '../main.js';
import { liveHolder } from '../store/lock-file.js';
import type { KoubouApi } from '../mcp/api.js';
import { McpLink, type Connection } from './mcp-link.js';
import { httpApi, isReachable } from '../mcp/http-api.js';
import { createMcpServer } from '../mcp/server.js';

/** How long a `koubou mcp` that lost the race for the store waits for the winner to say where it answers. */
const HOLDER_URL_WAIT_MS = 20_000;
const POLL_MS = 100;

/**
 * Serves MCP on stdin/stdout until the client closes stdin or a signal asks it to stop. `client.url` is the coordinator
 * named by --url or KOUBOU_URL (null: none named); `config(defaultPort)` loads the configuration as `koubou start`
 * would, with `defaultPort` as server.port's default.
 */
export async function runMcpStdio(client: { url: string | null; token: string | null }, config: (defaultPort: number) => KoubouConfig): Promise<void> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  // `koubou stop` on the store this process holds, or the client ending the session: drain, then exit. Listening
  // before the lock file names this process, so that no signal finds the default action (die undrained).
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const logger = lazyLogger();
  const link = new McpLink((gone) => connect(client.url, client.token, config, logger, gone));
  // Not a dangling rejection while the transport starts: the await below reports it.
  link.ready.catch(() => {});
  const server = createMcpServer(link.api());
  const transport = new StdioServerTransport();
  transport.onclose = stop;
  process.stdin.once('end', stop);
  await server.connect(transport);
  await link.ready;
  await stopped;
  await server.close();
  await link.close();
}

/** The process's logger, made on first use: a forwarding `koubou mcp` that never needs one does not load it. */
function lazyLogger(): (config: KoubouConfig) => Promise<Logger> {
  let made: Promise<Logger> | null = null;
  return (config) =>
    (made ??= import('../logging/pino-logger.js').then(({ createPinoLogger }) =>
      createPinoLogger({
        name: 'koubou-mcp',
        level: config.log.level,
        consoleLevel: config.log.level === 'info' || config.log.level === 'debug' ? 'warn' : config.log.level,
        console: 'stderr',
        file: logFilePath(config.store.path),
      }),
    ));
}

/**
 * Makes the connection by the steps above. `gone`: the connection this one replaces, whose coordinator stopped
 * answering (null at start).
 */
async function connect(
  named: string | null,
  token: string | null,
  loadConfig: (defaultPort: number) => KoubouConfig,
  logger: (config: KoubouConfig) => Promise<Logger>,
  gone: Connection | null,
): Promise<Connection> {
  if (gone) (await logger(loadConfig(0))).warn('the coordinator koubou mcp forwarded to stopped answering; finding or starting another', { url: gone.url });
  if (named !== null && (await isReachable(named))) return forward(named, token);
  // Port 0 unless the file, KOUBOU_PORT or --port says otherwise: a fixed default port would let another project's
  // `koubou mcp` find this coordinator at the default URL and use the wrong store.
  const config = loadConfig(0);
  const auth = token ?? config.server.api_token;
  const held = liveHolder(config.store.path);
  if (held?.url && (await isReachable(held.url))) return forward(held.url, auth);
  if (named === null && (await isReachable(DEFAULT_URL))) return forward(DEFAULT_URL, auth);

  // Loaded only here: a forwarding `koubou mcp` needs neither a logger of its own nor the server.
  const [log, { localApi }] = await Promise.all([logger(config), import('../mcp/local-api.js')]);
  const deadline = Date.now() + HOLDER_URL_WAIT_MS;
  for (;;) {
    try {
      return await embedded(config, log, localApi);
    } catch (err) {
      if (!(err instanceof StoreInUse)) throw err;
      // Another process took the store first (two sessions starting together): use it once it answers.
      if (err.holderUrl !== null && (await isReachable(err.holderUrl))) {
        log.info('another process holds the store; forwarding to it', { url: err.holderUrl, pid: err.holderPid, store: config.store.path });
        return forward(err.holderUrl, auth);
      }
      if (Date.now() >= deadline) throw err;
      await sleep(POLL_MS);
    }
  }
}

function forward(url: string, token: string | null): Connection {
  return { api: httpApi(url, token), url, forwarded: true, close: async () => {} };
}

/** A coordinator in this process, on 127.0.0.1 only; a taken configured port falls back to any free one. */
async function embedded(config: KoubouConfig, log: Logger, localApi: (core: Coordinator['core']) => KoubouApi): Promise<Connection> {
  const { startCoordinator } = await import('../main.js');
  const onFatal = (err: Error) => {
    log.error('supervision gave up', { error: err.message });
    process.exit(70);
  };
  const on = (port: number): KoubouConfig => ({ ...config, server: { ...config.server, host: '127.0.0.1', port } });
  let coordinator: Coordinator;
  try {
    coordinator = await startCoordinator(on(config.server.port), log, onFatal, { command: 'mcp' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || config.server.port === 0) throw err;
    log.warn('server.port is taken; the embedded coordinator listens on a free port instead', { port: config.server.port });
    coordinator = await startCoordinator(on(0), log, onFatal, { command: 'mcp' });
  }
  const url = coordinator.http.url;
  log.warn('no coordinator answered; running an embedded one', { url, store: config.store.path });
  log.info(LISTENING_MSG, { url, store: config.store.path, command: 'mcp' });
  return { api: localApi(coordinator.core), url, forwarded: false, close: () => coordinator.stop() };
}
