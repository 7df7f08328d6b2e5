/**
 * A worker: one concurrency slot on one backend. It runs one task at a time, streaming the answer out as progress,
 * beats to the pool manager the whole time (busy or idle), writes the result under its lease, then asks for more.
 * The backend call runs beside the mailbox, so heartbeats and stop requests are handled while it streams.
 */
import { dispatch, spawn, type Ref } from 'nact';
import type { TimerHandle } from '../src/clock.js';
import { AnswerError } from '../src/backends/answer-errors.js';
import { Aborted, BackendBusy, BackendUnavailable, KoubouError, TaskTimeout, describeError, type DescribedError } from '../src/errors.js';
import type { Heartbeat, SpawnWorker, WorkerDeps, WorkerMsg } from '../src/routing/worker-protocol.js';
import type { CallVerdict } from '../src/supervision/backend-gate.js';
import { buildPrompt } from '../src/tasks/prompt.js';
import type { Task, TaskOutcome } from '../src/tasks/task.js';
import type { FlowValve } from '../src/tasks/flow.js';
import { runChat } from '../src/backends/chat/run.js';
import { servedName } from '../src/routing/capabilities.js';
import { callModel, withModel } from '../src/tasks/chat.js';

interface Running {
  taskId: string;
  lease: string;
  abort: AbortController;
  timer: { clear(): void };
}

interface WorkerState {
  running: Running | null;
  beatTimer: TimerHandle;
}

/**
 * Spawns a worker under the pool manager. `onCrash` tells the owner; the actor itself stops, and whatever it was
 * running is aborted so the backend stops working on a task that is about to be requeued.
 */
export const spawnWorker: SpawnWorker = (pool, actorName, deps, beatTo, onCrash) => {
  // Cleared when the actor stops, so a run that settles afterwards does not offer a dead worker to the scheduler.
  let alive = true;
  const ref = spawn(
    pool,
    (state: WorkerState, msg: WorkerMsg, ctx) => handle(state, msg, ctx.self, deps, beatTo, () => alive),
    actorName,
    {
      initialStateFunc: (ctx) => ({
        running: null,
        beatTimer: deps.clock.setInterval(() => dispatch(ctx.self, { type: 'beat' }), deps.heartbeatMs),
      }),
      afterStop: (state) => {
        alive = false;
        deps.clock.clearInterval(state.beatTimer);
        if (state.running) {
          state.running.timer.clear();
          state.running.abort.abort(new Aborted('worker stopped'));
        }
      },
      onCrash: (_msg, err, ctx) => {
        onCrash(err ?? new Error('worker crashed'));
        return ctx.stop;
      },
    },
  );
  return { id: deps.id, incarnation: deps.incarnation, ref, backend: deps.backend.name, model: deps.backend.model, location: deps.location, group: deps.group, caps: deps.caps };
};

function handle(
  state: WorkerState,
  msg: WorkerMsg,
  self: Ref<WorkerMsg>,
  deps: WorkerDeps,
  beatTo: (b: Heartbeat) => void,
  alive: () => boolean,
): WorkerState {
  switch (msg.type) {
    case 'beat':
      beatTo({ type: 'heartbeat', workerId: deps.id, incarnation: deps.incarnation, at: deps.clock.now() });
      return state;
    case 'run': {
      if (state.running) {
        // Never happens while the scheduler is the only assigner; refuse loudly rather than run two at once.
        throw new Error(`worker ${deps.id} was given ${msg.task.id} while running ${state.running.taskId}`);
      }
      const abort = new AbortController();
      const timeoutS = msg.task.options.timeout ?? deps.defaultTimeoutS;
      const timer = attemptTimer(deps, timeoutS * 1000, deps.flowOf?.(msg.task.id), () =>
        abort.abort(new TaskTimeout(`task ran past its ${timeoutS} s timeout`)),
      );
      const lease = msg.lease;
      runTask(msg.task, lease, abort.signal, deps).finally(() => {
        // runEnded reaches this mailbox before any new run can, so the slot is clear when the next task arrives;
        // telling the scheduler here rather than from runEnded saves an actor hop per task.
        dispatch(self, { type: 'runEnded', lease });
        if (alive()) deps.notifyIdle({ workerId: deps.id, incarnation: deps.incarnation });
      });
      return { ...state, running: { taskId: msg.task.id, lease, abort, timer } };
    }
    case 'cancel':
      if (state.running?.lease === msg.lease) state.running.abort.abort(new Aborted('the task was cancelled'));
      return state;
    case 'runEnded':
      if (state.running?.lease !== msg.lease) return state;
      state.running.timer.clear();
      return { ...state, running: null };
  }
}

/**
 * The attempt's timeout (ms), moved later by the time the task's reader held the call back (a gateway client reading
 * slower than the server writes: that time is the client's, not the server's).
 */
function attemptTimer(deps: WorkerDeps, ms: number, flow: FlowValve | undefined, onTimeout: () => void): { clear(): void } {
  let counted = flow?.heldMs() ?? 0;
  let handle: TimerHandle;
  const arm = (wait: number) => {
    handle = deps.clock.setTimeout(() => {
      const held = flow?.heldMs() ?? 0;
      const owed = held - counted;
      counted = held;
      if (owed >= 1) arm(owed);
      else onTimeout();
    }, wait);
  };
  arm(ms);
  return { clear: () => deps.clock.clearTimeout(handle) };
}

/** Calls the backend and records the outcome: deferred, retry, completed or failed. Never rejects. */
async function runTask(task: Task, lease: string, signal: AbortSignal, deps: WorkerDeps): Promise<void> {
  const result = await callBackend(task, lease, signal, deps);
  if (!result) return;
  const { outcome, failure, closedForMs } = result;
  const backend = deps.backend.name;
  const about = { task: task.id, backend, worker: deps.id, attempt: task.attempts };
  try {
    if (failure?.kind === 'backpressure') {
      // Not the task's fault: it waits without spending an attempt. Held back as long as the server asked, if it did;
      // what it waits in all is until its backend's gate takes work again (a pause, an open circuit), if that is later.
      const heldMs = failure.retryAfterMs ?? 0;
      const waitMs = Math.max(heldMs, closedForMs);
      const queued = await deps.transitions.defer(task.id, lease, { code: failure.code, message: failure.message }, waitMs, backend);
      if (!queued) return;
      deps.log.warn('backend pushed back; task deferred without spending an attempt', { ...about, code: failure.code, wait_ms: waitMs, error: failure.message });
      deps.retryLater(queued, heldMs, { kind: 'retry_after', backend, error: failure.code });
      return;
    }
    // A backend whose calls have side effects (an agent CLI) says whether a failed one may run again.
    const mayRetry = failure?.retryable === true && deps.backend.retries !== false;
    if (outcome.status === 'failed' && mayRetry && task.attempts < deps.maxAttempts) {
      const delayMs = deps.retryDelayMs(task.attempts);
      deps.log.warn('task attempt failed; retrying', { ...about, code: failure.code, retry_in_ms: delayMs, error: failure.message });
      const queued = await deps.transitions.retry(task.id, lease, outcome.error, delayMs);
      if (queued) deps.retryLater(queued, delayMs, { kind: 'retry_backoff', backend, error: failure.code });
      return;
    }
    if (outcome.status === 'failed') deps.log.warn('task failed', { ...about, code: outcome.error.code, error: outcome.error.message });
    const recorded = await deps.transitions.finish(task.id, lease, outcome);
    if (!recorded) deps.log.info('result discarded: the lease was no longer current', { task: task.id, worker: deps.id });
  } catch (err) {
    deps.log.error('writing a result failed; the task is requeued at next start', { task: task.id, error: (err as Error).message });
  }
}

/** What a call came to: the outcome to record, and for a failure its kind and how long its backend now takes no call. */
interface CallResult {
  outcome: TaskOutcome;
  failure: DescribedError | null;
  /** Milliseconds until the backend's gate takes a call again, as the scheduler answered for a pushed-back call; else 0. */
  closedForMs: number;
}

/**
 * The outcome to record and, for a failure, what kind it is; null when the run was aborted by someone who decides the
 * task's state (stop, cancel). Reports what the call said about the server either way.
 */
async function callBackend(task: Task, lease: string, signal: AbortSignal, deps: WorkerDeps): Promise<CallResult | null> {
  const { system, prompt } = buildPrompt(task);
  const started = deps.clock.now();
  const flow = deps.flowOf?.(task.id);
  const heldBefore = flow?.heldMs() ?? 0;
  // The server's time: not what the call spent held back by its reader.
  const seconds = () => (deps.clock.now() - started - ((flow?.heldMs() ?? 0) - heldBefore)) / 1000;
  const reportOf = (verdict: CallVerdict, code: string | null) => ({ workerId: deps.id, incarnation: deps.incarnation, verdict, taskId: task.id, attempt: task.attempts, code });
  const report = (verdict: CallVerdict, code: string | null) => deps.reportCall(reportOf(verdict, code));
  // The model as this backend names it (a task may ask for `m:latest` of a backend serving `m`), else as asked.
  const asServed = (model: string) => servedName(deps.caps, model) ?? model;
  try {
    const chat = task.options.chat;
    const result = chat
      ? await runChat(deps.backend, { call: withModel(chat, asServed(callModel(chat))), signal, maxOutputBytes: deps.maxOutputBytes, flow, onDelta: (d) => deps.transitions.progress(task.id, deps.id, lease, d.content ?? '', d) })
      : await deps.backend.generate({
          prompt,
          system,
          model: task.options.model === undefined ? undefined : asServed(task.options.model),
          maxTokens: task.options.max_tokens,
          maxOutputBytes: deps.maxOutputBytes,
          keepReasoning: task.options.include_reasoning === true,
          signal,
          onChunk: (chunk) => deps.transitions.progress(task.id, deps.id, lease, chunk),
          taskId: task.id,
          workdir: task.options.workdir,
        });
    deps.recordBackendCall(deps.backend.name, seconds(), null);
    report({ kind: 'ok' }, null);
    const { output, changes, ...answer } = result;
    return { outcome: { status: 'completed', output, answer, changes: changes ?? null }, failure: null, closedForMs: 0 };
  } catch (err) {
    if (signal.aborted && signal.reason instanceof Aborted) {
      report({ kind: 'unknown' }, 'aborted');
      return null;
    }
    const failure = describeError(err);
    deps.recordBackendCall(deps.backend.name, seconds(), failure.code);
    let closedForMs = 0;
    // A push-back waits for the gate's answer: the deferral then says how long the task really waits.
    if (failure.kind === 'backpressure') closedForMs = await deps.reportPushback(reportOf(verdictOf(err), failure.code)).catch(() => 0);
    else report(verdictOf(err), failure.code);
    // A refused answer still says how it ended, and one refused for its size keeps its start.
    const refused = err instanceof AnswerError ? { ...(err.answer ? { answer: err.answer } : {}), ...(err.partialOutput === undefined ? {} : { output: err.partialOutput }) } : {};
    return { outcome: { status: 'failed', error: { code: failure.code, message: failure.message }, ...refused }, failure, closedForMs };
  }
}

/** What a failed call says about the server: busy, not there, there (it answered), or nothing (a timeout, our bug). */
function verdictOf(err: unknown): CallVerdict {
  if (err instanceof BackendBusy) return { kind: 'busy', retryAfterMs: err.retryAfterMs };
  // A connection lost in the middle of an answer says the server was there a moment ago: nothing to conclude.
  if (err instanceof BackendUnavailable) return err.backpressure ? { kind: 'unreachable' } : { kind: 'unknown' };
  if (err instanceof KoubouError && !(err instanceof TaskTimeout)) return { kind: 'answered' };
  return { kind: 'unknown' };
}
