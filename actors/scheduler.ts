/**
 * The scheduler: the only one that assigns. It keeps pending tasks ordered (priority desc, oldest first) and the
 * idle workers the pool manager registered, and the moment both exist it hands a task to a worker. No polling.
 *
 * It is also the one owner of whether a worker is busy or idle, and of what it runs. A worker is busy from the moment
 * it is given a task until it says it is idle again, and only the scheduler sees both ends for every kind of worker:
 * local ones and proxies of slots on koubou-nodes alike (a node's beats say it is alive, not what each slot does).
 * /workers, the dashboard, `koubou workers`, /health and /metrics all read it here (`activity`, `getLoad`). Since it
 * alone knows how long each worker has been idle, it also decides which local ones to retire (keeping each backend's
 * min) and tells the pool manager, which only knows whether a slot has a live worker, to stop them.
 */
import { dispatch, spawn, type Ref } from 'nact';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { remoteGroup } from '../src/nodes/remote-slot.js';
import { estimate, waitingContext } from '../src/routing/estimate.js';
import { recordCall, recordUnreachable } from '../src/routing/gate-feed.js';
import { LaneQueue } from '../src/routing/lanes.js';
import { plan } from '../src/routing/planner.js';
import type { RoutingConfig } from '../src/routing/policy.js';
import { PoolView, type Assignment } from '../src/routing/pool-view.js';
import type { Demand, QueueEstimate, SchedulerLoad } from '../src/routing/scheduler-views.js';
import type { HeldTask, RetryWait } from '../src/routing/waiting.js';
import type { CallReport, IdleWorker, WorkerActivity, WorkerHandle } from '../src/routing/worker-protocol.js';
import type { BackendGates } from '../src/supervision/backend-gate.js';
import { logGateChange } from '../src/supervision/gate-log.js';
import type { QueuedTask } from '../src/tasks/task.js';
import type { TaskTransitions } from '../src/tasks/task-transitions.js';

export type SchedulerMsg =
  | { type: 'tasksQueued'; tasks: QueuedTask[] }
  /** A new worker incarnation joined the pool (from the pool manager). */
  | { type: 'workerReady'; worker: WorkerHandle }
  /** Workers that finished their run, or whose assignment fell through, and can take the next task. */
  | { type: 'workersIdle'; workers: IdleWorker[] }
  /** A worker died or was stopped: its task, if any, goes back to the queue. */
  | { type: 'workerRemoved'; workerId: string; incarnation: number; reason: string }
  /**
   * What a backend call told about its server: the backend's gate (circuit, pause, in-flight limit) learns from it.
   * `replyTo`, when given, is told how long (ms) that gate now takes no call: what a task the call deferred waits.
   */
  | { type: 'backendCall'; report: CallReport; replyTo?: Ref<number> }
  /** The start-up check found no server behind this local backend: its circuit opens before any task is sent there. */
  | { type: 'backendUnreachable'; backend: string }
  /** Timer: a backend's gate may have opened (a probe is due, a pause ended). */
  | { type: 'gatesDue' }
  /** A task failed retryably (or was deferred); queue it again once its wait has passed. */
  | { type: 'retryLater'; task: QueuedTask; delayMs: number; why: RetryWait }
  /** Timer: retire local workers idle past `idleMs` (see SchedulerDeps.scaling). */
  | { type: 'idleCheck' }
  /** What every worker does now: the one source of busy/idle for every view. */
  | { type: 'activity'; replyTo: Ref<WorkerActivity[]> }
  /** A pending task's priority changed (in the store already): re-sort it, keeping its age. */
  | { type: 'reprioritized'; task: QueuedTask }
  /** The store has cancelled this task: drop it from the queue, or stop the worker running it under `lease`. */
  | { type: 'taskCancelled'; taskId: string; lease: string | null }
  /** A node's heartbeat listed the runs it has in hand; assignments it keeps not listing never reached it. */
  | { type: 'nodeRuns'; nodeId: string; leases: string[] }
  /** Stop assigning (shutdown). Running tasks go on. */
  | { type: 'drain' }
  | { type: 'getLoad'; replyTo: Ref<SchedulerLoad> }
  /** Where a pending task stands in the queue, and when it may finish; null when it is not queued here. */
  | { type: 'estimate'; taskId: string; replyTo: Ref<QueueEstimate | null> }
  /** Timer: a held task's wait has passed. */
  | { type: 'heldTaskDue'; taskId: string };

export interface SchedulerDeps {
  transitions: TaskTransitions;
  clock: Clock;
  newLease: () => string;
  log: Logger;
  routing: RoutingConfig;
  /** Tasks wait that no idle worker can take: ask the pool manager for more (it knows the backends and limits). */
  askForWorkers(demand: Demand): void;
  /** Local idle workers taken out of the pool here, for the pool manager to stop. */
  retire(workers: IdleWorker[]): void;
  /** When local workers idle too long go: past `idleMs`, keeping `min` per backend name; checked every `checkEveryMs`. */
  scaling: { min: ReadonlyMap<string, number>; idleMs: number; checkEveryMs: number };
  /** Per worker group (a backend on one machine): may it take more work now? Only the scheduler writes them. */
  gates: BackendGates;
  /** The capabilities of the local backends, whose workers start on demand (a task waits for one serving its model). */
  localBackends: PoolView['startable'];
  /** Nodes heard from lately (waited for from the start, as if they had just left) and how long a node that left is. */
  awaitedNodes: { heardFrom: () => { key: string; caps: PoolView['startable'][number] }[]; returnMs: number };
}

interface SchedulerState {
  queue: LaneQueue;
  pool: PoolView;
  draining: boolean;
  /** The backlog last reported to the pool manager, so a steady backlog is not reported on every message. */
  lastDemand: string;
  idleTimer: TimerHandle;
  /** The timer that wakes the scheduler when a backend's gate opens by itself. */
  wake: { at: number; timer: TimerHandle } | null;
  /** Pending tasks kept out of the queue until their wait passes (retry backoff, Retry-After), by id. */
  held: Map<string, HeldTask>;
}

/** Spawns the scheduler under parent; crashes are reported to the parent, which rebuilds the tree. */
export function spawnScheduler(parent: Ref<any>, deps: SchedulerDeps, onCrash: (err: Error) => void): Ref<SchedulerMsg> {
  return spawn(parent, (state: SchedulerState, msg: SchedulerMsg, ctx) => handle(state, msg, ctx.self, deps), 'scheduler', {
    initialStateFunc: (ctx): SchedulerState => ({
      queue: new LaneQueue(deps.routing.rules),
      pool: new PoolView(deps.localBackends, deps.awaitedNodes.heardFrom(), deps.clock.now(), deps.awaitedNodes.returnMs),
      draining: false,
      lastDemand: '',
      idleTimer: deps.clock.setInterval(() => dispatch(ctx.self, { type: 'idleCheck' }), deps.scaling.checkEveryMs),
      wake: null,
      held: new Map(),
    }),
    afterStop: (state) => {
      deps.clock.clearInterval(state.idleTimer);
      if (state.wake) deps.clock.clearTimeout(state.wake.timer);
    },
    onCrash: (_msg, err, ctx) => {
      onCrash(err ?? new Error('scheduler crashed'));
      return ctx.stop;
    },
  });
}

function handle(state: SchedulerState, msg: SchedulerMsg, self: Ref<SchedulerMsg>, deps: SchedulerDeps): SchedulerState {
  switch (msg.type) {
    case 'tasksQueued':
      for (const t of msg.tasks) state.queue.push(t);
      break;
    case 'workerReady':
      state.pool.add(msg.worker, deps.clock.now());
      break;
    case 'workersIdle': {
      const now = deps.clock.now();
      for (const w of msg.workers) {
        if (state.pool.isCurrent(w.workerId, w.incarnation)) state.pool.release(w.workerId, now, true);
      }
      break;
    }
    case 'workerRemoved':
      if (state.pool.isCurrent(msg.workerId, msg.incarnation)) removeWorker(state, msg.workerId, msg.reason, self, deps);
      break;
    case 'backendCall': {
      const closedForMs = recordCall(state.pool, deps.gates, msg.report, deps.log, deps.clock.now());
      if (msg.replyTo) dispatch(msg.replyTo, closedForMs);
      break;
    }
    case 'backendUnreachable':
      recordUnreachable(deps.gates, msg.backend, deps.log);
      break;
    case 'gatesDue':
      state.wake = null;
      break;
    case 'retryLater': {
      // Kept out of the queue until then; if the process stops meanwhile the task is pending on disk and runs at start.
      const { task, delayMs, why } = msg;
      state.held.set(task.id, { task, until: deps.clock.now() + delayMs, why });
      deps.clock.setTimeout(() => dispatch(self, { type: 'heldTaskDue', taskId: task.id }), delayMs);
      return state;
    }
    case 'heldTaskDue': {
      const held = state.held.get(msg.taskId);
      if (!held) return state; // cancelled meanwhile
      state.held.delete(msg.taskId);
      state.queue.push(held.task);
      break;
    }
    case 'idleCheck': {
      const retired = state.draining ? [] : state.pool.retireIdleLocal(deps.scaling.min, deps.scaling.idleMs, deps.clock.now());
      if (retired.length > 0) deps.retire(retired);
      // Tasks that waited for a node's models may now go elsewhere: assigned below.
      const expired = state.pool.expireAway(deps.clock.now());
      if (expired.length === 0) return state;
      deps.log.warn('stopped waiting for a node that left; tasks naming its models may go to other backends', { groups: expired, waited_ms: deps.awaitedNodes.returnMs });
      break;
    }
    case 'activity':
      dispatch(msg.replyTo, state.pool.workerActivity());
      return state;
    case 'reprioritized': {
      const held = state.held.get(msg.task.id);
      if (held) held.task = msg.task;
      else if (state.queue.remove(msg.task.id)) state.queue.push(msg.task);
      break;
    }
    case 'taskCancelled':
      state.queue.remove(msg.taskId);
      state.held.delete(msg.taskId);
      for (const [workerId, running] of state.pool.assignments()) {
        if (running.taskId === msg.taskId && running.lease === msg.lease) {
          dispatch(state.pool.handle(workerId)!.ref, { type: 'cancel', lease: running.lease });
        }
      }
      return state;
    case 'nodeRuns':
      // A run is published once; if it is lost on the way the node's beats keep the slot's lease alive while nothing runs.
      for (const [workerId, run] of state.pool.unconfirmedRuns(remoteGroup(msg.nodeId, ''), new Set(msg.leases))) {
        state.pool.release(workerId, deps.clock.now(), false);
        requeue(run, 'its node never received the run', self, deps, { worker: workerId, backend: state.pool.handle(workerId)?.backend });
      }
      break;
    case 'drain':
      state.draining = true;
      break;
    case 'estimate':
      dispatch(msg.replyTo, estimate(msg.taskId, state.held, waitingContext(state.queue, state.pool, deps.routing, deps.gates, state.draining, deps.clock.now())));
      return state;
    case 'getLoad':
      dispatch(msg.replyTo, { pending: state.queue.size, running: state.pool.runningCount, idleWorkers: state.pool.idleCount, workers: state.pool.size, draining: state.draining });
      return state;
  }
  assignWhilePossible(state, self, deps);
  reportDemand(state, deps);
  wakeForGates(state, self, deps);
  return state;
}

/** Keeps one timer for the earliest moment a gate opens by itself (the only wake-up that no message brings). */
function wakeForGates(state: SchedulerState, self: Ref<SchedulerMsg>, deps: SchedulerDeps): void {
  const at = deps.gates.wakeAt();
  if (state.wake && (at === null || state.wake.at !== at)) {
    deps.clock.clearTimeout(state.wake.timer);
    state.wake = null;
  }
  if (at === null || state.wake) return;
  const timer = deps.clock.setTimeout(() => dispatch(self, { type: 'gatesDue' }), Math.max(0, at - deps.clock.now()));
  state.wake = { at, timer };
}

/** Asks the pool manager to grow for the lanes no idle worker can take (unless it asked that last); it sizes each backend. */
function reportDemand(state: SchedulerState, deps: SchedulerDeps): void {
  const waiting = state.draining ? [] : state.queue.active(state.pool).filter((lane) => !lane.eligible.some((g) => g.idle.size > 0));
  if (waiting.length === 0) {
    state.lastDemand = '';
    return;
  }
  const demand: Demand = { busy: state.pool.busyLocal(), waiting: waiting.map((lane) => ({ req: lane.req, count: lane.queue.size })) };
  const key = JSON.stringify([[...demand.busy], demand.waiting.map((w) => [w.count, w.req])]);
  if (key === state.lastDemand) return;
  state.lastDemand = key;
  deps.askForWorkers(demand);
}

function removeWorker(state: SchedulerState, workerId: string, reason: string, self: Ref<SchedulerMsg>, deps: SchedulerDeps): void {
  const backend = state.pool.handle(workerId)?.backend;
  const assignment = state.pool.remove(workerId, deps.clock.now());
  if (assignment) requeue(assignment, reason, self, deps, { worker: workerId, backend });
}

function requeue(assignment: Assignment, reason: string, self: Ref<SchedulerMsg>, deps: SchedulerDeps, about: Record<string, unknown>): void {
  // The requeue is conditional on the lease, so a result that raced in first wins and nothing runs twice.
  deps.transitions.requeue(assignment.taskId, assignment.lease, reason).then(
    (queued) => {
      const fields = { task: assignment.taskId, ...about, attempt: assignment.attempt ?? null, code: 'worker_lost', reason };
      if (queued) deps.log.warn('task requeued: its worker is gone', fields);
      else deps.log.warn('task not requeued: it finished meanwhile or used up its attempts', fields);
      if (queued) dispatch(self, { type: 'tasksQueued', tasks: [queued] });
    },
    (err: Error) => deps.log.error('requeue failed; the task is requeued at next start', { task: assignment.taskId, error: err.message }),
  );
}

function assignWhilePossible(state: SchedulerState, self: Ref<SchedulerMsg>, deps: SchedulerDeps): void {
  if (state.draining) return;
  for (const [group, change] of deps.gates.advance()) logGateChange(deps.log, deps.gates, state.pool.backendOf(group), group, change);
  const commits: (() => void)[] = [];
  const now = deps.clock.now();
  plan(state.queue, state.pool, {
    speedAware: deps.routing.speed_aware,
    now,
    admits: (group) => deps.gates.get(group.key).admits(group.running.size),
    blocked: (group) => deps.gates.get(group.key).blocked,
    assign(workerId, task) {
      const worker = state.pool.handle(workerId)!;
      const lease = deps.newLease();
      const assignment: Assignment = { taskId: task.id, lease, startedAt: now };
      state.pool.assign(workerId, assignment);
      const claim = deps.transitions.assign(task.id, worker.id, lease);
      if (!claim) {
        // Not pending any more (cancelled while queued): the worker stays free for the next task.
        state.pool.release(workerId, now, false);
        return;
      }
      assignment.attempt = claim.task.attempts;
      dispatch(worker.ref, { type: 'run', task: claim.task, lease });
      commits.push(() =>
        claim.commit().then(
          // The claim lost a race: the run must stop; the worker reports idle once it has.
          (held) => held || dispatch(worker.ref, { type: 'cancel', lease }),
          (err: Error) => {
            deps.log.error('recording an assignment failed; the task goes back to the queue', { task: task.id, error: err.message });
            dispatch(worker.ref, { type: 'cancel', lease });
            dispatch(self, { type: 'tasksQueued', tasks: [task] });
          },
        ),
      );
    },
  });
  // A turn after the dispatches: the workers run first, and undici, which writes a request in a turn of its own,
  // sends the backend calls before the store commits the assignments, so a call does not wait for the disk.
  if (commits.length > 0) setImmediate(() => commits.forEach((commit) => commit()));
}
