/** The composition root: config → store → actor tree (with the NATS bridge when set) → HTTP; signals and draining. */
import type { KoubouConfig } from './config.js';
import { startCore, type Core, type CoreOptions } from './core.js';
import { createApp } from './http/app.js';
import { listen, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { LISTENING_MSG } from './logging/listening.js';
import type { LogRing } from './logging/log-ring.js';
import { coordinatorNats } from './nats/coordinator-nats.js';

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
  let coreIsReady!: (core: Core) => void;
  const coreReady = new Promise<Core>((resolve) => (coreIsReady = resolve));
  const nats = config.nats.url ? coordinatorNats(config, log, coreReady) : null;
  const core = await startCore(config, { log, onFatal, ...extra, ...(nats ? { remote: nats.remote, bridge: nats.bridge } : {}) });
  coreIsReady(core);
  let http: Listening;
  try {
    const { app, attach } = createApp(core, log);
    http = await listen(app, config.server.host, config.server.port, attach);
  } catch (err) {
    await core.shutdown(0);
    throw err;
  }
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
