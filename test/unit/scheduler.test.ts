/**
 * The scheduler actor on a manual clock, with workers and a pool manager that only record what they are told:
 * dispatch order, requeue of a lost worker's task, cancel taking a task out of the queue (positions and load drop),
 * held retries, growth requests and retirement of idle workers.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { dispatch, query, spawn, start, stop, type Ref } from 'nact';
import { spawnScheduler, type SchedulerDeps, type SchedulerMsg } from '../../actors/scheduler.js';
import { silentLogger } from '../../src/logger.js';
import { capabilities } from '../../src/routing/capabilities.js';
import type { QueueEstimate, SchedulerLoad } from '../../src/routing/scheduler-views.js';
import type { IdleWorker, WorkerHandle, WorkerMsg } from '../../src/routing/worker-protocol.js';
import { BackendGates } from '../../src/supervision/backend-gate.js';
import type { QueuedTask, Task } from '../../src/tasks/task.js';
import type { TaskTransitions } from '../../src/tasks/task-transitions.js';
import { ManualClock } from '../helpers/manual-clock.js';

const IDLE_MS = 10_000;

/** Lets nact deliver everything in flight (each message takes one event-loop turn). */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

const queued = (id: string, priority: number, seq: number): QueuedTask => ({ id, seq, priority, type: 'general', anyType: false, model: null, chat: false, maxTokens: null, workdir: null });

describe('scheduler', () => {
  let system: ReturnType<typeof start>;
  let clock: ManualClock;
  let scheduler: Ref<SchedulerMsg>;
  /** What each worker was told, in order: `run <task>` or `cancel <task>`. */
  let told: Map<string, string[]>;
  let leases: Map<string, string>;
  let asks: { pending: number; busy: number }[];
  let retired: IdleWorker[][];
  let requeued: string[];
  let seq: number;

  const transitions: TaskTransitions = {
    assign: (id, workerId, lease) => {
      leases.set(id, lease);
      const task = { id, attempts: 1, workerId, lease, status: 'in_progress' } as Task;
      return { task, commit: async () => true };
    },
    finish: async () => true,
    requeue: async (id) => {
      requeued.push(id);
      return queued(id, 5, seq++);
    },
    retry: async () => null,
    defer: async () => null,
    progress: () => {},
  };

  function startScheduler(min: number): void {
    const deps: SchedulerDeps = {
      transitions,
      clock,
      newLease: () => `lease-${seq++}`,
      log: silentLogger,
      routing: { speed_aware: false, rules: [] },
      gates: new BackendGates({ failureThreshold: 3, probeBaseMs: 1000, probeMaxMs: 30_000 }, clock),
      askForWorkers: (d) => asks.push({ pending: d.waiting.reduce((n, w) => n + w.count, 0), busy: [...d.busy.values()].reduce((n, b) => n + b, 0) }),
      retire: (workers) => retired.push(workers),
      scaling: { min: new Map([['b', min]]), idleMs: IDLE_MS, checkEveryMs: 1000 },
      localBackends: [],
      awaitedNodes: { heardFrom: () => [], returnMs: 60_000 },
    };
    scheduler = spawnScheduler(system, deps, (err) => assert.fail(`scheduler crashed: ${err.message}`));
  }

  function addWorker(id: string): WorkerHandle {
    const log: string[] = [];
    told.set(id, log);
    const ref = spawn(system, (s: null, msg: WorkerMsg) => {
      if (msg.type === 'run') log.push(`run ${msg.task.id}`);
      if (msg.type === 'cancel') log.push(`cancel ${msg.lease}`);
      return s;
    }, id.replaceAll(':', '.'));
    const handle: WorkerHandle = { id, incarnation: 1, ref, backend: 'b', model: 'm', location: 'local', group: 'local:b', caps: capabilities('m', {}) };
    dispatch(scheduler, { type: 'workerReady', worker: handle });
    return handle;
  }

  const finished = (w: WorkerHandle) => dispatch(scheduler, { type: 'workersIdle', workers: [{ workerId: w.id, incarnation: w.incarnation }] });
  const load = () => query(scheduler, (replyTo: Ref<SchedulerLoad>): SchedulerMsg => ({ type: 'getLoad', replyTo }), 1000) as Promise<SchedulerLoad>;
  const position = async (taskId: string) =>
    ((await query(scheduler, (replyTo: Ref<QueueEstimate | null>): SchedulerMsg => ({ type: 'estimate', taskId, replyTo }), 1000)) as QueueEstimate | null)?.position ?? null;

  beforeEach(() => {
    system = start();
    clock = new ManualClock();
    told = new Map();
    leases = new Map();
    asks = [];
    retired = [];
    requeued = [];
    seq = 1;
  });

  afterEach(() => stop(system));

  it('runs the highest priority first, then the oldest of equal priority', async () => {
    startScheduler(0);
    dispatch(scheduler, { type: 'tasksQueued', tasks: [queued('low', 1, 1), queued('high', 9, 2), queued('mid-old', 5, 3), queued('mid-new', 5, 4)] });
    await settle();
    assert.deepEqual(asks.at(-1), { pending: 4, busy: 0 }, 'no worker yet: it asks for four');
    const w = addWorker('local:b:0');
    await settle();
    for (let i = 0; i < 3; i++) {
      finished(w);
      await settle();
    }
    assert.deepEqual(told.get(w.id), ['run high', 'run mid-old', 'run mid-new', 'run low']);
    assert.equal((await load()).pending, 0);
  });

  it("requeues a removed worker's task under its lease, and another worker runs it", async () => {
    startScheduler(0);
    const a = addWorker('local:b:0');
    await settle();
    dispatch(scheduler, { type: 'tasksQueued', tasks: [queued('t1', 5, 1)] });
    await settle();
    assert.deepEqual(told.get(a.id), ['run t1']);
    dispatch(scheduler, { type: 'workerRemoved', workerId: a.id, incarnation: a.incarnation, reason: 'heartbeat lost' });
    await settle();
    assert.deepEqual(requeued, ['t1']);
    const b = addWorker('local:b:1');
    await settle();
    assert.deepEqual(told.get(b.id), ['run t1']);
    // A stale notice about the old incarnation changes nothing.
    dispatch(scheduler, { type: 'workerRemoved', workerId: a.id, incarnation: a.incarnation, reason: 'again' });
    await settle();
    assert.deepEqual(requeued, ['t1']);
  });

  it('takes a cancelled task out of the queue: positions, load and growth requests drop with it', async () => {
    startScheduler(0);
    dispatch(scheduler, { type: 'tasksQueued', tasks: [queued('first', 5, 1), queued('second', 5, 2), queued('third', 5, 3)] });
    await settle();
    assert.equal(await position('third'), 3);
    assert.deepEqual(asks.at(-1), { pending: 3, busy: 0 });
    dispatch(scheduler, { type: 'taskCancelled', taskId: 'first', lease: null });
    await settle();
    assert.equal(await position('first'), null);
    assert.equal(await position('third'), 2);
    assert.equal((await load()).pending, 2);
    // One more task: the backlog is three again, not four.
    dispatch(scheduler, { type: 'tasksQueued', tasks: [queued('fourth', 5, 4)] });
    await settle();
    assert.deepEqual(asks.at(-1), { pending: 3, busy: 0 });
    const w = addWorker('local:b:0');
    await settle();
    finished(w);
    await settle();
    assert.deepEqual(told.get(w.id), ['run second', 'run third']);
  });

  it('stops the worker running a cancelled task, under that lease only', async () => {
    startScheduler(0);
    const w = addWorker('local:b:0');
    await settle();
    dispatch(scheduler, { type: 'tasksQueued', tasks: [queued('t1', 5, 1)] });
    await settle();
    dispatch(scheduler, { type: 'taskCancelled', taskId: 't1', lease: 'some-older-lease' });
    await settle();
    assert.deepEqual(told.get(w.id), ['run t1']);
    dispatch(scheduler, { type: 'taskCancelled', taskId: 't1', lease: leases.get('t1')! });
    await settle();
    assert.deepEqual(told.get(w.id), ['run t1', `cancel ${leases.get('t1')}`]);
  });

  it('holds a retried task until its wait has passed on the clock', async () => {
    startScheduler(0);
    const w = addWorker('local:b:0');
    await settle();
    dispatch(scheduler, { type: 'retryLater', task: queued('t1', 5, 1), delayMs: 2000, why: { kind: 'retry_backoff', backend: 'b', error: 'backend_error' } });
    await settle();
    clock.advance(1999);
    await settle();
    assert.deepEqual(told.get(w.id), []);
    clock.advance(1);
    await settle();
    assert.deepEqual(told.get(w.id), ['run t1']);
  });

  it('retires local workers idle past idle_ms, keeping the backend min', async () => {
    startScheduler(1);
    const a = addWorker('local:b:0');
    clock.advance(3000);
    const b = addWorker('local:b:1');
    await settle();
    clock.advance(IDLE_MS - 1000);
    await settle();
    assert.deepEqual(retired, [], 'not idle long enough yet');
    clock.advance(3000);
    await settle();
    // Both are idle past the limit; the longest idle goes and the min of one stays.
    assert.deepEqual(retired, [[{ workerId: a.id, incarnation: 1 }]]);
    assert.equal((await load()).workers, 1);
    clock.advance(5 * IDLE_MS);
    await settle();
    assert.equal(retired.length, 1, `kept ${b.id} as the min`);
  });
});
