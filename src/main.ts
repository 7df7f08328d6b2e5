/** The composition root: config → store → actor tree (with the NATS bridge when set) → HTTP; signals and draining. */
import type { KoubouConfig } from './config.js';
import { startCore, type Core, type CoreOptions } from './core.js';
import { backoffMs } from './supervision/backoff.js';
import { createApp } from './http/app.js';
import { listen, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { LISTENING_MSG } from './logging/listening.js';
import type { LogRing } from './logging/log-ring.js';
import type { RemoteSend } from '../actors/remote-worker.js';
import { connectNats, redactedServers, type NatsLink } from './nats/connection.js';
import { nodeSender, serveNodes } from './nats/node-bridge.js';
import { nodeSubjects } from './nats/node-protocol.js';
import { subjects } from './nats/subjects.js';
import { serveTasksOverNats } from './nats/task-adapter.js';

export interface Coordinator {
  core: Core;
  http: Listening;
  /** Drains (stop taking work, let running tasks finish within the grace period, requeue the rest) and closes. */
  stop(): Promise<void>;
}

/** Starts a coordinator with this config. */
export async function startCoordinator(
  config: KoubouConfig,
  log: Logger,
  onFatal: (err: Error) => void,
  extra: Pick<CoreOptions, 'spawnWorker' | 'logs'> = {},
): Promise<Coordinator> {
  // The NATS side comes up under the root supervisor, as soon as NATS answers; runs reach nodes over whatever
  // connection is current (none before the first: no node can have joined).
  let sender: RemoteSend | null = null;
  const coreReady = deferred<Core>();
  const firstAttempt = deferred<void>();
  const bridge: CoreOptions['bridge'] = config.nats.url
    ? {
        target: redactedServers(config.nats.url),
        retryDelayMs: (attempt) => backoffMs(attempt - 1, 250, 5_000),
        async connect() {
          try {
            const { url, nkey_seed_file, creds_file } = config.nats;
            const link = await connectNats({ url: url!, name: 'koubou-coordinator', log: log.child({ adapter: 'nats' }), nkeySeedFile: nkey_seed_file, credsFile: creds_file });
            const served = serveOverNats(await coreReady.promise, link, config, log);
            sender = nodeSender(link, nodeSubjects(config.nats.prefix));
            return served;
          } finally {
            firstAttempt.resolve();
          }
        },
      }
    : undefined;
  const remote: RemoteSend = {
    run: (slot, task, lease) => sender?.run(slot, task, lease),
    cancel: (slot, lease) => sender?.cancel(slot, lease),
  };
  const core = await startCore(config, { log, onFatal, ...extra, remote, ...(bridge ? { bridge } : {}) });
  coreReady.resolve(core);
  let http: Listening;
  try {
    const { app, attach } = createApp(core, log);
    http = await listen(app, config.server.host, config.server.port, attach);
  } catch (err) {
    await core.shutdown(0);
    throw err;
  }
  // When NATS is up, it is served by the time this returns; when it is not, the bridge keeps trying in the background.
  if (bridge) await firstAttempt.promise;
  let stopping: Promise<void> | null = null;
  return {
    core,
    http,
    stop() {
      stopping ??= (async () => {
        const grace = config.pool.shutdown_grace_ms;
        // Stop new connections first; sync waiters are answered or cut off once the core has drained.
        const closed = http.close(grace + 1_000);
        // The core closes the NATS bridge after its drain, so sync delegates waiting over NATS still get their answer.
        await core.shutdown(grace);
        await closed;
      })();
      return stopping;
    },
  };
}

/** Serves the task subjects (other services delegate through them) and the node protocol (koubou-nodes join). */
function serveOverNats(core: Core, link: NatsLink, config: KoubouConfig, log: Logger): { close(): Promise<void> } {
  const stopEvents = serveTasksOverNats(core, link, subjects(config.nats.prefix), config.server.sync_wait_s * 1000);
  serveNodes(link, nodeSubjects(config.nats.prefix), core.nodes, {
    poolToken: config.nats.pool_token,
    settings: {
      heartbeat_interval_ms: config.pool.heartbeat_interval_ms,
      max_attempts: config.tasks.max_attempts,
      retry_base_ms: config.tasks.retry_base_ms,
      retry_max_ms: config.tasks.retry_max_ms,
      default_timeout_s: config.tasks.default_timeout_s,
    },
    log: log.child({ adapter: 'nodes' }),
  });
  log.info('serving tasks and nodes over NATS', { servers: redactedServers(config.nats.url!), prefix: config.nats.prefix });
  return {
    async close() {
      stopEvents();
      await link.close();
    },
  };
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Runs until SIGTERM/SIGINT, then drains and exits 0. A second signal exits at once. */
export async function runCoordinator(config: KoubouConfig, log: Logger, logs?: LogRing): Promise<void> {
  const fatal = (err: Error) => {
    log.error('supervision gave up; exiting', { error: err.message });
    process.exit(70);
  };
  const coordinator = await startCoordinator(config, log, fatal, logs ? { logs } : {});
  log.info(LISTENING_MSG, {
    url: coordinator.http.url,
    store: config.store.path,
    backends: config.backends.map((b) => `${b.name} (${b.type} ${b.model} at ${b.url}, ${b.min_workers}-${b.max_workers} workers)`),
  });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal; exiting without draining', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('draining before exit', { signal, grace_ms: config.pool.shutdown_grace_ms });
    coordinator.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: Error) => {
        log.error('shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
