/**
 * The pool manager as a supervisor, with a manual clock and fake workers the test can silence or crash:
 * heartbeat leases, restarts with backoff, and the restart intensity limit.
 */
import assert from 'node:assert/strict';
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { spawnPoolManager, type PoolDeps, type PoolMsg } from '../../actors/pool-manager.js';
import type { SchedulerMsg } from '../../actors/scheduler.js';
import type { SpawnWorker, WorkerHandle } from '../../src/routing/worker-protocol.js';
import type { Backend } from '../../src/backends/types.js';
import { capabilities } from '../../src/routing/capabilities.js';
import { silentLogger } from '../../src/logger.js';
import type { TaskTransitions } from '../../src/tasks/task-transitions.js';
import { ManualClock } from '../helpers/manual-clock.js';

const INTERVAL = 1000;

/** The scheduler's ask: `busy` local workers by backend, `count` tasks of one lane (any backend takes them) waiting. */
const demand = (busy: Record<string, number>, count: number): PoolMsg => ({
  type: 'demand',
  demand: { busy: new Map(Object.entries(busy)), waiting: [{ req: { type: 'general', model: null, chat: false, maxTokens: null, workdir: null }, count }] },
});
const TIMEOUT = 3000;

/** Lets nact deliver everything in flight (each message takes one event-loop turn). */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

interface FakeWorker {
  id: string;
  incarnation: number;
  silent: boolean;
  ref: Ref<'crash'>;
}

describe('pool manager supervision', () => {
  let system: ReturnType<typeof start>;
  let clock: ManualClock;
  let seen: { at: number; msg: SchedulerMsg }[];
  let workers: FakeWorker[];
  let failedBackends: string[];
  let losses: string[];
  let pool: Ref<PoolMsg>;

  /** Advances the manual clock in small steps, letting the actors react between them. */
  async function run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 50) {
      clock.advance(50);
      await settle();
    }
  }

  const fakeSpawn: SpawnWorker = (parent, name, deps, beatTo, onCrash) => {
    const worker: FakeWorker = { id: deps.id, incarnation: deps.incarnation, silent: false, ref: null as never };
    worker.ref = spawn(
      parent,
      (state: null, msg: 'crash') => {
        if (msg === 'crash') throw new Error('injected crash');
        return state;
      },
      name,
      { onCrash: (_m, err, ctx) => (onCrash(err!), ctx.stop) },
    );
    const timer = deps.clock.setInterval(() => {
      if (!worker.silent) beatTo({ type: 'heartbeat', workerId: deps.id, incarnation: deps.incarnation, at: deps.clock.now() });
    }, deps.heartbeatMs);
    worker.silent = false;
    workers.push(worker);
    void timer;
    return { id: deps.id, incarnation: deps.incarnation, ref: worker.ref as unknown as WorkerHandle['ref'], backend: deps.backend.name, model: deps.backend.model, location: 'local', group: deps.group, caps: deps.caps };
  };

  beforeEach(() => {
    system = start();
    clock = new ManualClock();
    seen = [];
    workers = [];
    failedBackends = [];
    losses = [];
    const scheduler = spawn(system, (s: null, msg: SchedulerMsg) => {
      seen.push({ at: clock.now(), msg });
      return s;
    }, 'scheduler');
    const backend = { name: 'b', type: 'ollama', model: 'm' } as Backend;
    const other = { name: 'c', type: 'ollama', model: 'm' } as Backend;
    const deps: PoolDeps = {
      backends: [
        { backend, minWorkers: 1, maxWorkers: 1, timeoutS: 60, caps: capabilities('m', {}) },
        { backend: other, minWorkers: 0, maxWorkers: 3, timeoutS: 60, caps: capabilities('m', {}) },
      ],
      transitions: {} as TaskTransitions,
      scheduler,
      clock,
      log: silentLogger,
      heartbeatIntervalMs: INTERVAL,
      heartbeatTimeoutMs: TIMEOUT,
      restart: { base_ms: 100, max_ms: 1000, intensity: 3, period_ms: 60_000 },
      maxAttempts: 3,
      maxOutputBytes: 1 << 20,
      retryDelayMs: () => 0,
      spawnWorker: fakeSpawn,
      recordStarted: async () => {},
      recordBeats: async () => {},
      onBackendFailed: (name) => failedBackends.push(name),
      onWorkerEvent: (e) => e.kind === 'lost' && losses.push(String(e.detail?.cause)),
      recordBackendCall: () => {},
    };
    pool = spawnPoolManager(system, deps, (err) => assert.fail(`pool manager crashed: ${err.message}`));
    dispatch(pool, { type: 'start' });
  });

  afterEach(() => stop(system));

  const removed = () => seen.filter((s) => s.msg.type === 'workerRemoved');
  const ready = () => seen.filter((s) => s.msg.type === 'workerReady');

  it('keeps a worker that beats, however long it runs', async () => {
    await settle();
    await run(10 * TIMEOUT);
    assert.equal(removed().length, 0);
    assert.equal(ready().length, 1);
  });

  it('declares a silent worker dead within timeout + half an interval, and replaces it after a backoff', async () => {
    await settle();
    await run(2000);
    const lastBeat = clock.now() - (clock.now() % INTERVAL);
    workers[0]!.silent = true;
    await run(TIMEOUT + 2 * INTERVAL);
    assert.equal(removed().length, 1);
    const gone = removed()[0]!;
    // Leases are swept twice per interval; 50 ms is this test's step.
    assert.ok(gone.at - lastBeat <= TIMEOUT + INTERVAL / 2 + 50, `detected ${gone.at - lastBeat} ms after the last beat`);
    assert.ok(gone.at - lastBeat > TIMEOUT);
    assert.match((gone.msg as { reason: string }).reason, /heartbeat lost/);
    assert.deepEqual(losses, ['heartbeat']);
    const next = ready()[1];
    assert.ok(next, 'a successor was started');
    assert.equal((next.msg as { worker: WorkerHandle }).worker.incarnation, 2);
    assert.ok(next.at - gone.at >= 100 && next.at - gone.at <= 200, `restarted ${next.at - gone.at} ms later (backoff 100-150 ms)`);
  });

  it('restarts a crashed worker with growing backoff, and gives up past the intensity limit', async () => {
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const crashedAt = clock.now();
      dispatch(workers.at(-1)!.ref, 'crash');
      await settle();
      await run(1200);
      assert.equal(ready().length, i + 2, `restart ${i + 1} happened (${ready().map((r) => r.at)})`);
      delays.push(ready()[i + 1]!.at - crashedAt);
    }
    assert.ok(delays[0]! >= 100 && delays[0]! <= 200 && delays[1]! >= 200 && delays[1]! <= 350 && delays[2]! >= 400 && delays[2]! <= 650, `backoffs ${delays}`);
    assert.ok(removed().every((r) => /crashed: injected crash/.test((r.msg as { reason: string }).reason)));
    // The fourth crash within the period trips the limit: reported, not restarted.
    dispatch(workers.at(-1)!.ref, 'crash');
    await settle();
    await run(5000);
    assert.deepEqual(failedBackends, ['b']);
    assert.equal(ready().length, 4, 'no restart after giving up');
  });

  it('does not scale a failed backend back up on demand', async () => {
    await settle();
    for (let i = 0; i < 4; i++) {
      dispatch(workers.at(-1)!.ref, 'crash');
      await settle();
      await run(1200);
    }
    assert.deepEqual(failedBackends, ['b']);
    const before = ready().length;
    dispatch(pool, demand({}, 5));
    await settle();
    const added = ready().slice(before).map((r) => (r.msg as { worker: WorkerHandle }).worker.id);
    assert.deepEqual(added, ['local:c:0', 'local:c:1', 'local:c:2'], 'only the healthy backend grows, up to its max');
  });

  it('grows a backend to its busy workers plus the waiting tasks it takes, counting slots the scheduler has not seen yet', async () => {
    await settle();
    assert.equal(ready().length, 1, 'min_workers of b');
    // b (max 1) is busy; 2 tasks wait that no idle worker takes: c grows by 2.
    dispatch(pool, demand({ b: 1 }, 2));
    await settle();
    assert.equal(ready().length, 3);
    // Asked again before it has seen the two new workers (a third task arrived): only one more.
    dispatch(pool, demand({ b: 1 }, 3));
    await settle();
    assert.equal(ready().length, 4);
    assert.equal(workers.length, 4);
  });

  it('stops the workers the scheduler retires, unless the slot was replaced meanwhile', async () => {
    await settle();
    dispatch(pool, demand({ b: 1 }, 2));
    await settle();
    const started = ready().map((r) => (r.msg as { worker: WorkerHandle }).worker);
    const c0 = started.find((w) => w.id === 'local:c:0')!;
    const c1 = started.find((w) => w.id === 'local:c:1')!;
    dispatch(pool, { type: 'retire', workers: [{ workerId: c0.id, incarnation: c0.incarnation }, { workerId: c1.id, incarnation: c1.incarnation + 1 }] });
    await settle();
    // c0 is gone, so the next growth reuses its index; c1's stale incarnation was ignored and it still beats.
    await run(TIMEOUT + INTERVAL);
    assert.equal(removed().length, 0, 'a retired worker is not reported lost');
    dispatch(pool, demand({ b: 1, c: 1 }, 1));
    await settle();
    assert.equal(ready().at(-1)!.msg.type, 'workerReady');
    assert.equal((ready().at(-1)!.msg as { worker: WorkerHandle }).worker.id, 'local:c:0');
  });
});
