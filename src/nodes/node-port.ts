/**
 * What the coordinator does for koubou-nodes, independent of how they reach it (the NATS bridge translates):
 * join, heartbeat, idle, progress, and recording an outcome under its lease exactly as a local worker would.
 *
 * A node speaks only for itself: an outcome or a progress chunk counts only when its run's lease is held by one of
 * that node's slots, and a session counts only for the node it was issued to. Anything else is refused with a warn
 * line naming both nodes, never recorded.
 */
import type { ChatDelta } from '../tasks/chat.js';
import type { NodeOllamaVersion } from '../core.js';
import { NotThisNode } from '../errors.js';
import type { Logger } from '../logger.js';
import { isSlotOf } from '../nats/node-protocol.js';
import type { RetryWait } from '../routing/waiting.js';
import type { CallReport } from '../routing/worker-protocol.js';
import type { CallVerdict } from '../supervision/backend-gate.js';
import type { QueuedTask, TaskError, TaskOutcome } from '../tasks/task.js';
import type { TaskTransitions } from '../tasks/task-transitions.js';
import type { AnnouncedSlot } from './remote-slot.js';

export type NodeOutcome =
  | { kind: 'finish'; taskId: string; lease: string; outcome: TaskOutcome }
  | { kind: 'retry'; taskId: string; lease: string; error: TaskError; delayMs: number }
  /** The node's backend pushed back (busy, rate-limited, unreachable): queued again without spending an attempt. */
  | { kind: 'defer'; taskId: string; lease: string; error: TaskError; delayMs: number; backend: string };

export interface NodePort {
  /** `versions`: its Ollama backends' versions by backend name (null from a node that does not say). */
  join(nodeId: string, session: string, slots: AnnouncedSlot[], versions: Record<string, string | null> | null): void;
  /**
   * False: the coordinator does not know this session (the node must join again). `leases`: the runs the node has
   * in hand, so a run that never reached it is noticed (null from a node that does not say). `versions` as for join,
   * taken only from a node whose session is current.
   */
  beat(nodeId: string, session: string, leases: string[] | null, versions: Record<string, string | null> | null): Promise<boolean>;
  idle(nodeId: string, session: string, slot: number): void;
  /** The node is stopping on purpose: its slots leave the pool now. False when the session is not its current one. */
  leave(nodeId: string, session: string): Promise<boolean>;
  /**
   * True when recorded; false when the lease was no longer current (the task went elsewhere).
   * Throws NotThisNode when the session or the run belongs to another node.
   */
  outcome(nodeId: string, session: string, o: NodeOutcome): Promise<boolean>;
  /** Published for the task's watchers when the lease is this node's and still current; dropped otherwise. */
  /** delta: a chat task's piece for its waiting gateway client (see backends/chat/types.ts). */
  progress(nodeId: string, taskId: string, lease: string, chunk: string, delta?: ChatDelta): void;
  /**
   * The workspace roots of the agent CLIs nodes announced at their last join (a node that left keeps its roots: tasks
   * for them wait until it is back), for the last REMEMBERED_NODES nodes that joined.
   */
  workspaceRoots(): string[];
  /**
   * The Ollama versions nodes reported last, for the last REMEMBERED_NODES nodes that joined; whether a node (and
   * which of its backends) is still live is for the caller to check against the workers.
   */
  ollamaVersions(): NodeOllamaVersion[];
}

/** What the port asks of the supervision tree; the composition root binds it to the node registry and the scheduler. */
export interface NodeTreeLink {
  /** Node registry: a node joined with these slots. */
  join(nodeId: string, session: string, slots: AnnouncedSlot[]): void;
  /** Node registry: renews the node's lease; false when the session is not its current one. */
  beat(nodeId: string, session: string): Promise<boolean>;
  /** Node registry: a slot of the node can take the next task. */
  idle(nodeId: string, session: string, slot: number): void;
  /** Node registry: the node stops on purpose; false when the session is not its current one. */
  leave(nodeId: string, session: string): Promise<boolean>;
  /** Node registry: which node a session was issued to (null: none now). */
  sessionOwner(session: string): Promise<string | null>;
  /** Scheduler: the runs the node has in hand, so runs that never reached it are requeued. */
  runsInHand(nodeId: string, leases: string[]): void;
  /** Scheduler: what a node's call said about its backend (the backend's gate learns from it). */
  backendCall(report: CallReport): void;
  /** Scheduler: backendCall for a call its server pushed back on; resolves to how long (ms) the gate now takes no call. */
  backendPushback(report: CallReport): Promise<number>;
  /** Scheduler: queue the task again once its wait has passed. */
  retryLater(task: QueuedTask, delayMs: number, why: RetryWait): void;
}

export interface NodePortDeps {
  tree: NodeTreeLink;
  transitions: TaskTransitions;
  /** The worker holding a running task's lease, null when the lease is not current (TaskRepository.leaseHolder). */
  leaseHolder(taskId: string, lease: string): Promise<string | null>;
  log: Logger;
}

/** Nodes whose workspace roots are remembered (the ones that joined longest ago are forgotten first). */
const REMEMBERED_NODES = 4096;

/** Leases whose holder is remembered, so a stream of progress chunks costs one store read. */
const REMEMBERED_LEASES = 4096;

export function createNodePort(deps: NodePortDeps): NodePort {
  const { tree, transitions, log } = deps;
  const holders = new Map<string, Promise<string | null>>();
  /** Chunks of one lease wait on the same lookup, so they stay in order. */
  const holderOf = (taskId: string, lease: string): Promise<string | null> => {
    let holder = holders.get(lease);
    if (!holder) {
      holder = deps.leaseHolder(taskId, lease).catch(() => null);
      holders.set(lease, holder);
      if (holders.size > REMEMBERED_LEASES) holders.delete(holders.keys().next().value!);
    }
    return holder;
  };
  /**
   * A deferral, as a local worker's: it waits at least what the server asked (the node's delay) and, in all, until the
   * backend's gate takes work again (`closedForMs`), which is what its event and warn line say.
   */
  const defer = async (nodeId: string, worker: string, o: Extract<NodeOutcome, { kind: 'defer' }>, closedForMs: number): Promise<boolean> => {
    const waitMs = Math.max(o.delayMs, closedForMs);
    const queued = await transitions.defer(o.taskId, o.lease, o.error, waitMs, o.backend);
    if (!queued) return false;
    log.warn('backend pushed back; task deferred without spending an attempt', { task: o.taskId, backend: o.backend, node: nodeId, worker, code: o.error.code, wait_ms: waitMs, error: o.error.message });
    tree.retryLater(queued, o.delayMs, { kind: 'retry_after', backend: o.backend, error: o.error.code });
    return true;
  };
  const rootsByNode = new Map<string, readonly string[]>();
  const versionsByNode = new Map<string, Record<string, string | null>>();
  const rememberVersions = (nodeId: string, versions: Record<string, string | null> | null) => {
    if (!versions) return;
    versionsByNode.delete(nodeId);
    versionsByNode.set(nodeId, versions);
    if (versionsByNode.size > REMEMBERED_NODES) versionsByNode.delete(versionsByNode.keys().next().value!);
  };
  const refusedLeases = new Set<string>();
  const refuse = (what: string, nodeId: string, fields: Record<string, unknown>, lease: string) => {
    // One line per kind of message and lease: a node repeating itself does not flood the log.
    const key = `${what} ${lease}`;
    if (!refusedLeases.has(key)) {
      log.warn(`refused a node's ${what} for another node's run`, { node: nodeId, ...fields });
      refusedLeases.add(key);
      if (refusedLeases.size > REMEMBERED_LEASES) refusedLeases.delete(refusedLeases.values().next().value!);
    }
  };

  return {
    join(nodeId, session, slots, versions) {
      // A node that says nothing of its versions at this join has none to be believed from an earlier one.
      versionsByNode.delete(nodeId);
      rememberVersions(nodeId, versions);
      rootsByNode.delete(nodeId);
      rootsByNode.set(nodeId, [...new Set(slots.flatMap((s) => s.caps.workspaceRoots))]);
      if (rootsByNode.size > REMEMBERED_NODES) rootsByNode.delete(rootsByNode.keys().next().value!);
      tree.join(nodeId, session, slots);
    },
    workspaceRoots: () => [...new Set([...rootsByNode.values()].flat())],
    ollamaVersions: () => [...versionsByNode].flatMap(([nodeId, versions]) => Object.entries(versions).map(([backend, version]) => ({ nodeId, backend, version }))),
    async beat(nodeId, session, leases, versions) {
      const known = await tree.beat(nodeId, session);
      if (known && leases) tree.runsInHand(nodeId, leases);
      if (known) rememberVersions(nodeId, versions);
      return known;
    },
    idle: (nodeId, session, slot) => tree.idle(nodeId, session, slot),
    leave: (nodeId, session) => tree.leave(nodeId, session),
    async outcome(nodeId, session, o) {
      const owner = await tree.sessionOwner(session);
      if (owner !== null && owner !== nodeId) {
        log.warn("refused a node's outcome naming another node's session", { node: nodeId, session_of: owner, task: o.taskId });
        throw new NotThisNode(`this session was issued to another node, not to ${nodeId}`);
      }
      const holder = await holderOf(o.taskId, o.lease);
      // Not current: the task went elsewhere or ended; recording it would fail under the lease anyway.
      if (holder === null) return false;
      if (!isSlotOf(holder, nodeId)) {
        refuse('outcome', nodeId, { task: o.taskId, held_by: holder }, o.lease);
        throw new NotThisNode(`task ${o.taskId} runs on another node under this lease, not on ${nodeId}`);
      }
      // The node's backend call feeds that backend's gate as a local call does, before the task can be queued again:
      // a node whose server refuses connections gets an open circuit, not the same task back at once, forever.
      const report = { workerId: holder, incarnation: null, verdict: verdictOf(o), taskId: o.taskId, attempt: 0, code: codeOf(o) };
      if (o.kind === 'defer') return defer(nodeId, holder, o, await tree.backendPushback(report).catch(() => 0));
      tree.backendCall(report);
      // Said here as a local worker says it (actors/worker.ts), so the coordinator's log tells every attempt's fate.
      const about = { task: o.taskId, node: nodeId, worker: holder };
      if (o.kind === 'finish') {
        const recorded = await transitions.finish(o.taskId, o.lease, o.outcome);
        if (recorded && o.outcome.status === 'failed') log.warn('task failed', { ...about, code: o.outcome.error.code, error: o.outcome.error.message });
        return recorded;
      }
      const queued = await transitions.retry(o.taskId, o.lease, o.error, o.delayMs);
      if (queued) {
        log.warn('task attempt failed; retrying', { ...about, code: o.error.code, retry_in_ms: o.delayMs, error: o.error.message });
        tree.retryLater(queued, o.delayMs, { kind: 'retry_backoff', backend: null, error: o.error.code });
      }
      return queued !== null;
    },
    progress(nodeId, taskId, lease, chunk, delta) {
      void holderOf(taskId, lease).then((holder) => {
        if (holder === null) return;
        if (!isSlotOf(holder, nodeId)) return refuse('progress', nodeId, { task: taskId, held_by: holder }, lease);
        transitions.progress(taskId, holder, lease, chunk, delta);
      });
    },
  };
}

/** What a node's outcome says about its backend (see CallVerdict); a deferral names why in its error code. */
function verdictOf(o: NodeOutcome): CallVerdict {
  if (o.kind === 'finish') return o.outcome.status === 'completed' ? { kind: 'ok' } : { kind: 'answered' };
  if (o.kind === 'retry') return { kind: 'answered' };
  if (o.error.code === 'backend_unavailable') return { kind: 'unreachable' };
  return { kind: 'busy', retryAfterMs: o.delayMs > 0 ? o.delayMs : null };
}

function codeOf(o: NodeOutcome): string | null {
  if (o.kind === 'finish') return o.outcome.status === 'failed' ? o.outcome.error.code : null;
  return o.error.code;
}
