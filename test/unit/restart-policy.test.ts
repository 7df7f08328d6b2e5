import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRestart } from '../../src/supervision/restart-policy.js';

const settings = { base_ms: 100, max_ms: 30_000, intensity: 5, period_ms: 60_000 };

describe('restart policy', () => {
  it('backs off exponentially, capped, with jitter that only adds (within [d, 1.5·d], capped)', () => {
    let history: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = decideRestart(history, 1000 + i, settings, () => 0);
      assert.equal(d.action, 'restart');
      if (d.action === 'restart') {
        delays.push(d.delayMs);
        history = d.history;
      }
    }
    assert.deepEqual(delays, [100, 200, 400, 800]);
    const high = decideRestart([], 0, settings, () => 0.999999);
    assert.equal(high.action === 'restart' && high.delayMs, 150);
    const capped = decideRestart([1, 2, 3, 4], 5, { ...settings, intensity: 100, max_ms: 1000 }, () => 0.999999);
    assert.equal(capped.action === 'restart' && capped.delayMs, 1000);
  });

  it('gives up at the intensity limit within the period', () => {
    const history = [0, 10, 20, 30, 40];
    assert.equal(decideRestart(history, 50, settings).action, 'giveUp');
  });

  it('forgets restarts older than the period', () => {
    const history = [0, 10, 20, 30, 40];
    const d = decideRestart(history, 60_030, settings, () => 0);
    assert.equal(d.action, 'restart');
    assert.deepEqual(d.history, [40, 60_030]);
    assert.equal(d.action === 'restart' && d.delayMs, 200);
  });
});
