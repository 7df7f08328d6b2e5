import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workersToAdd, workersToRetire } from '../../src/supervision/scaling.js';

describe('scaling decisions', () => {
  it('adds workers for the backlog, in config order, up to each max, skipping failed backends', () => {
    const backends = [
      { name: 'a', slots: 1, max: 3, failed: false },
      { name: 'b', slots: 0, max: 4, failed: true },
      { name: 'c', slots: 0, max: 2, failed: false },
    ];
    // One slot exists (a's): desired is the busy workers plus the waiting tasks.
    assert.deepEqual([...workersToAdd(backends, 1 + 10)], [['a', 2], ['c', 2]]);
    assert.deepEqual([...workersToAdd(backends, 1 + 1)], [['a', 1]]);
    assert.deepEqual([...workersToAdd(backends, 1)], [], 'no backlog beyond what the slots hold');
    const started = [{ name: 'a', slots: 3, max: 3, failed: false }, { name: 'c', slots: 1, max: 2, failed: false }];
    // The scheduler knew 1 busy worker and 3 waiting tasks, but 4 slots are started already: nothing to add.
    assert.deepEqual([...workersToAdd(started, 1 + 3)], [], 'slots already started count against the need');
    assert.deepEqual([...workersToAdd(started, 1 + 4)], [['c', 1]]);
  });

  it('retires the longest idle first and never goes below min', () => {
    const slots = [
      { id: 'a0', backend: 'a', idleSince: 100 },
      { id: 'a1', backend: 'a', idleSince: 50 },
      { id: 'a2', backend: 'a', idleSince: null },
      { id: 'b0', backend: 'b', idleSince: 0 },
    ];
    const live = new Map([['a', 3], ['b', 1]]);
    const min = new Map([['a', 1], ['b', 1]]);
    assert.deepEqual(workersToRetire(slots, live, min, 1000, 500), ['a1', 'a0']);
    assert.deepEqual(workersToRetire(slots, live, new Map([['a', 2], ['b', 0]]), 1000, 500), ['b0', 'a1']);
    assert.deepEqual(workersToRetire(slots, live, min, 1000, 950), ['a1'], 'only slots idle long enough');
  });
});
