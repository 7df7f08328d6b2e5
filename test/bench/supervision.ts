/**
 * Issue #3 benchmarks: how fast supervision reacts at the default heartbeat settings (1 s interval, 3 s timeout),
 * and what an idle worker costs the coordinator in memory.
 */
import { dispatch, start, stop } from 'nact';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { spawnPoolManager } from '../../actors/pool-manager.js';
import { spawnScheduler } from '../../actors/scheduler.js';
import { spawnWorker } from '../../actors/worker.js';
import type { Backend } from '../../src/backends/types.js';
import { systemClock } from '../../src/clock.js';
import { capabilities } from '../../src/routing/capabilities.js';
import { silentLogger } from '../../src/logger.js';
import type { TaskTransitions } from '../../src/tasks/task-transitions.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { FaultyWorkers } from '../helpers/faulty-workers.js';
import { BackendGates } from '../../src/supervision/backend-gate.js';

/** Milliseconds from injecting the fault to the task's `requeued` event, on a real coordinator with default settings. */
export async function timeToRequeue(fakeUrl: string, fault: 'silence' | 'crash'): Promise<number> {
  const faults = new FaultyWorkers();
  const koubou = await startTestCoordinator({ backends: [{ url: fakeUrl, min_workers: 2, max_workers: 2 }], spawnWorker: faults.spawn, extra: { pool: { shutdown_grace_ms: 100 } } });
  try {
    const client = api(koubou.url);
    // The fake process hangs on this marker, so the task is surely running when the fault lands.
    const id = (await client.delegate({ prompt: `[[mode:hang]] ${randomUUID()}` })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress');
    const workerId = (await client.status(id)).body.worker_id as string;
    let requeuedAt = 0;
    const unsubscribe = koubou.coordinator.core.bus.subscribeTask(id, (e) => {
      if (e.kind === 'requeued' && !requeuedAt) requeuedAt = performance.now();
    });
    const t0 = performance.now();
    if (fault === 'silence') faults.silence(workerId);
    else faults.crash(workerId);
    await eventually(() => requeuedAt > 0, 10_000, 1);
    unsubscribe();
    return requeuedAt - t0;
  } finally {
    await koubou.close();
  }
}

/** Heap bytes per idle worker: a pool of n idle workers (with their slots, timers and scheduler entries) against none. */
export async function bytesPerIdleWorker(n: number): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const system = start();
  const transitions = {} as TaskTransitions;
  const scheduler = spawnScheduler(system, { transitions, clock: systemClock, newLease: randomUUID, log: silentLogger, routing: { speed_aware: true, rules: [] }, askForWorkers: () => {}, retire: () => {}, scaling: { min: new Map(), idleMs: 3_600_000, checkEveryMs: 1000 }, localBackends: [], awaitedNodes: { heardFrom: () => [], returnMs: 60_000 }, gates: new BackendGates({ failureThreshold: 3, probeBaseMs: 1000, probeMaxMs: 30_000 }, systemClock) }, () => {});
  const backend = { name: 'b', type: 'ollama', model: 'm' } as Backend;
  const before = heap();
  const pool = spawnPoolManager(
    system,
    {
      backends: [{ backend, minWorkers: n, maxWorkers: n, timeoutS: 60, caps: capabilities('m', {}) }],
      transitions,
      scheduler,
      clock: systemClock,
      log: silentLogger,
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 3000,
      restart: { base_ms: 100, max_ms: 30_000, intensity: 5, period_ms: 60_000 },
      maxAttempts: 3,
      maxOutputBytes: 1 << 20,
      retryDelayMs: () => 1000,
      spawnWorker,
      recordStarted: async () => {},
      recordBeats: async () => {},
      onBackendFailed: () => {},
      onWorkerEvent: () => {},
      recordBackendCall: () => {},
    },
    () => {},
  );
  dispatch(pool, { type: 'start' });
  await new Promise((r) => setTimeout(r, 1500));
  const after = heap();
  stop(system);
  return (after - before) / n;
}
