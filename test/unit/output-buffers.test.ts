/** Output buffers hold a running attempt's streamed text and are freed when the attempt ends, however it ends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.js';
import type { TaskEventKind } from '../../src/events/types.js';
import { OutputBuffers } from '../../src/delegation/output-buffers.js';

function setup() {
  const bus = new EventBus();
  const buffers = new OutputBuffers(bus);
  const publish = (taskId: string, kind: TaskEventKind, lease: string | null, chunk?: string) =>
    bus.publish({ taskId, kind, at: 0, lease, ...(chunk === undefined ? {} : { detail: { chunk } }) });
  return { buffers, publish };
}

describe('output buffers', () => {
  for (const end of ['completed', 'failed', 'cancelled', 'retried', 'requeued'] as const) {
    it(`are freed when the attempt ends ${end}`, () => {
      const { buffers, publish } = setup();
      publish('t1', 'assigned', 'L1');
      publish('t1', 'progress', 'L1', 'x'.repeat(1000));
      publish('t2', 'progress', 'L2', 'other');
      assert.equal(buffers.read('t1')?.length, 1000);
      publish('t1', end, 'L1');
      assert.equal(buffers.read('t1'), null);
      assert.equal(buffers.size, 1, 'only the other running task keeps its buffer');
    });
  }

  it('ignore a chunk that arrives after its attempt ended, so nothing is left that no event would free', () => {
    const { buffers, publish } = setup();
    publish('t1', 'progress', 'L1', 'streaming');
    publish('t1', 'cancelled', 'L1');
    publish('t1', 'progress', 'L1', ' a late chunk');
    assert.equal(buffers.size, 0);
    // A new attempt under a new lease streams again.
    publish('t1', 'progress', 'L2', 'again');
    assert.equal(buffers.read('t1')?.text, 'again');
  });
});
