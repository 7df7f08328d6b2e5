/**
 * The node registry: which koubou-nodes are in the pool. A node joins with a session and its slots; each slot gets a
 * proxy worker (actors/remote-worker.ts) that the scheduler treats like a local one. The node's heartbeats renew
 * one lease for all its slots; a node silent past the lease, or one that joins again, has its slots taken out and
 * their tasks requeued by the scheduler. A remote slot is never restarted here: only its node can bring it back.
 *
 * Whether a slot is busy or idle is the scheduler's fact (see actors/scheduler.ts): the registry only forwards a
 * node's "slot idle" notice, after checking that the session is the node's current one.
 */
import { dispatch, spawn, stop, type Ref } from 'nact';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { WorkerEvent } from '../src/events/worker-events.js';
import type { Logger } from '../src/logger.js';
import type { AnnouncedSlot, RemoteSlotInfo } from '../src/nodes/remote-slot.js';
import type { IdleWorker, WorkerHandle } from '../src/routing/worker-protocol.js';
import type { WorkerBeat } from '../src/store/worker-repository.js';
import { coalescing, perLoopTurn } from '../src/supervision/coalesce.js';
import type { SchedulerMsg } from './scheduler.js';
import { LoopLag } from '../src/supervision/loop-lag.js';

export type NodeRegistryMsg =
  /** A koubou-node joined (or joined again): its slots replace any it had. */
  | { type: 'nodeJoined'; nodeId: string; session: string; slots: AnnouncedSlot[] }
  /** A node's heartbeat renews the lease of all its slots; answers whether this session is known. */
  | { type: 'nodeBeat'; nodeId: string; session: string; replyTo: Ref<boolean> }
  /** The node stops on purpose (its runs are over): its slots leave now, not after the heartbeat timeout. */
  | { type: 'nodeLeaving'; nodeId: string; session: string; replyTo: Ref<boolean> }
  /** A node's slot finished its run (recorded or abandoned) and can take the next task. */
  | { type: 'remoteIdle'; nodeId: string; session: string; slot: number }
  /** Which node a session was issued to (null: none now). */
  | { type: 'sessionOwner'; session: string; replyTo: Ref<string | null> }
  /** Timer tick: take out nodes whose lease ran out; persist their slots' status. */
  | { type: 'sweep' }
  /** Shutdown: stop every proxy and answer how many there were. */
  | { type: 'stopAll'; replyTo: Ref<number> };

export interface NodeRegistryDeps {
  scheduler: Ref<SchedulerMsg>;
  clock: Clock;
  log: Logger;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** Starts the proxy actor of one remote slot (see actors/remote-worker.ts). */
  spawnRemoteWorker(parent: Ref<unknown>, actorName: string, slot: RemoteSlotInfo): WorkerHandle;
  /** Persistence of the workers table, as for local workers. */
  recordStarted(w: { id: string; backend: string; model: string; location: 'remote'; restart: boolean }): Promise<void>;
  recordBeats(beats: WorkerBeat[]): Promise<void>;
  onWorkerEvent(e: Omit<WorkerEvent, 'at'>): void;
}

interface RemoteSlot {
  id: string;
  incarnation: number;
  handle: WorkerHandle;
}

/**
 * A node's current session. Its slot proxies live under `holder`, not under the registry: nact copies an actor's
 * children on every message it handles, and the registry handles one per finished remote task.
 */
interface NodeEntry {
  session: string;
  holder: Ref<unknown>;
  /** By slot index. */
  slots: RemoteSlot[];
  /** When its last heartbeat (or its join) arrived, epoch ms: the lease of all its slots. */
  lastBeat: number;
}

interface RegistryState {
  nodes: Map<string, NodeEntry>;
  /** Slot ids keep counting incarnations across sessions, so a late notice from an old session is ignored. */
  incarnations: Map<string, number>;
  notifyIdle: (worker: IdleWorker) => void;
  sweepTimer: TimerHandle | null;
  sweeps: number;
  stopped: boolean;
  /** How late this process's loop ran: a node's heartbeat handled that much late is not lost (see LoopLag). */
  lag: LoopLag;
}

/** Spawns the node registry under parent and starts its lease sweep; crashes are reported to the parent. */
export function spawnNodeRegistry(parent: Ref<any>, deps: NodeRegistryDeps, onCrash: (err: Error) => void): Ref<NodeRegistryMsg> {
  return spawn(parent, (state: RegistryState, msg: NodeRegistryMsg, ctx) => handle(state, msg, ctx.self, deps), 'node-registry', {
    initialStateFunc: (ctx): RegistryState => ({
      nodes: new Map(),
      incarnations: new Map(),
      notifyIdle: coalescing((workers) => dispatch(deps.scheduler, { type: 'workersIdle', workers }), perLoopTurn),
      // Twice per interval, so a silent node is caught at most half an interval after its lease runs out.
      sweepTimer: deps.clock.setInterval(() => dispatch(ctx.self, { type: 'sweep' }), deps.heartbeatIntervalMs / 2),
      sweeps: 0,
      lag: new LoopLag(deps.heartbeatIntervalMs / 2),
      stopped: false,
    }),
    afterStop: (state) => {
      if (state.sweepTimer) deps.clock.clearInterval(state.sweepTimer);
      state.lag.stop();
    },
    onCrash: (_msg, err, ctx) => {
      onCrash(err ?? new Error('node registry crashed'));
      return ctx.stop;
    },
  });
}

function handle(state: RegistryState, msg: NodeRegistryMsg, self: Ref<NodeRegistryMsg>, deps: NodeRegistryDeps): RegistryState {
  switch (msg.type) {
    case 'nodeJoined':
      if (!state.stopped) join(state, msg, self, deps);
      return state;
    case 'nodeBeat': {
      const node = state.nodes.get(msg.nodeId);
      const known = node !== undefined && node.session === msg.session;
      if (known) node.lastBeat = deps.clock.now();
      else warnIfForeign(state, msg.nodeId, msg.session, 'beat', deps);
      dispatch(msg.replyTo, known);
      return state;
    }
    case 'nodeLeaving': {
      const node = state.nodes.get(msg.nodeId);
      const known = node !== undefined && node.session === msg.session;
      if (known) {
        leave(state, msg.nodeId, node, 'its node stopped', deps);
        deps.log.info('node left the pool', { node: msg.nodeId, slots: node.slots.length });
      }
      dispatch(msg.replyTo, known);
      return state;
    }
    case 'remoteIdle': {
      const node = state.nodes.get(msg.nodeId);
      if (node?.session !== msg.session) {
        warnIfForeign(state, msg.nodeId, msg.session, 'idle', deps);
        return state;
      }
      const slot = node.slots[msg.slot];
      if (slot) state.notifyIdle({ workerId: slot.id, incarnation: slot.incarnation });
      return state;
    }
    case 'sessionOwner':
      dispatch(msg.replyTo, sessionOwner(state, msg.session));
      return state;
    case 'sweep':
      sweep(state, deps);
      return state;
    case 'stopAll': {
      state.stopped = true;
      let count = 0;
      for (const node of state.nodes.values()) {
        stop(node.holder);
        count += node.slots.length;
      }
      state.nodes.clear();
      dispatch(msg.replyTo, count);
      return state;
    }
  }
}

function sessionOwner(state: RegistryState, session: string): string | null {
  for (const [nodeId, node] of state.nodes) if (node.session === session) return nodeId;
  return null;
}

/** A session unknown to its node is usual (a coordinator restart); one issued to another node is someone posing as it. */
function warnIfForeign(state: RegistryState, nodeId: string, session: string, what: string, deps: NodeRegistryDeps): void {
  const owner = sessionOwner(state, session);
  if (owner !== null && owner !== nodeId) deps.log.warn(`refused a ${what} naming another node's session`, { node: nodeId, session_of: owner });
}

/** Puts a node's slots in the pool, after taking out those of an earlier session (their tasks go back to the queue). */
function join(state: RegistryState, msg: Extract<NodeRegistryMsg, { type: 'nodeJoined' }>, self: Ref<NodeRegistryMsg>, deps: NodeRegistryDeps): void {
  const old = state.nodes.get(msg.nodeId);
  if (old) leave(state, msg.nodeId, old, 'its node joined again', deps);
  const holder = spawn(self, (s: null) => s, `node.${msg.nodeId}.${msg.session}`);
  const node: NodeEntry = { session: msg.session, holder, slots: [], lastBeat: deps.clock.now() };
  state.nodes.set(msg.nodeId, node);
  msg.slots.forEach((info, i) => {
    const id = `remote:${msg.nodeId}:${i}`;
    const incarnation = (state.incarnations.get(id) ?? 0) + 1;
    state.incarnations.set(id, incarnation);
    const handle = deps.spawnRemoteWorker(holder, `slot.${i}`, { id, incarnation, nodeId: msg.nodeId, session: msg.session, slot: i, ...info });
    node.slots.push({ id, incarnation, handle });
    deps.recordStarted({ id, backend: info.backend, model: info.model, location: 'remote', restart: incarnation > 1 }).catch(logStoreError(deps));
    dispatch(deps.scheduler, { type: 'workerReady', worker: handle });
    deps.onWorkerEvent({ kind: 'started', workerId: id, detail: { node: msg.nodeId } });
  });
  deps.log.info('node joined the pool', { node: msg.nodeId, slots: msg.slots.length });
}

/** Takes all of a node's slots out: their tasks are requeued; the node must join again to come back. */
function leave(state: RegistryState, nodeId: string, node: NodeEntry, reason: string, deps: NodeRegistryDeps): void {
  stop(node.holder);
  state.nodes.delete(nodeId);
  for (const slot of node.slots) {
    dispatch(deps.scheduler, { type: 'workerRemoved', workerId: slot.id, incarnation: slot.incarnation, reason });
    deps.recordBeats([{ id: slot.id, status: 'gone', lastHeartbeat: node.lastBeat }]).catch(logStoreError(deps));
    deps.onWorkerEvent({ kind: 'left', workerId: slot.id, detail: { node: nodeId, reason } });
  }
}

function sweep(state: RegistryState, deps: NodeRegistryDeps): void {
  const now = deps.clock.now();
  const leaseMs = deps.heartbeatTimeoutMs + state.lag.recentMaxMs();
  for (const [nodeId, node] of [...state.nodes]) {
    const silentMs = now - node.lastBeat;
    if (silentMs <= leaseMs) continue;
    for (const slot of node.slots) {
      deps.log.warn('worker missed its heartbeat lease; its task goes back to the queue', { worker: slot.id, backend: slot.handle.backend, node: nodeId, code: 'heartbeat_lost', silentMs });
      deps.onWorkerEvent({ kind: 'lost', workerId: slot.id, detail: { cause: 'heartbeat', silent_ms: silentMs } });
    }
    leave(state, nodeId, node, `heartbeat lost after ${silentMs} ms`, deps);
  }
  // Live status reaches the workers table once per interval; leases are checked on every sweep.
  if (state.sweeps++ % 2 !== 0) return;
  const beats = [...state.nodes.values()].flatMap((node) => node.slots.map((s) => ({ id: s.id, status: 'live' as const, lastHeartbeat: node.lastBeat })));
  if (beats.length > 0) deps.recordBeats(beats).catch(logStoreError(deps));
}

const logStoreError = (deps: NodeRegistryDeps) => (err: Error) => deps.log.error('recording worker status failed', { error: err.message });
