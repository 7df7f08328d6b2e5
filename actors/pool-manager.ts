/**
 * The pool manager: the only one that creates or stops workers. It starts `min_workers` slots per backend, adds slots
 * up to `max_workers` when the scheduler reports a backlog, retires slots idle longer than `idle_ms` (down to min),
 * holds a heartbeat lease on each, replaces a worker that crashed or went silent (after a backoff from the restart
 * policy), and marks a backend failed when its slots crash faster than the policy allows.
 * Whether a live worker is busy or idle is not its business: the scheduler owns that (see actors/scheduler.ts), and
 * decides which idle workers may be retired.
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import type { Backend } from '../src/backends/types.js';
import type { Capabilities } from '../src/routing/capabilities.js';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { WorkerEvent } from '../src/events/worker-events.js';
import type { Logger } from '../src/logger.js';
import type { SlotState, WorkerBeat } from '../src/store/workers-repo.js';
import { decideRestart, type RestartSettings } from '../src/supervision/restart-policy.js';
import { workersToAdd } from '../src/supervision/scaling.js';
import type { TaskTransitions } from '../src/tasks/transitions.js';
import { coalescing, perLoopTurn } from '../src/supervision/coalesce.js';
import type { IdleWorker, RetiredReply, SchedulerMsg } from './scheduler.js';
import type { Heartbeat, WorkerHandle, spawnWorker } from './worker.js';

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
  /** Timer tick: reap silent workers, retire idle ones, persist live status. */
  | { type: 'sweep' }
  /** From the scheduler: tasks are waiting and no worker is idle; `workers` is how many it knows. */
  | { type: 'demand'; pending: number; workers: number }
  /** From the scheduler: the idle workers it took out of the pool, to stop. */
  | RetiredReply
  /** Shutdown: stop every worker (aborting what runs) and answer how many were stopped. */
  | { type: 'stopAll'; replyTo: Ref<number> }
  /** A koubou-node joined (or joined again): its slots replace any it had. */
  | { type: 'nodeJoined'; nodeId: string; session: string; slots: AnnouncedSlot[] }
  /** A node's heartbeat renews the lease of all its slots; answers whether this session is known. */
  | { type: 'nodeBeat'; nodeId: string; session: string; replyTo: Ref<boolean> }
  /** A node's slot finished its run (recorded or abandoned) and can take the next task. */
  | { type: 'remoteIdle'; nodeId: string; session: string; slot: number }
  /** Which node a session was issued to (null: none now). */
  | { type: 'sessionOwner'; session: string; replyTo: Ref<string | null> };

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
  /** Passed to every worker: see WorkerDeps.maxOutputBytes. */
  maxOutputBytes: number;
  /** Persistence of the workers table (started, restarted, live status). */
  recordStarted(w: { id: string; backend: string; model: string; location: 'local' | 'remote'; restart: boolean }): Promise<void>;
  recordBeats(beats: WorkerBeat[]): Promise<void>;
  /** Called when a backend's pool trips the restart intensity limit. */
  onBackendFailed(backend: string, reason: string): void;
  /** Told what happens to workers: started, restarted, lost (by cause), retired, gave up, left. */
  onWorkerEvent(e: Omit<WorkerEvent, 'at'>): void;
  /** Passed to every worker: see WorkerDeps.recordBackendCall. */
  recordBackendCall(backend: string, seconds: number, errorCode: string | null): void;
  idleMs: number;
  /** Starts one worker actor; the real one is spawnWorker, tests give a controllable one. */
  spawnWorker: typeof spawnWorker;
  /** Starts the proxy actor of one remote slot (see actors/remote-worker.ts). */
  spawnRemoteWorker(parent: Ref<unknown>, actorName: string, slot: RemoteSlotInfo): WorkerHandle;
}

export interface RemoteSlotInfo {
  id: string;
  incarnation: number;
  nodeId: string;
  session: string;
  slot: number;
  backend: string;
  model: string;
  caps: Capabilities;
}

/** A slot a koubou-node announces when it joins. */
export interface AnnouncedSlot {
  backend: string;
  model: string;
  caps: Capabilities;
}

interface Slot {
  id: string;
  /** The local backend this slot runs on; null for a slot on a koubou-node. */
  pool: PoolBackend | null;
  /** Set for a slot on a koubou-node: the node leases it, and it is never restarted here. */
  remote: { nodeId: string; session: string; slot: number } | null;
  incarnation: number;
  handle: WorkerHandle | null;
  status: SlotState;
  lastBeat: number;
  restarts: number[];
}

/**
 * A node's current session. Its slot proxies live under `holder`, not under the pool manager: nact copies an actor's
 * children on every message it handles, and the pool manager handles one per finished remote task.
 */
interface NodeEntry {
  session: string;
  holder: Ref<unknown>;
  /** By slot index; a slot taken out of the pool is no longer in `slots` of the state. */
  slots: Slot[];
  live: number;
}

interface PoolState {
  slots: Map<string, Slot>;
  nodes: Map<string, NodeEntry>;
  /** Remote slot ids keep counting incarnations across sessions, so a late notice from an old session is ignored. */
  retiredIncarnations: Map<string, number>;
  notifyIdle: (worker: IdleWorker) => void;
  sweepTimer: TimerHandle | null;
  sweeps: number;
  /** Asked the scheduler which idle workers may go; waiting for the answer. */
  retiring: boolean;
  stopped: boolean;
  /** Backends whose slots crashed past the restart intensity: no new workers for them. */
  failedBackends: Set<string>;
}

/** Spawns the pool manager under parent; crashes are reported to the parent, which rebuilds the tree. */
export function spawnPoolManager(parent: Ref<any>, deps: PoolDeps, onCrash: (err: Error) => void): Ref<PoolMsg> {
  return spawn(parent, (state: PoolState, msg: PoolMsg, ctx) => handle(state, msg, ctx.self, deps), 'pool-manager', {
    initialStateFunc: (): PoolState => ({
      slots: new Map(),
      nodes: new Map(),
      retiredIncarnations: new Map(),
      notifyIdle: coalescing((workers) => dispatch(deps.scheduler, { type: 'workersIdle', workers }), perLoopTurn),
      sweepTimer: null,
      sweeps: 0,
      retiring: false,
      stopped: false,
      failedBackends: new Set(),
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
      const unseen = [...state.slots.values()].filter(hasWorker).length - msg.workers;
      const capacity = deps.backends.map((pool) => ({
        name: pool.backend.name,
        slots: slotsOf(state, pool.backend.name).length,
        max: pool.maxWorkers,
        failed: state.failedBackends.has(pool.backend.name),
      }));
      for (const [name, count] of workersToAdd(capacity, msg.pending, unseen)) {
        const pool = deps.backends.find((b) => b.backend.name === name)!;
        deps.log.info('scaling up', { backend: name, add: count, pending: msg.pending });
        addWorkers(state, pool, count, self, deps);
      }
      return state;
    }
    case 'retired':
      state.retiring = false;
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
      deps.log.warn('worker crashed', { worker: slot.id, backend: slot.handle?.backend, code: 'worker_crashed', error: msg.error });
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
    case 'nodeJoined':
      joinNode(state, msg, self, deps);
      return state;
    case 'nodeBeat': {
      const node = state.nodes.get(msg.nodeId);
      const known = node !== undefined && node.session === msg.session && node.live > 0;
      if (known) {
        const now = deps.clock.now();
        for (const slot of node.slots) slot.lastBeat = now;
      } else warnIfForeign(state, msg.nodeId, msg.session, 'beat', deps);
      dispatch(msg.replyTo, known);
      return state;
    }
    case 'remoteIdle': {
      const node = state.nodes.get(msg.nodeId);
      const slot = node?.session === msg.session ? node.slots[msg.slot] : undefined;
      if (slot?.handle && state.slots.get(slot.id) === slot) state.notifyIdle({ workerId: slot.id, incarnation: slot.incarnation });
      else if (node?.session !== msg.session) warnIfForeign(state, msg.nodeId, msg.session, 'idle', deps);
      return state;
    }
    case 'sessionOwner':
      dispatch(msg.replyTo, sessionOwner(state, msg.session));
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

function sessionOwner(state: PoolState, session: string): string | null {
  for (const [nodeId, node] of state.nodes) if (node.session === session) return nodeId;
  return null;
}

/** A session unknown to its node is usual (a coordinator restart); one issued to another node is someone posing as it. */
function warnIfForeign(state: PoolState, nodeId: string, session: string, what: string, deps: PoolDeps): void {
  const owner = sessionOwner(state, session);
  if (owner !== null && owner !== nodeId) deps.log.warn(`refused a ${what} naming another node's session`, { node: nodeId, session_of: owner });
}

const hasWorker = (slot: Slot) => slot.handle !== null || slot.status === 'restarting';

/** A local backend's slots that hold or will soon hold a worker. */
function slotsOf(state: PoolState, backend: string): Slot[] {
  return [...state.slots.values()].filter((s) => s.pool?.backend.name === backend && hasWorker(s));
}

/** Puts a node's slots in the pool, after taking out those of an earlier session (their tasks go back to the queue). */
function joinNode(state: PoolState, msg: Extract<PoolMsg, { type: 'nodeJoined' }>, self: Ref<PoolMsg>, deps: PoolDeps): void {
  const old = state.nodes.get(msg.nodeId);
  for (const slot of old?.slots ?? []) if (state.slots.get(slot.id) === slot) removeRemote(state, slot, 'its node joined again', deps);
  const now = deps.clock.now();
  const holder = spawn(self, (s: null) => s, `node.${msg.nodeId}.${msg.session}`);
  const node: NodeEntry = { session: msg.session, holder, slots: [], live: msg.slots.length };
  state.nodes.set(msg.nodeId, node);
  msg.slots.forEach((info, i) => {
    const id = `remote:${msg.nodeId}:${i}`;
    const incarnation = (state.retiredIncarnations.get(id) ?? 0) + 1;
    state.retiredIncarnations.set(id, incarnation);
    const remote = { nodeId: msg.nodeId, session: msg.session, slot: i };
    const handle = deps.spawnRemoteWorker(holder, `slot.${i}`, { id, incarnation, ...remote, ...info });
    const slot: Slot = { id, pool: null, remote, incarnation, handle, status: 'live', lastBeat: now, restarts: [] };
    state.slots.set(id, slot);
    node.slots.push(slot);
    deps.recordStarted({ id, backend: info.backend, model: info.model, location: 'remote', restart: incarnation > 1 }).catch(logStoreError(deps));
    dispatch(deps.scheduler, { type: 'workerReady', worker: handle });
    deps.onWorkerEvent({ kind: 'started', workerId: id, detail: { node: msg.nodeId } });
  });
  deps.log.info('node joined the pool', { node: msg.nodeId, slots: msg.slots.length });
}

/** Takes a remote slot out: its task is requeued; the node must join again to come back. */
function removeRemote(state: PoolState, slot: Slot, reason: string, deps: PoolDeps): void {
  if (slot.handle) stop(slot.handle.ref);
  state.slots.delete(slot.id);
  const node = state.nodes.get(slot.remote!.nodeId);
  if (node?.session === slot.remote!.session && --node.live === 0) {
    stop(node.holder);
    state.nodes.delete(slot.remote!.nodeId);
  }
  dispatch(deps.scheduler, { type: 'workerRemoved', workerId: slot.id, incarnation: slot.incarnation, reason });
  deps.recordBeats([{ id: slot.id, status: 'gone', lastHeartbeat: slot.lastBeat }]).catch(logStoreError(deps));
  deps.onWorkerEvent({ kind: 'left', workerId: slot.id, detail: { node: slot.remote!.nodeId, reason } });
}

/** Starts `count` new slots for a backend, each under the lowest free index so ids stay small and stable. */
function addWorkers(state: PoolState, pool: PoolBackend, count: number, self: Ref<PoolMsg>, deps: PoolDeps): void {
  for (let i = 0, added = 0; added < count; i++) {
    const id = `local:${pool.backend.name}:${i}`;
    const existing = state.slots.get(id);
    if (existing && hasWorker(existing)) continue;
    const slot: Slot = existing ?? { id, pool, remote: null, incarnation: 0, handle: null, status: 'restarting', lastBeat: 0, restarts: [] };
    state.slots.set(id, slot);
    startWorker(state, slot, self, deps, existing !== undefined);
    added++;
  }
}

const logStoreError = (deps: PoolDeps) => (err: Error) => deps.log.error('recording worker status failed', { error: err.message });

function startWorker(state: PoolState, slot: Slot, self: Ref<PoolMsg>, deps: PoolDeps, restart: boolean): void {
  const pool = slot.pool!;
  slot.incarnation += 1;
  const incarnation = slot.incarnation;
  const backend = pool.backend;
  slot.handle = deps.spawnWorker(
    self,
    `${slot.id.replaceAll(':', '.')}.${incarnation}`,
    {
      id: slot.id,
      incarnation,
      backend,
      location: 'local',
      group: `local:${backend.name}`,
      caps: pool.caps,
      transitions: deps.transitions,
      notifyIdle: state.notifyIdle,
      retryLater: (task, delayMs, why) => dispatch(deps.scheduler, { type: 'retryLater', task, delayMs, why }),
      maxAttempts: deps.maxAttempts,
      retryDelayMs: deps.retryDelayMs,
      recordBackendCall: deps.recordBackendCall,
      // Straight to the scheduler, which owns the backends' gates: it arrives before the task it is about comes back.
      reportCall: (report) => dispatch(deps.scheduler, { type: 'backendCall', report }),
      clock: deps.clock,
      log: deps.log,
      heartbeatMs: deps.heartbeatIntervalMs,
      defaultTimeoutS: pool.timeoutS,
      maxOutputBytes: deps.maxOutputBytes,
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
function replace(slot: Slot, reason: string, failedBackends: Set<string>, self: Ref<PoolMsg>, deps: PoolDeps): void {
  if (slot.handle) stop(slot.handle.ref);
  slot.handle = null;
  dispatch(deps.scheduler, { type: 'workerRemoved', workerId: slot.id, incarnation: slot.incarnation, reason });
  const decision = decideRestart(slot.restarts, deps.clock.now(), deps.restart);
  slot.restarts = decision.history;
  if (decision.action === 'giveUp') {
    slot.status = 'failed';
    failedBackends.add(slot.pool!.backend.name);
    const why = `${decision.history.length} restarts within ${deps.restart.period_ms} ms; last: ${reason}`;
    deps.log.error('worker slot gave up', { worker: slot.id, reason: why });
    deps.onBackendFailed(slot.pool!.backend.name, why);
    deps.onWorkerEvent({ kind: 'gave_up', workerId: slot.id, detail: { reason: why } });
    deps.recordBeats([{ id: slot.id, status: 'failed', lastHeartbeat: slot.lastBeat }]).catch(logStoreError(deps));
    return;
  }
  slot.status = 'restarting';
  deps.clock.setTimeout(() => dispatch(self, { type: 'respawn', workerId: slot.id }), decision.delayMs);
}

function sweep(state: PoolState, self: Ref<PoolMsg>, deps: PoolDeps): void {
  const now = deps.clock.now();
  for (const slot of state.slots.values()) {
    if (slot.handle && now - slot.lastBeat > deps.heartbeatTimeoutMs) {
      const backend = slot.pool?.backend.name ?? slot.handle.backend;
      deps.log.warn('worker missed its heartbeat lease; its task goes back to the queue', { worker: slot.id, backend, code: 'heartbeat_lost', silentMs: now - slot.lastBeat });
      deps.onWorkerEvent({ kind: 'lost', workerId: slot.id, detail: { cause: 'heartbeat', silent_ms: now - slot.lastBeat } });
      const reason = `heartbeat lost after ${now - slot.lastBeat} ms`;
      if (slot.remote) removeRemote(state, slot, reason, deps);
      else replace(slot, reason, state.failedBackends, self, deps);
    }
  }
  retireIdle(state, self, deps);
  // Live status reaches the workers table once per interval; leases are checked on every sweep.
  if (state.sweeps++ % 2 !== 0) return;
  const beats = [...state.slots.values()].map((s) => ({ id: s.id, status: s.status, lastHeartbeat: s.lastBeat || null }));
  deps.recordBeats(beats).catch(logStoreError(deps));
}

/** Asks the scheduler (which knows who is idle, and since when) to release workers idle past idle_ms, down to min. */
function retireIdle(state: PoolState, self: Ref<PoolMsg>, deps: PoolDeps): void {
  if (state.retiring || state.stopped) return;
  // Remote slots belong to their node: only local ones scale.
  const min = new Map(deps.backends.map((b) => [b.backend.name, b.minWorkers]));
  if (!deps.backends.some((b) => slotsOf(state, b.backend.name).length > b.minWorkers)) return;
  state.retiring = true;
  dispatch(deps.scheduler, { type: 'retireIdle', min, idleMs: deps.idleMs, replyTo: self });
}
