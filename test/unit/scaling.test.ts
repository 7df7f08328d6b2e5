import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workersToAdd, workersToRetire } from '../../src/supervision/scaling.js';

describe('scaling decisions', () => {
  const backend = (name: string, slots: number, max: number, busy: number, failed = false, takes = (_lane: number) => true) => ({ name, slots, max, busy, failed, takes });

  it('adds workers for the backlog, in config order, up to each max, skipping failed backends', () => {
    const backends = [backend('a', 1, 3, 1), backend('b', 0, 4, 0, true), backend('c', 0, 2, 0)];
    assert.deepEqual([...workersToAdd(backends, [10])], [['a', 2], ['c', 2]]);
    assert.deepEqual([...workersToAdd(backends, [1])], [['a', 1]]);
    assert.deepEqual([...workersToAdd(backends, [])], [], 'no backlog beyond what the slots hold');
    const started = [backend('a', 3, 3, 1), backend('c', 1, 2, 0)];
    // 1 busy worker, 3 waiting tasks, and 4 slots started already: nothing to add.
    assert.deepEqual([...workersToAdd(started, [3])], [], 'slots already started count against the need');
    assert.deepEqual([...workersToAdd(started, [4])], [['c', 1]]);
  });

  it("grows only the backends that take a lane's tasks; another backend's idle slots do not count", () => {
    // coder: one slot, busy; docs: one slot, idle, but it takes documentation only; a code task waits.
    const coder = backend('coder', 1, 2, 1, false, (lane) => lane === 0);
    const docs = backend('docs', 1, 1, 0, false, (lane) => lane === 1);
    assert.deepEqual([...workersToAdd([coder, docs], [1])], [['coder', 1]]);
    assert.deepEqual([...workersToAdd([docs, coder], [0, 1])], [], 'the docs task is covered by the docs slot that exists');
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
