/**
 * The pool manager: the only one that creates or stops local workers. It starts `min_workers` slots per backend,
 * grows a backend's slots up to `max_workers` when the scheduler reports a backlog, stops the idle workers the
 * scheduler retires, holds a heartbeat lease on each worker, replaces one that crashed or went silent (after a backoff
 * from the restart policy), and marks a backend failed when its slots crash faster than the policy allows.
 * Slots on koubou-nodes are the node registry's (actors/node-registry.ts). Whether a worker is busy or idle is the
 * scheduler's fact alone (see actors/scheduler.ts): it sees both ends of every run, so it also decides which idle
 * workers go; this actor only knows whether a slot has a live worker.
 */
import { dispatch, query, spawn, stop, type Ref } from 'nact';
import type { Backend } from '../src/backends/types.js';
import { ableToRun, type Capabilities } from '../src/routing/capabilities.js';
import { localGroup } from '../src/routing/gate-feed.js';
import type { Demand } from '../src/routing/scheduler-views.js';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { WorkerEvent } from '../src/events/worker-events.js';
import type { Logger } from '../src/logger.js';
import type { Heartbeat, IdleWorker, SpawnWorker, WorkerHandle } from '../src/routing/worker-protocol.js';
import type { SlotState, WorkerBeat } from '../src/store/worker-repository.js';
import { decideRestart, type RestartSettings } from '../src/supervision/restart-policy.js';
import { workersToAdd } from '../src/supervision/scaling.js';
import type { TaskTransitions } from '../src/tasks/task-transitions.js';
import type { FlowValve } from '../src/tasks/flow.js';
import { coalescing, perLoopTurn } from '../src/supervision/coalesce.js';
import { LoopLag } from '../src/supervision/loop-lag.js';
import type { SchedulerMsg } from './scheduler.js';

export interface PoolBackend {
  backend: Backend;
  minWorkers: number;
  maxWorkers: number;
  /** Seconds a task on this backend may run when it names no timeout. */
  timeoutS: number;
  caps: Capabilities;
}

export type PoolMsg =
  | { type: 'start' }
  | Heartbeat
  | { type: 'workerCrashed'; workerId: string; incarnation: number; error: string }
  | { type: 'respawn'; workerId: string }
  /** Timer tick: reap silent workers, persist live status. */
  | { type: 'sweep' }
  /** From the scheduler: tasks wait that no idle worker can take (see Demand); grow the backends that could. */
  | { type: 'demand'; demand: Demand }
  /** From the scheduler: idle workers it has taken out of the pool, to stop. */
  | { type: 'retire'; workers: IdleWorker[] }
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
  /** Passed to every worker: see WorkerDeps.maxOutputBytes and flowOf. */
  maxOutputBytes: number;
  flowOf?(taskId: string): FlowValve | undefined;
  /** Persistence of the workers table (started, restarted, live status). */
  recordStarted(w: { id: string; backend: string; model: string; location: 'local'; restart: boolean }): Promise<void>;
  recordBeats(beats: WorkerBeat[]): Promise<void>;
  /** Called when a backend's pool trips the restart intensity limit. */
  onBackendFailed(backend: string, reason: string): void;
  /** Told what happens to workers: started, restarted, lost (by cause), retired, gave up. */
  onWorkerEvent(e: Omit<WorkerEvent, 'at'>): void;
  /** Passed to every worker: see WorkerDeps.recordBackendCall. */
  recordBackendCall(backend: string, seconds: number, errorCode: string | null): void;
  /** Starts one worker actor; the real one is spawnWorker, tests give a controllable one. */
  spawnWorker: SpawnWorker;
}

/** How long a worker waits for the scheduler to say how long a backend that pushed back takes no work. */
const GATE_ANSWER_MS = 5_000;

/** One local concurrency slot: `local:<backend>:<n>`, its current worker (if any) and its restart history. */
interface LocalSlot {
  id: string;
  pool: PoolBackend;
  incarnation: number;
  handle: WorkerHandle | null;
  status: SlotState;
  lastBeat: number;
  restarts: number[];
}

interface PoolState {
  slots: Map<string, LocalSlot>;
  notifyIdle: (worker: IdleWorker) => void;
  sweepTimer: TimerHandle | null;
  sweeps: number;
  stopped: boolean;
  /** Backends whose slots crashed past the restart intensity: no new workers for them. */
  failedBackends: Set<string>;
  /** How late the loop ran: a heartbeat late by that much is not lost (see LoopLag). */
  lag: LoopLag;
}

/** Spawns the pool manager under parent; crashes are reported to the parent, which rebuilds the tree. */
export function spawnPoolManager(parent: Ref<any>, deps: PoolDeps, onCrash: (err: Error) => void): Ref<PoolMsg> {
  return spawn(parent, (state: PoolState, msg: PoolMsg, ctx) => handle(state, msg, ctx.self, deps), 'pool-manager', {
    initialStateFunc: (): PoolState => ({
      slots: new Map(),
      notifyIdle: coalescing((workers) => dispatch(deps.scheduler, { type: 'workersIdle', workers }), perLoopTurn),
      sweepTimer: null,
      sweeps: 0,
      stopped: false,
      failedBackends: new Set(),
      lag: new LoopLag(deps.heartbeatIntervalMs / 2),
    }),
    afterStop: (state) => {
      if (state.sweepTimer) deps.clock.clearInterval(state.sweepTimer);
      state.lag.stop();
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
      for (const pool of deps.backends) addWorkers(state, pool, pool.minWorkers, self, deps);
      // Twice per interval, so a silent worker is caught at most half an interval after its lease runs out.
      state.sweepTimer = deps.clock.setInterval(() => dispatch(self, { type: 'sweep' }), deps.heartbeatIntervalMs / 2);
      return state;
    case 'heartbeat': {
      const slot = state.slots.get(msg.workerId);
      // A beat still in the mailbox from a stopped worker must not make its slot look alive while it waits to restart.
      if (!slot || slot.incarnation !== msg.incarnation || !slot.handle) return state;
      slot.lastBeat = deps.clock.now();
      return state;
    }
    case 'demand': {
      if (state.stopped) return state;
      const { busy, waiting } = msg.demand;
      // The backends that may run each lane's tasks, as the scheduler routes them.
      const able = waiting.map(({ req }) => ableToRun(req, deps.backends));
      const capacity = deps.backends.map((pool) => ({
        name: pool.backend.name,
        slots: slotsOf(state, pool.backend.name).length,
        max: pool.maxWorkers,
        failed: state.failedBackends.has(pool.backend.name),
        busy: busy.get(pool.backend.name) ?? 0,
        takes: (lane: number) => able[lane]!.includes(pool),
      }));
      const pending = waiting.reduce((sum, w) => sum + w.count, 0);
      for (const [name, count] of workersToAdd(capacity, waiting.map((w) => w.count))) {
        const pool = deps.backends.find((b) => b.backend.name === name)!;
        deps.log.info('scaling up', { backend: name, add: count, pending });
        addWorkers(state, pool, count, self, deps);
      }
      return state;
    }
    case 'retire':
      for (const w of msg.workers) {
        const slot = state.slots.get(w.workerId);
        // Replaced meanwhile (it crashed): the scheduler let go of the old incarnation only.
        if (!slot || slot.incarnation !== w.incarnation || !slot.handle) continue;
        stop(slot.handle.ref);
        state.slots.delete(slot.id);
        deps.log.info('scaled down an idle worker', { worker: slot.id });
        deps.onWorkerEvent({ kind: 'retired', workerId: slot.id });
        deps.recordBeats([{ id: slot.id, status: 'stopped', lastHeartbeat: slot.lastBeat }]).catch(logStoreError(deps));
      }
      return state;
    case 'workerCrashed': {
      const slot = state.slots.get(msg.workerId);
      if (!slot || slot.incarnation !== msg.incarnation || state.stopped) return state;
      deps.log.warn('worker crashed', { worker: slot.id, backend: slot.pool.backend.name, code: 'worker_crashed', error: msg.error });
      deps.onWorkerEvent({ kind: 'lost', workerId: slot.id, detail: { cause: 'crash', error: msg.error } });
      replace(slot, `worker crashed: ${msg.error}`, state.failedBackends, self, deps);
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
      const running = [...state.slots.values()].filter((slot) => slot.handle !== null);
      for (const slot of running) stop(slot.handle!.ref);
      for (const slot of state.slots.values()) Object.assign(slot, { handle: null, status: 'stopped' });
      dispatch(msg.replyTo, running.length);
      return state;
    }
  }
}

const hasWorker = (slot: LocalSlot) => slot.handle !== null || slot.status === 'restarting';

/** A backend's slots that hold or will soon hold a worker. */
function slotsOf(state: PoolState, backend: string): LocalSlot[] {
  return [...state.slots.values()].filter((s) => s.pool.backend.name === backend && hasWorker(s));
}

/** Starts `count` new slots for a backend, each under the lowest free index so ids stay small and stable. */
function addWorkers(state: PoolState, pool: PoolBackend, count: number, self: Ref<PoolMsg>, deps: PoolDeps): void {
  for (let i = 0, added = 0; added < count; i++) {
    const id = `local:${pool.backend.name}:${i}`;
    const existing = state.slots.get(id);
    if (existing && hasWorker(existing)) continue;
    const slot: LocalSlot = existing ?? { id, pool, incarnation: 0, handle: null, status: 'restarting', lastBeat: 0, restarts: [] };
    state.slots.set(id, slot);
    startWorker(state, slot, self, deps, existing !== undefined);
    added++;
  }
}

const logStoreError = (deps: PoolDeps) => (err: Error) => deps.log.error('recording worker status failed', { error: err.message });

function startWorker(state: PoolState, slot: LocalSlot, self: Ref<PoolMsg>, deps: PoolDeps, restart: boolean): void {
  slot.incarnation += 1;
  const incarnation = slot.incarnation;
  const { backend, caps, timeoutS } = slot.pool;
  slot.handle = deps.spawnWorker(
    self,
    `${slot.id.replaceAll(':', '.')}.${incarnation}`,
    {
      id: slot.id,
      incarnation,
      backend,
      location: 'local',
      group: localGroup(backend.name),
      caps,
      transitions: deps.transitions,
      notifyIdle: state.notifyIdle,
      retryLater: (task, delayMs, why) => dispatch(deps.scheduler, { type: 'retryLater', task, delayMs, why }),
      maxAttempts: deps.maxAttempts,
      retryDelayMs: deps.retryDelayMs,
      recordBackendCall: deps.recordBackendCall,
      // Straight to the scheduler, which owns the backends' gates: it arrives before the task it is about comes back.
      reportCall: (report) => dispatch(deps.scheduler, { type: 'backendCall', report }),
      reportPushback: (report) => query(deps.scheduler, (replyTo: Ref<number>) => ({ type: 'backendCall' as const, report, replyTo }), GATE_ANSWER_MS),
      clock: deps.clock,
      log: deps.log,
      heartbeatMs: deps.heartbeatIntervalMs,
      defaultTimeoutS: timeoutS,
      maxOutputBytes: deps.maxOutputBytes,
      flowOf: deps.flowOf,
    },
    (beat) => dispatch(self, beat),
    (err) => dispatch(self, { type: 'workerCrashed', workerId: slot.id, incarnation, error: err.message }),
  );
  slot.status = 'live';
  slot.lastBeat = deps.clock.now();
  deps.recordStarted({ id: slot.id, backend: backend.name, model: backend.model, location: 'local', restart }).catch(logStoreError(deps));
  deps.onWorkerEvent({ kind: restart ? 'restarted' : 'started', workerId: slot.id });
  dispatch(deps.scheduler, { type: 'workerReady', worker: slot.handle });
}

/** Takes a dead or silent worker out of the pool, requeues its task, and schedules its successor. */
function replace(slot: LocalSlot, reason: string, failedBackends: Set<string>, self: Ref<PoolMsg>, deps: PoolDeps): void {
  if (slot.handle) stop(slot.handle.ref);
  slot.handle = null;
  dispatch(deps.scheduler, { type: 'workerRemoved', workerId: slot.id, incarnation: slot.incarnation, reason });
  const decision = decideRestart(slot.restarts, deps.clock.now(), deps.restart);
  slot.restarts = decision.history;
  if (decision.action === 'giveUp') {
    slot.status = 'failed';
    const backend = slot.pool.backend.name;
    failedBackends.add(backend);
    const why = `${decision.history.length} restarts within ${deps.restart.period_ms} ms; last: ${reason}`;
    deps.log.error('worker slot gave up', { worker: slot.id, reason: why });
    deps.onBackendFailed(backend, why);
    deps.onWorkerEvent({ kind: 'gave_up', workerId: slot.id, detail: { reason: why } });
    deps.recordBeats([{ id: slot.id, status: 'failed', lastHeartbeat: slot.lastBeat }]).catch(logStoreError(deps));
    return;
  }
  slot.status = 'restarting';
  deps.clock.setTimeout(() => dispatch(self, { type: 'respawn', workerId: slot.id }), decision.delayMs);
}

function sweep(state: PoolState, self: Ref<PoolMsg>, deps: PoolDeps): void {
  const now = deps.clock.now();
  const leaseMs = deps.heartbeatTimeoutMs + state.lag.recentMaxMs();
  for (const slot of state.slots.values()) {
    if (slot.handle && now - slot.lastBeat > leaseMs) {
      const silentMs = now - slot.lastBeat;
      deps.log.warn('worker missed its heartbeat lease; its task goes back to the queue', { worker: slot.id, backend: slot.pool.backend.name, code: 'heartbeat_lost', silentMs });
      deps.onWorkerEvent({ kind: 'lost', workerId: slot.id, detail: { cause: 'heartbeat', silent_ms: silentMs } });
      replace(slot, `heartbeat lost after ${silentMs} ms`, state.failedBackends, self, deps);
    }
  }
  // Live status reaches the workers table once per interval; leases are checked on every sweep.
  if (state.sweeps++ % 2 !== 0) return;
  const beats = [...state.slots.values()].map((s) => ({ id: s.id, status: s.status, lastHeartbeat: s.lastBeat || null }));
  deps.recordBeats(beats).catch(logStoreError(deps));
}
