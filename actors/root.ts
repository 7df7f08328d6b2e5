/**
 * The root supervisor. Booting is recovery: requeue what a previous run left in progress, load the pending queue,
 * then start the scheduler and the pool manager. If either crashes, the root boots the subtree again (the store is the
 * truth, so nothing is lost); past its restart budget it gives up and the process exits non-zero. With NATS configured
 * the root also holds the NATS bridge, which lives across those reboots.
 */
import { dispatch, query, spawn, start, stop, type Ref } from 'nact';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { decideRestart, type RestartSettings } from '../src/supervision/restart-policy.js';
import type { QueuedTask } from '../src/tasks/task.js';
import { spawnBridge, type BridgeDeps, type BridgeMsg } from './nats-bridge.js';
import { spawnPoolManager, type PoolDeps, type PoolMsg } from './pool-manager.js';
import { spawnScheduler, type SchedulerDeps, type SchedulerMsg } from './scheduler.js';

/** Recovery of a large store can take a while; this only bounds a boot that hangs. */
const BOOT_TIMEOUT_MS = 10 * 60_000;

export type RootMsg =
  | { type: 'boot'; replyTo?: Ref<Booted> }
  | { type: 'childCrashed'; child: string; error: string };

export interface RootDeps {
  /** Puts the store in a clean state for a fresh tree and returns the pending queue in dispatch order. */
  recover(): Promise<QueuedTask[]>;
  scheduler: Omit<SchedulerDeps, 'requestWorkers'>;
  pool: Omit<PoolDeps, 'scheduler'>;
  restart: RestartSettings;
  clock: Clock;
  log: Logger;
  /** The tree cannot be kept alive; the process should exit non-zero. */
  onGiveUp(err: Error): void;
  /** When NATS is configured: the bridge that brings it up. It outlives reboots of the scheduler and pool. */
  bridge?: BridgeDeps | undefined;
}

export interface Tree {
  scheduler: Ref<SchedulerMsg>;
  pool: Ref<PoolMsg>;
  bridge: Ref<BridgeMsg> | null;
  /** Stops every actor; in-flight backend calls are aborted. */
  stop(): void;
}

interface Booted {
  scheduler: Ref<SchedulerMsg>;
  pool: Ref<PoolMsg>;
}

interface RootState {
  restarts: number[];
  scheduler: Ref<SchedulerMsg> | null;
  pool: Ref<PoolMsg> | null;
}

/** Starts the actor system and boots the tree; resolves once workers are being started. */
export async function startTree(deps: RootDeps): Promise<Tree> {
  const system = start();
  const root = spawn(system, (state: RootState, msg: RootMsg, ctx) => handle(state, msg, ctx.self, deps), 'root', {
    initialStateFunc: (): RootState => ({ restarts: [], scheduler: null, pool: null }),
    onCrash: (_msg, err, ctx) => {
      deps.onGiveUp(err ?? new Error('root supervisor crashed'));
      return ctx.stop;
    },
  });
  // Refs are paths, so these stay valid when the root later boots a fresh scheduler or pool manager.
  const { scheduler, pool } = await query(root, (replyTo: Ref<Booted>): RootMsg => ({ type: 'boot', replyTo }), BOOT_TIMEOUT_MS);
  const bridge = deps.bridge ? spawnBridge(root, deps.bridge) : null;
  return { scheduler, pool, bridge, stop: () => stop(system) };
}

async function handle(state: RootState, msg: RootMsg, self: Ref<RootMsg>, deps: RootDeps): Promise<RootState> {
  switch (msg.type) {
    case 'boot': {
      if (state.pool) stop(state.pool);
      if (state.scheduler) stop(state.scheduler);
      const pending = await deps.recover();
      const report = (child: string) => (err: Error) => dispatch(self, { type: 'childCrashed', child, error: err.message });
      // The scheduler asks the pool for workers, and the pool needs the scheduler's ref: bind the ask late.
      let pool: Ref<PoolMsg> | null = null;
      const requestWorkers = (pending: number, workers: number) => pool && dispatch(pool, { type: 'demand', pending, workers });
      const scheduler = spawnScheduler(self, { ...deps.scheduler, requestWorkers }, report('scheduler'));
      pool = spawnPoolManager(self, { ...deps.pool, scheduler }, report('pool-manager'));
      if (pending.length > 0) dispatch(scheduler, { type: 'tasksQueued', tasks: pending });
      dispatch(pool, { type: 'start' });
      deps.log.info('supervision tree started', { pending: pending.length });
      if (msg.replyTo) dispatch(msg.replyTo, { scheduler, pool });
      return { ...state, scheduler, pool };
    }
    case 'childCrashed': {
      const decision = decideRestart(state.restarts, deps.clock.now(), deps.restart);
      if (decision.action === 'giveUp') {
        deps.onGiveUp(new Error(`${msg.child} crashed ${decision.history.length} times within ${deps.restart.period_ms} ms: ${msg.error}`));
        return { ...state, restarts: decision.history };
      }
      deps.log.error('child crashed; rebooting the tree', { child: msg.child, error: msg.error, delayMs: decision.delayMs });
      if (state.pool) stop(state.pool);
      if (state.scheduler) stop(state.scheduler);
      deps.clock.setTimeout(() => dispatch(self, { type: 'boot' }), decision.delayMs);
      return { restarts: decision.history, scheduler: null, pool: null };
    }
  }
}
