/**
 * The pool manager: the only one that creates or stops workers. It starts `min_workers` slots per backend, holds a
 * heartbeat lease on each, replaces a worker that crashed or went silent (after a backoff from the restart policy),
 * and marks a backend failed when its slots crash faster than the policy allows.
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import type { Backend } from '../src/backends/types.js';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import type { WorkerBeat, WorkerStatus } from '../src/store/workers-repo.js';
import { decideRestart, type RestartSettings } from '../src/supervision/restart-policy.js';
import type { TaskTransitions } from '../src/tasks/transitions.js';
import { coalescing, perLoopTurn } from '../src/supervision/coalesce.js';
import type { IdleWorker, SchedulerMsg } from './scheduler.js';
import { spawnWorker, type Heartbeat, type WorkerHandle } from './worker.js';

export interface PoolBackend {
  backend: Backend;
  minWorkers: number;
  maxWorkers: number;
  /** Seconds a task on this backend may run when it names no timeout. */
  timeoutS: number;
}

export type PoolMsg =
  | { type: 'start' }
  | Heartbeat
  | { type: 'workerCrashed'; workerId: string; incarnation: number; error: string }
  | { type: 'respawn'; workerId: string }
  /** Timer tick: reap silent workers, persist live status. */
  | { type: 'sweep' }
  /** Shutdown: stop every worker (aborting what runs) and answer how many were stopped. */
  | { type: 'stopAll'; replyTo: Ref<number> };

export interface PoolDeps {
  backends: PoolBackend[];
  transitions: TaskTransitions;
  scheduler: Ref<SchedulerMsg>;
  clock: Clock;
  log: Logger;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  restart: RestartSettings;
  maxAttempts: number;
  retryDelayMs(attempt: number): number;
  /** Persistence of the workers table (started, restarted, live status). */
  recordStarted(w: { id: string; backend: string; model: string; location: 'local' | 'remote'; restart: boolean }): Promise<void>;
  recordBeats(beats: WorkerBeat[]): Promise<void>;
  /** Called when a backend's pool trips the restart intensity limit. */
  onBackendFailed(backend: string, reason: string): void;
}

interface Slot {
  id: string;
  pool: PoolBackend;
  incarnation: number;
  handle: WorkerHandle | null;
  status: WorkerStatus;
  lastBeat: number;
  taskId: string | null;
  restarts: number[];
}

interface PoolState {
  slots: Map<string, Slot>;
  notifyIdle: (worker: IdleWorker) => void;
  sweepTimer: TimerHandle | null;
  stopped: boolean;
}

/** Spawns the pool manager under parent; crashes are reported to the parent, which rebuilds the tree. */
export function spawnPoolManager(parent: Ref<any>, deps: PoolDeps, onCrash: (err: Error) => void): Ref<PoolMsg> {
  return spawn(parent, (state: PoolState, msg: PoolMsg, ctx) => handle(state, msg, ctx.self, deps), 'pool-manager', {
    initialStateFunc: (): PoolState => ({
      slots: new Map(),
      notifyIdle: coalescing((workers) => dispatch(deps.scheduler, { type: 'workersIdle', workers }), perLoopTurn),
      sweepTimer: null,
      stopped: false,
    }),
    afterStop: (state) => {
      if (state.sweepTimer) deps.clock.clearInterval(state.sweepTimer);
    },
    onCrash: (_msg, err, ctx) => {
      onCrash(err ?? new Error('pool manager crashed'));
      return ctx.stop;
    },
  });
}

function handle(state: PoolState, msg: PoolMsg, self: Ref<PoolMsg>, deps: PoolDeps): PoolState {
  switch (msg.type) {
    case 'start':
      for (const pool of deps.backends) {
        for (let i = 0; i < pool.minWorkers; i++) {
          const slot = newSlot(`local:${pool.backend.name}:${i}`, pool);
          state.slots.set(slot.id, slot);
          startWorker(state, slot, self, deps, false);
        }
      }
      state.sweepTimer = deps.clock.setInterval(() => dispatch(self, { type: 'sweep' }), deps.heartbeatIntervalMs);
      return state;
    case 'heartbeat': {
      const slot = state.slots.get(msg.workerId);
      if (!slot || slot.incarnation !== msg.incarnation) return state;
      slot.lastBeat = deps.clock.now();
      slot.taskId = msg.taskId;
      slot.status = msg.taskId ? 'busy' : 'idle';
      return state;
    }
    case 'workerCrashed': {
      const slot = state.slots.get(msg.workerId);
      if (!slot || slot.incarnation !== msg.incarnation || state.stopped) return state;
      deps.log.warn('worker crashed', { worker: slot.id, error: msg.error });
      replace(slot, `worker crashed: ${msg.error}`, self, deps);
      return state;
    }
    case 'respawn': {
      const slot = state.slots.get(msg.workerId);
      if (slot && slot.status === 'restarting' && !state.stopped) startWorker(state, slot, self, deps, true);
      return state;
    }
    case 'sweep':
      sweep(state, self, deps);
      return state;
    case 'stopAll': {
      state.stopped = true;
      let count = 0;
      for (const slot of state.slots.values()) {
        if (slot.handle) {
          stop(slot.handle.ref);
          count++;
        }
        slot.handle = null;
        slot.status = 'stopped';
      }
      dispatch(msg.replyTo, count);
      return state;
    }
  }
}

function newSlot(id: string, pool: PoolBackend): Slot {
  return { id, pool, incarnation: 0, handle: null, status: 'restarting', lastBeat: 0, taskId: null, restarts: [] };
}

function startWorker(state: PoolState, slot: Slot, self: Ref<PoolMsg>, deps: PoolDeps, restart: boolean): void {
  slot.incarnation += 1;
  const incarnation = slot.incarnation;
  const backend = slot.pool.backend;
  slot.handle = spawnWorker(
    self,
    `${slot.id.replaceAll(':', '.')}.${incarnation}`,
    {
      id: slot.id,
      incarnation,
      backend,
      location: 'local',
      transitions: deps.transitions,
      notifyIdle: state.notifyIdle,
      retryLater: (task, delayMs) => dispatch(deps.scheduler, { type: 'retryLater', task, delayMs }),
      maxAttempts: deps.maxAttempts,
      retryDelayMs: deps.retryDelayMs,
      clock: deps.clock,
      log: deps.log,
      heartbeatMs: deps.heartbeatIntervalMs,
      defaultTimeoutS: slot.pool.timeoutS,
    },
    (beat) => dispatch(self, beat),
    (err) => dispatch(self, { type: 'workerCrashed', workerId: slot.id, incarnation, error: err.message }),
  );
  slot.status = 'idle';
  slot.taskId = null;
  slot.lastBeat = deps.clock.now();
  deps.recordStarted({ id: slot.id, backend: backend.name, model: backend.model, location: 'local', restart }).catch((err: Error) =>
    deps.log.error('recording a worker failed', { worker: slot.id, error: err.message }),
  );
  dispatch(deps.scheduler, { type: 'workerReady', worker: slot.handle });
}

/** Takes a dead or silent worker out of the pool, requeues its task, and schedules its successor. */
function replace(slot: Slot, reason: string, self: Ref<PoolMsg>, deps: PoolDeps): void {
  if (slot.handle) stop(slot.handle.ref);
  slot.handle = null;
  slot.taskId = null;
  dispatch(deps.scheduler, { type: 'workerRemoved', workerId: slot.id, incarnation: slot.incarnation, reason });
  const decision = decideRestart(slot.restarts, deps.clock.now(), deps.restart);
  slot.restarts = decision.history;
  if (decision.action === 'giveUp') {
    slot.status = 'failed';
    const why = `${decision.history.length} restarts within ${deps.restart.period_ms} ms; last: ${reason}`;
    deps.log.error('worker slot gave up', { worker: slot.id, reason: why });
    deps.onBackendFailed(slot.pool.backend.name, why);
    return;
  }
  slot.status = 'restarting';
  deps.clock.setTimeout(() => dispatch(self, { type: 'respawn', workerId: slot.id }), decision.delayMs);
}

function sweep(state: PoolState, self: Ref<PoolMsg>, deps: PoolDeps): void {
  const now = deps.clock.now();
  for (const slot of state.slots.values()) {
    if (slot.handle && now - slot.lastBeat > deps.heartbeatTimeoutMs) {
      deps.log.warn('worker missed its heartbeat lease', { worker: slot.id, silentMs: now - slot.lastBeat });
      replace(slot, `heartbeat lost after ${now - slot.lastBeat} ms`, self, deps);
    }
  }
  const beats = [...state.slots.values()].map((s) => ({ id: s.id, status: s.status, currentTask: s.taskId, lastHeartbeat: s.lastBeat || null }));
  deps.recordBeats(beats).catch((err: Error) => deps.log.error('recording heartbeats failed', { error: err.message }));
}
