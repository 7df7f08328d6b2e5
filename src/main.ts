/** The composition root: config → store (locked) → port → actor tree (with the NATS bridge when set) → HTTP; signals and draining. */
import type { KoubouConfig } from './config.js';
import { startCore, type Core, type CoreOptions } from './core.js';
import { createApp } from './http/app.js';
import { bind, type Bound, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { LISTENING_MSG } from './logging/listening.js';
import type { LogRing } from './logging/log-ring.js';
import { coordinatorNats } from './nats/coordinator-nats.js';
import { systemClock } from './clock.js';
import { openStore } from './store/store.js';

export interface Coordinator {
  core: Core;
  http: Listening;
  /** Drains (stop taking work, let running tasks finish within the grace period, requeue the rest) and closes. */
  stop(): Promise<void>;
}

/** What startCoordinator takes besides the config: fault-injecting workers, the log ring, and who holds the store. */
export interface CoordinatorExtras extends Pick<CoreOptions, 'spawnWorker' | 'logs'> {
  /** The command named in the store's lock file (`start`, `mcp`). */
  command?: string;
}

/**
 * Starts a coordinator with this config. In this order, so that a refused or failed start changes nothing: the store
 * lock (StoreInUse when another process holds it), the port (EADDRINUSE when taken), and only then recovery and the
 * actor tree. The URL goes into the lock file once the app answers.
 */
export async function startCoordinator(config: KoubouConfig, log: Logger, onFatal: (err: Error) => void, extra: CoordinatorExtras = {}): Promise<Coordinator> {
  const { command, ...coreExtras } = extra;
  const store = await openStore(config.store.path, systemClock, command);
  let http: Bound;
  try {
    const { headers_timeout_s, request_timeout_s, keep_alive_timeout_s } = config.server;
    const ms = (s: number) => Math.ceil(s * 1000);
    const timeouts = { headersMs: ms(headers_timeout_s), requestMs: ms(request_timeout_s), keepAliveMs: ms(keep_alive_timeout_s) };
    http = await bind(config.server.host, config.server.port, timeouts);
  } catch (err) {
    await store.close();
    throw err;
  }
  let coreIsReady!: (core: Core) => void;
  const coreReady = new Promise<Core>((resolve) => (coreIsReady = resolve));
  const nats = config.nats.url ? coordinatorNats(config, log, coreReady) : null;
  let core: Core;
  try {
    core = await startCore(config, { log, onFatal, store, ...coreExtras, ...(nats ? { remote: nats.remote, bridge: nats.bridge } : {}) });
  } catch (err) {
    await http.close();
    await store.close();
    throw err;
  }
  coreIsReady(core);
  const { app, attach } = createApp(core, log, systemClock);
  http.serve(app, attach);
  core.advertise(http.url);
  // When NATS is up, it is served by the time this returns; when it is not, the bridge keeps trying in the background.
  await nats?.firstAttempt;
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

/** Runs until SIGTERM/SIGINT, then drains and exits 0. A second signal exits at once. */
export async function runCoordinator(config: KoubouConfig, log: Logger, logs?: LogRing): Promise<void> {
  const fatal = (err: Error) => {
    log.error('supervision gave up; exiting', { error: err.message });
    process.exit(70);
  };
  const coordinator = await startCoordinator(config, log, fatal, logs ? { logs } : {});
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal; exiting without draining', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('draining before exit', { signal, grace_ms: config.pool.shutdown_grace_ms });
    const exit = async (code: number) => {
      await log.flush?.();
      process.exit(code);
    };
    coordinator.stop().then(
      () => {
        log.info('stopped cleanly');
        void exit(0);
      },
      (err: Error) => {
        log.error('shutdown failed', { error: err.message });
        void exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Only now: whoever reads this line may signal at once, and until the handlers exist a signal kills undrained.
  log.info(LISTENING_MSG, {
    url: coordinator.http.url,
    store: config.store.path,
    backends: config.backends.map((b) => `${b.name} (${b.type} ${b.model} at ${b.url}, ${b.min_workers}-${b.max_workers} workers)`),
  });
}
