/**
 * The root supervisor. Booting is recovery: requeue what a previous run left in progress, load the pending queue,
 * then start the scheduler, the pool manager and the node registry. If one crashes, the root boots the three again
 * (the store is the truth, so nothing is lost; nodes join again when their beats are refused); past its restart budget
 * it gives up and the process exits non-zero. With NATS configured the root also holds the NATS bridge, which lives
 * across those reboots and is started once the services it serves exist (late binding, like the scheduler's asks).
 */
import { dispatch, query, spawn, start, stop, type Ref } from 'nact';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { decideRestart, type RestartSettings } from '../src/supervision/restart-policy.js';
import type { QueuedTask } from '../src/tasks/task.js';
import { spawnBridge, type BridgeDeps, type BridgeMsg } from './nats-bridge.js';
import { spawnNodeRegistry, type NodeRegistryDeps, type NodeRegistryMsg } from './node-registry.js';
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
  scheduler: Omit<SchedulerDeps, 'askForWorkers' | 'retire'>;
  pool: Omit<PoolDeps, 'scheduler'>;
  nodes: Omit<NodeRegistryDeps, 'scheduler'>;
  restart: RestartSettings;
  clock: Clock;
  log: Logger;
  /** The tree cannot be kept alive; the process should exit non-zero. */
  onGiveUp(err: Error): void;
}

export interface Tree extends Booted {
  /** Starts the NATS bridge under the root (once: the caller has what it serves); it outlives reboots of the rest. */
  startBridge(deps: BridgeDeps): Ref<BridgeMsg>;
  /** Stops every actor; in-flight backend calls are aborted. */
  stop(): void;
}

interface Booted {
  scheduler: Ref<SchedulerMsg>;
  pool: Ref<PoolMsg>;
  nodes: Ref<NodeRegistryMsg>;
}

interface RootState {
  restarts: number[];
  children: Booted | null;
}

/** Starts the actor system and boots the tree; resolves once workers are being started. */
export async function startTree(deps: RootDeps): Promise<Tree> {
  const system = start();
  const root = spawn(system, (state: RootState, msg: RootMsg, ctx) => handle(state, msg, ctx.self, deps), 'root', {
    initialStateFunc: (): RootState => ({ restarts: [], children: null }),
    onCrash: (_msg, err, ctx) => {
      deps.onGiveUp(err ?? new Error('root supervisor crashed'));
      return ctx.stop;
    },
  });
  // Refs are paths, so these stay valid when the root later boots a fresh scheduler, pool manager or node registry.
  const booted = await query(root, (replyTo: Ref<Booted>): RootMsg => ({ type: 'boot', replyTo }), BOOT_TIMEOUT_MS);
  return { ...booted, startBridge: (bridge) => spawnBridge(root, bridge), stop: () => stop(system) };
}

function stopChildren(children: Booted | null): void {
  if (!children) return;
  stop(children.pool);
  stop(children.nodes);
  stop(children.scheduler);
}

async function handle(state: RootState, msg: RootMsg, self: Ref<RootMsg>, deps: RootDeps): Promise<RootState> {
  switch (msg.type) {
    case 'boot': {
      stopChildren(state.children);
      const pending = await deps.recover();
      const report = (child: string) => (err: Error) => dispatch(self, { type: 'childCrashed', child, error: err.message });
      // The scheduler tells the pool to grow or retire, and the pool needs the scheduler's ref: bind the pool late.
      let pool: Ref<PoolMsg> | null = null;
      const scheduler = spawnScheduler(
        self,
        {
          ...deps.scheduler,
          askForWorkers: (demand) => pool && dispatch(pool, { type: 'demand', demand }),
          retire: (workers) => pool && dispatch(pool, { type: 'retire', workers }),
        },
        report('scheduler'),
      );
      pool = spawnPoolManager(self, { ...deps.pool, scheduler }, report('pool-manager'));
      const nodes = spawnNodeRegistry(self, { ...deps.nodes, scheduler }, report('node-registry'));
      if (pending.length > 0) dispatch(scheduler, { type: 'tasksQueued', tasks: pending });
      dispatch(pool, { type: 'start' });
      deps.log.info('supervision tree started', { pending: pending.length });
      const children = { scheduler, pool, nodes };
      if (msg.replyTo) dispatch(msg.replyTo, children);
      return { ...state, children };
    }
    case 'childCrashed': {
      const decision = decideRestart(state.restarts, deps.clock.now(), deps.restart);
      if (decision.action === 'giveUp') {
        deps.onGiveUp(new Error(`${msg.child} crashed ${decision.history.length} times within ${deps.restart.period_ms} ms: ${msg.error}`));
        return { ...state, restarts: decision.history };
      }
      deps.log.error('child crashed; rebooting the tree', { child: msg.child, error: msg.error, delayMs: decision.delayMs });
      stopChildren(state.children);
      deps.clock.setTimeout(() => dispatch(self, { type: 'boot' }), decision.delayMs);
      return { restarts: decision.history, children: null };
    }
  }
}
