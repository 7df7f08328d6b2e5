/**
 * The scheduler: the only one that assigns. It keeps pending tasks ordered (priority desc, oldest first) and the
 * idle workers the pool manager registered, and the moment both exist it hands a task to a worker. No polling.
 */
import { dispatch, spawn, type Ref } from 'nact';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { PendingQueue } from '../src/supervision/priority-queue.js';
import type { QueuedTask } from '../src/tasks/task.js';
import type { TaskTransitions } from '../src/tasks/transitions.js';
import type { WorkerHandle } from './worker.js';

export type SchedulerMsg =
  | { type: 'tasksQueued'; tasks: QueuedTask[] }
  /** A new worker incarnation joined the pool (from the pool manager). */
  | { type: 'workerReady'; worker: WorkerHandle }
  /** Workers that finished their run, or whose assignment fell through, and can take the next task. */
  | { type: 'workersIdle'; workers: IdleWorker[] }
  /** A worker died or was stopped: its task, if any, goes back to the queue. */
  | { type: 'workerRemoved'; workerId: string; incarnation: number; reason: string }
  /** A task failed retryably; queue it again once its backoff has passed. */
  | { type: 'retryLater'; task: QueuedTask; delayMs: number }
  /** From the pool manager: may this idle worker go? Answered with `retired`. */
  | { type: 'retire'; workerId: string; incarnation: number; replyTo: Ref<RetiredReply> }
  /** A pending task's priority changed (in the store already): re-sort it, keeping its age. */
  | { type: 'reprioritized'; task: QueuedTask }
  /** The store has cancelled this task: drop it from the queue, or stop the worker running it under `lease`. */
  | { type: 'taskCancelled'; taskId: string; lease: string | null }
  /** Stop assigning (shutdown). Running tasks go on. */
  | { type: 'drain' }
  | { type: 'getLoad'; replyTo: Ref<SchedulerLoad> }
  /** Where a pending task stands in the queue, and when it may finish; null when it is not queued here. */
  | { type: 'estimate'; taskId: string; replyTo: Ref<QueueEstimate | null> };

export interface QueueEstimate {
  /** 1 = next to run. */
  position: number;
  /** Estimated milliseconds until it finishes, from the workers' measured run times; null before any run. */
  etaMs: number | null;
}

export interface IdleWorker {
  workerId: string;
  incarnation: number;
}

export interface SchedulerLoad {
  pending: number;
  running: number;
  idleWorkers: number;
  workers: number;
  draining: boolean;
}

export interface RetiredReply {
  type: 'retired';
  workerId: string;
  incarnation: number;
  ok: boolean;
}

export interface SchedulerDeps {
  transitions: TaskTransitions;
  clock: Clock;
  newLease: () => string;
  log: Logger;
  /** Tasks wait and no worker is idle: ask the pool manager for more (it knows the limits). */
  requestWorkers(pending: number, workers: number): void;
}

interface Assignment {
  taskId: string;
  lease: string;
  startedAt: number;
}

/** Weight of the newest run in a worker's running average of run time. */
const SPEED_WEIGHT = 0.3;

interface SchedulerState {
  queue: PendingQueue;
  workers: Map<string, WorkerHandle>;
  /** Insertion-ordered, so the longest-idle worker is offered work first. */
  idle: Set<string>;
  running: Map<string, Assignment>;
  /** Per worker: running average of milliseconds per task (an EWMA), for ETAs and later for routing. */
  runMs: Map<string, number>;
  draining: boolean;
  /** The backlog last reported to the pool manager, so a steady backlog is not reported on every message. */
  lastDemand: { pending: number; workers: number };
}

/** Spawns the scheduler under parent; crashes are reported to the parent, which rebuilds the tree. */
export function spawnScheduler(parent: Ref<any>, deps: SchedulerDeps, onCrash: (err: Error) => void): Ref<SchedulerMsg> {
  return spawn(parent, (state: SchedulerState, msg: SchedulerMsg, ctx) => handle(state, msg, ctx.self, deps), 'scheduler', {
    initialStateFunc: (): SchedulerState => ({ queue: new PendingQueue(), workers: new Map(), idle: new Set(), running: new Map(), runMs: new Map(), draining: false, lastDemand: { pending: 0, workers: -1 } }),
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
      state.workers.set(msg.worker.id, msg.worker);
      state.idle.add(msg.worker.id);
      break;
    case 'workersIdle':
      for (const w of msg.workers) {
        if (isCurrent(state, w.workerId, w.incarnation)) {
          recordRunTime(state, w.workerId, deps.clock.now());
          state.running.delete(w.workerId);
          state.idle.add(w.workerId);
        }
      }
      break;
    case 'workerRemoved':
      if (isCurrent(state, msg.workerId, msg.incarnation)) removeWorker(state, msg.workerId, msg.reason, self, deps);
      break;
    case 'retryLater': {
      // Kept out of the queue until then; if the process stops meanwhile the task is pending on disk and runs at start.
      const { task, delayMs } = msg;
      deps.clock.setTimeout(() => dispatch(self, { type: 'tasksQueued', tasks: [task] }), delayMs);
      return state;
    }
    case 'retire': {
      const ok = isCurrent(state, msg.workerId, msg.incarnation) && state.idle.has(msg.workerId);
      if (ok) {
        state.idle.delete(msg.workerId);
        state.workers.delete(msg.workerId);
      }
      dispatch(msg.replyTo, { type: 'retired', workerId: msg.workerId, incarnation: msg.incarnation, ok });
      return state;
    }
    case 'reprioritized':
      // Only if still queued here: a task in retry backoff is re-read from the store when it comes back.
      if (state.queue.remove(msg.task.id)) state.queue.push(msg.task);
      break;
    case 'taskCancelled':
      state.queue.remove(msg.taskId);
      for (const [workerId, running] of state.running) {
        if (running.taskId === msg.taskId && running.lease === msg.lease) {
          dispatch(state.workers.get(workerId)!.ref, { type: 'cancel', lease: running.lease });
        }
      }
      return state;
    case 'drain':
      state.draining = true;
      break;
    case 'estimate':
      dispatch(msg.replyTo, estimate(state, msg.taskId));
      return state;
    case 'getLoad':
      dispatch(msg.replyTo, {
        pending: state.queue.size,
        running: state.running.size,
        idleWorkers: state.idle.size,
        workers: state.workers.size,
        draining: state.draining,
      });
      return state;
  }
  assignWhilePossible(state, self, deps);
  reportDemand(state, deps);
  return state;
}

/** Asks for more workers when tasks wait with no idle worker, unless nothing changed since the last ask. */
function reportDemand(state: SchedulerState, deps: SchedulerDeps): void {
  if (state.draining || state.queue.size === 0 || state.idle.size > 0) {
    state.lastDemand = { pending: 0, workers: -1 };
    return;
  }
  const { pending, workers } = state.lastDemand;
  if (state.queue.size <= pending && state.workers.size === workers) return;
  state.lastDemand = { pending: state.queue.size, workers: state.workers.size };
  deps.requestWorkers(state.queue.size, state.workers.size);
}

function isCurrent(state: SchedulerState, workerId: string, incarnation: number): boolean {
  return state.workers.get(workerId)?.incarnation === incarnation;
}

function removeWorker(state: SchedulerState, workerId: string, reason: string, self: Ref<SchedulerMsg>, deps: SchedulerDeps): void {
  state.workers.delete(workerId);
  state.idle.delete(workerId);
  const assignment = state.running.get(workerId);
  if (!assignment) return;
  state.running.delete(workerId);
  // The requeue is conditional on the lease, so a result that raced in first wins and nothing runs twice.
  deps.transitions.requeue(assignment.taskId, assignment.lease, reason).then(
    (queued) => queued && dispatch(self, { type: 'tasksQueued', tasks: [queued] }),
    (err: Error) => deps.log.error('requeue failed; the task is requeued at next start', { task: assignment.taskId, error: err.message }),
  );
}

function assignWhilePossible(state: SchedulerState, self: Ref<SchedulerMsg>, deps: SchedulerDeps): void {
  const commits: (() => void)[] = [];
  while (!state.draining && state.queue.size > 0 && state.idle.size > 0) {
    const task = state.queue.pop()!;
    const worker = pickWorker(state, task);
    state.idle.delete(worker.id);
    const lease = deps.newLease();
    state.running.set(worker.id, { taskId: task.id, lease, startedAt: deps.clock.now() });
    const claim = deps.transitions.assign(task.id, worker.id, lease);
    if (!claim) {
      // Not pending any more (cancelled while queued): the worker stays free for the next task.
      state.running.delete(worker.id);
      state.idle.add(worker.id);
      continue;
    }
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
  }
  // After the dispatches: the workers' turns then come before the commit, so backend calls start sooner.
  for (const commit of commits) commit();
}

/** Prefers an idle worker whose backend serves the requested model; otherwise the longest idle one. */
function pickWorker(state: SchedulerState, task: QueuedTask): WorkerHandle {
  if (task.model) {
    for (const id of state.idle) {
      const w = state.workers.get(id)!;
      if (w.model === task.model) return w;
    }
  }
  const first = state.idle.values().next().value as string;
  return state.workers.get(first)!;
}

function recordRunTime(state: SchedulerState, workerId: string, now: number): void {
  const run = state.running.get(workerId);
  if (!run) return;
  const ms = now - run.startedAt;
  const previous = state.runMs.get(workerId);
  state.runMs.set(workerId, previous === undefined ? ms : previous + SPEED_WEIGHT * (ms - previous));
}

/** Position by counting the queued tasks that go first (O(n), no sort); ETA from the pool's measured throughput. */
function estimate(state: SchedulerState, taskId: string): QueueEstimate | null {
  const target = state.queue.find(taskId);
  if (!target) return null;
  const ahead = state.queue.countBefore(target);
  const measured = [...state.workers.keys()].map((id) => state.runMs.get(id)).filter((ms): ms is number => ms !== undefined);
  if (measured.length === 0 || state.workers.size === 0) return { position: ahead + 1, etaMs: null };
  const meanMs = measured.reduce((a, b) => a + b, 0) / measured.length;
  // Tasks per millisecond the whole pool finishes; workers not measured yet count as average ones.
  const throughput = [...state.workers.keys()].reduce((sum, id) => sum + 1 / Math.max(1, state.runMs.get(id) ?? meanMs), 0);
  return { position: ahead + 1, etaMs: Math.round(ahead / throughput + meanMs) };
}
