/** RepoLock: one holder per repository at a time; waiting task work goes before waiting background work. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepoLock } from '../../src/backends/command/repo-lock.js';

describe('RepoLock', () => {
  it('runs one holder per repository at a time, urgent waiters first, and releases after a failure', async () => {
    const lock = new RepoLock();
    const order: string[] = [];
    let open!: () => void;
    const first = lock.run('/r', false, () => new Promise<void>((resolve) => (open = resolve)).then(() => order.push('first')));
    const later = lock.run('/r', false, async () => order.push('later'));
    const failing = lock.run('/r', true, async () => {
      order.push('urgent');
      throw new Error('git failed');
    });
    const other = lock.run('/other', false, async () => order.push('other repository'));
    await other;
    assert.deepEqual(order, ['other repository'], 'another repository does not wait');
    open();
    await first;
    await assert.rejects(failing, /git failed/);
    await later;
    assert.deepEqual(order, ['other repository', 'first', 'urgent', 'later']);
    // Free again: a new holder runs at once.
    assert.equal(await lock.run('/r', false, async () => 'free'), 'free');
  });
});
