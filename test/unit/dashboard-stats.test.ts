/** The dashboard's in-memory measures: finished tasks per bucket, and each worker's recent speed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Throughput } from '../../src/dashboard/throughput.js';
import { WorkerSpeeds } from '../../src/dashboard/worker-speed.js';
import { EventBus } from '../../src/events/bus.js';
import type { TaskEvent } from '../../src/events/types.js';

const START = 1_699_999_980_000; // a multiple of 30 s
const event = (kind: TaskEvent['kind'], at: number, extra: Partial<TaskEvent> = {}): TaskEvent => ({ taskId: 't', kind, at, ...extra });

describe('throughput', () => {
  it('counts each outcome in its bucket over a sliding window, zeros in the gaps', () => {
    let now = START + 5_000;
    const bus = new EventBus();
    const t = new Throughput(bus, () => now, 30_000, 4);
    bus.publish(event('completed', START + 1_000));
    bus.publish(event('completed', START + 29_999));
    bus.publish(event('failed', START + 30_000));
    bus.publish(event('cancelled', START + 31_000));
    bus.publish(event('progress', START + 31_000)); // not an outcome
    bus.publish(event('retried', START + 31_000)); // nor is this
    now = START + 65_000;
    const report = t.report();
    assert.equal(report.since, START + 5_000);
    assert.deepEqual(
      report.buckets.map((b) => [b.start - START, b.completed, b.failed, b.cancelled]),
      [
        [-30_000, 0, 0, 0],
        [0, 2, 0, 0],
        [30_000, 0, 1, 1],
        [60_000, 0, 0, 0],
      ],
    );
    // Two minutes on, the old buckets have left the window.
    now = START + 185_000;
    assert.ok(t.report().buckets.every((b) => b.completed + b.failed + b.cancelled === 0));
  });
});

describe('worker speed', () => {
  it('measures streamed characters per second of running time and completed tasks per minute', () => {
    let now = START;
    const bus = new EventBus();
    const speeds = new WorkerSpeeds(bus, () => now, 5 * 60_000);
    assert.deepEqual(speeds.of('w1'), { charsPerS: null, chunksPerS: null, tasksPerMin: 0 });
    // Output may stream before the assignment is announced; the run counts from its first sign of life.
    bus.publish(event('progress', START, { workerId: 'w1', lease: 'a', detail: { chunk: 'hello ' } }));
    bus.publish(event('assigned', START + 100, { workerId: 'w1', lease: 'a' }));
    bus.publish(event('progress', START + 1_000, { workerId: 'w1', lease: 'a', detail: { chunk: 'world' } }));
    bus.publish(event('completed', START + 2_000, { workerId: 'w1', lease: 'a' }));
    // A retried attempt ends the run too (retries carry only the lease), and does not count as completed.
    bus.publish(event('assigned', START + 3_000, { workerId: 'w1', lease: 'b' }));
    bus.publish(event('progress', START + 3_500, { workerId: 'w1', lease: 'b', detail: { chunk: 'xxxxxxxxx' } }));
    bus.publish(event('retried', START + 5_000, { lease: 'b' }));
    now = START + 60_000;
    // 20 characters in 3 pieces over 4 s of running; 1 completed in the first minute.
    assert.deepEqual(speeds.of('w1'), { charsPerS: 5, chunksPerS: 0.8, tasksPerMin: 1 });
    assert.deepEqual(speeds.of('w2'), { charsPerS: null, chunksPerS: null, tasksPerMin: 0 });
  });

  it('includes the running task, and forgets runs older than the window', () => {
    let now = START;
    const bus = new EventBus();
    const speeds = new WorkerSpeeds(bus, () => now, 60_000);
    bus.publish(event('assigned', START, { workerId: 'w1', lease: 'a' }));
    bus.publish(event('progress', START + 500, { workerId: 'w1', lease: 'a', detail: { chunk: 'x'.repeat(40) } }));
    now = START + 2_000;
    assert.equal(speeds.of('w1').charsPerS, 20);
    bus.publish(event('cancelled', START + 2_000, { workerId: 'w1', lease: 'a' }));
    now = START + 2_000 + 61_000;
    assert.deepEqual(speeds.of('w1'), { charsPerS: null, chunksPerS: null, tasksPerMin: 0 });
  });
});
