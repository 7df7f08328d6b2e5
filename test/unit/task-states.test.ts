/** The task state table: its moves stay inside the states, final states are never left, and a move names what it left. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINAL_STATUSES, mayLeave, moveOf, OPEN_STATUSES, STATE_EVENT_KINDS, STATE_MOVES, TASK_STATUSES, type TaskStatus } from '../../src/tasks/states.js';

describe('task state table', () => {
  it('moves only between known states, never out of a final one, and every open state can end', () => {
    for (const kind of STATE_EVENT_KINDS) {
      const { from, to } = STATE_MOVES[kind];
      assert.ok(TASK_STATUSES.includes(to), kind);
      for (const s of from as readonly TaskStatus[]) {
        assert.ok(TASK_STATUSES.includes(s), kind);
        assert.ok(!FINAL_STATUSES.has(s), `${kind} leaves the final state ${s}`);
      }
    }
    assert.deepEqual([...OPEN_STATUSES], TASK_STATUSES.filter((s) => !FINAL_STATUSES.has(s)));
    for (const open of OPEN_STATUSES) {
      assert.ok(STATE_EVENT_KINDS.some((k) => mayLeave(k, open) && FINAL_STATUSES.has(STATE_MOVES[k].to)), `${open} has no way to end`);
    }
  });

  it('a move names the state it left: the only one, or the one the event says when several are possible', () => {
    assert.deepEqual(moveOf('queued'), [null, 'pending']);
    assert.deepEqual(moveOf('requeued'), ['in_progress', 'pending']);
    assert.deepEqual(moveOf('cancelled', 'in_progress'), ['in_progress', 'cancelled']);
    assert.deepEqual(moveOf('cancelled', 'pending'), ['pending', 'cancelled']);
    assert.deepEqual(moveOf('cancelled', 'completed'), ['pending', 'cancelled'], 'a state the kind cannot leave is not taken from the event');
    assert.equal(moveOf('progress'), null);
  });
});
