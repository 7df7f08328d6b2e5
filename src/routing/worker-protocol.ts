/**
 * How the scheduler, the pool manager, the node registry and workers speak of a worker. These are the shapes that
 * cross between actors/ and the rest of src/, so they live here and the actors import them (never the reverse).
 */
import type { Ref } from 'nact';
import type { Backend } from '../backends/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { CallVerdict } from '../supervision/backend-gate.js';
import type { QueuedTask, Task } from '../tasks/task.js';
import type { TaskTransitions } from '../tasks/task-transitions.js';
import type { FlowValve } from '../tasks/flow.js';
import type { Capabilities } from './capabilities.js';
import type { Location } from './policy.js';
import type { RetryWait } from './waiting.js';

/** How the scheduler knows a worker: its id, which incarnation of the slot, where to send work. */
export interface WorkerHandle {
  id: string;
  incarnation: number;
  ref: Ref<WorkerMsg>;
  backend: string;
  model: string;
  location: Location;
  /** Workers sharing a backend on one machine: they share a speed and capabilities. */
  group: string;
  caps: Capabilities;
}

export type WorkerMsg =
  | { type: 'run'; task: Task; lease: string }
  /** The detached run settled (result written or abandoned). */
  | { type: 'runEnded'; lease: string }
  /** The task under this lease was cancelled: abort the backend call. The canceller has recorded the state. */
  | { type: 'cancel'; lease: string }
  /** Timer tick: report liveness to the pool manager. */
  | { type: 'beat' };

/** What a local worker tells the pool manager on every beat (`at`: epoch ms). */
export interface Heartbeat {
  type: 'heartbeat';
  workerId: string;
  incarnation: number;
  at: number;
}

/** A worker (one incarnation of a slot) that can take the next task. */
export interface IdleWorker {
  workerId: string;
  incarnation: number;
}

/** One worker as the scheduler sees it: idle, or busy with a task (since when, epoch ms). */
export interface WorkerActivity {
  workerId: string;
  incarnation: number;
  taskId: string | null;
  /** Busy: when the run started; idle: since when it has been idle. */
  since: number | null;
  /** The models it serves to gateway requests (its backend's `model` first, then its `models`; none for an agent CLI). */
  models: readonly string[];
}

/** What a call told about its backend, with the task and attempt it was for (for the log). */
export interface CallReport {
  workerId: string;
  /** The worker's incarnation; null for a remote slot's call, matched by its lease instead (src/nodes/node-port.ts). */
  incarnation: number | null;
  verdict: CallVerdict;
  taskId: string;
  attempt: number;
  /** The error code when the call failed. */
  code: string | null;
}

/** What a local worker actor is given (actors/worker.ts); the pool manager and a koubou-node build it. */
export interface WorkerDeps {
  id: string;
  incarnation: number;
  backend: Backend;
  location: Location;
  group: string;
  caps: Capabilities;
  transitions: TaskTransitions;
  /** Tells the scheduler this worker can take the next task (coalesced with other workers' notices). */
  notifyIdle(worker: IdleWorker): void;
  /** Hands a task that failed retryably (or was deferred) back to the scheduler, to queue after delayMs. */
  retryLater(task: QueuedTask, delayMs: number, why: RetryWait): void;
  /** Attempts a task may have; a retryable failure on the last one fails the task. */
  maxAttempts: number;
  /** Backoff before the next attempt, given the attempt that just failed (1 for the first). */
  retryDelayMs(attempt: number): number;
  clock: Clock;
  log: Logger;
  heartbeatMs: number;
  /** Seconds a task may run when it names no timeout. */
  defaultTimeoutS: number;
  /** Bytes of answer a backend call may stream before it is aborted (tasks.max_output_bytes). */
  maxOutputBytes: number;
  /** The valve of a task whose reader holds one (a gateway client): its call reads the server only while it is open. */
  flowOf?(taskId: string): FlowValve | undefined;
  /** Told about every backend call that ran to an answer or an error (not those aborted on purpose). */
  recordBackendCall(backend: string, seconds: number, errorCode: string | null): void;
  /**
   * Told what each call said about the server (answered, busy, unreachable…) before its outcome is written, so the
   * backend's gate has changed by the time the task is back in the queue.
   */
  reportCall(report: CallReport): void;
  /**
   * reportCall for a call the server pushed back on (busy, rate-limited, not there): resolves to how long (ms) the
   * backend's gate now takes no call (0: it takes one now), so the deferral can say what the task really waits.
   * Rejects when the scheduler does not answer in time (it is being rebuilt).
   */
  reportPushback(report: CallReport): Promise<number>;
}

/**
 * Starts one worker actor under `parent` and returns its handle (actors/worker.ts's spawnWorker; fault-injecting
 * tests wrap it). `beatTo` receives its heartbeats; `onCrash` is told when it crashed (it has stopped by then).
 */
export type SpawnWorker = (parent: Ref<any>, actorName: string, deps: WorkerDeps, beatTo: (beat: Heartbeat) => void, onCrash: (err: Error) => void) => WorkerHandle;
