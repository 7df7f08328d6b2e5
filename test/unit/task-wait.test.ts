/** Waiting on a task's events, timed by a manual clock: an accepted event ends the wait, time running out ends it too. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.js';
import { isFinal, waitForTaskEvent } from '../../src/delegation/wait.js';
import { ManualClock } from '../helpers/manual-clock.js';

describe('waiting for a task event', () => {
  it('ends with true on a final event of its task, and leaves no timer or listener behind', async () => {
    const bus = new EventBus();
    const clock = new ManualClock();
    const wait = waitForTaskEvent(bus, clock, 't1', 30_000, isFinal);
    bus.publish({ taskId: 't2', kind: 'completed', at: clock.now() });
    bus.publish({ taskId: 't1', kind: 'assigned', at: clock.now() });
    bus.publish({ taskId: 't1', kind: 'completed', at: clock.now() });
    assert.equal(await wait.done, true);
    assert.equal(clock.pendingTimers, 0);
  });

  it('ends with false when its clock passes the timeout, not a moment before', async () => {
    const bus = new EventBus();
    const clock = new ManualClock();
    let settled: boolean | null = null;
    const wait = waitForTaskEvent(bus, clock, 't1', 30_000, isFinal);
    void wait.done.then((v) => (settled = v));
    clock.advance(29_999);
    await Promise.resolve();
    assert.equal(settled, null);
    clock.advance(1);
    assert.equal(await wait.done, false);
    // A late event changes nothing.
    bus.publish({ taskId: 't1', kind: 'completed', at: clock.now() });
    assert.equal(await wait.done, false);
  });
});
