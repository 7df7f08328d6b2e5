import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs } from '../../src/supervision/backoff.js';

describe('backoff', () => {
  it('is never below the base: jitter only adds', () => {
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      assert.ok(backoffMs(0, 1000, 30_000, () => r) >= 1000, `random ${r}`);
      assert.ok(backoffMs(3, 1000, 30_000, () => r) >= 8000, `random ${r}`);
    }
    assert.equal(backoffMs(0, 1000, 30_000, () => 0), 1000);
    assert.equal(backoffMs(0, 1000, 30_000, () => 0.999999), 1500);
  });

  it('doubles per step and never exceeds the cap', () => {
    assert.deepEqual([0, 1, 2, 3].map((s) => backoffMs(s, 100, 30_000, () => 0)), [100, 200, 400, 800]);
    for (const r of [0, 0.999999]) assert.equal(backoffMs(20, 100, 30_000, () => r), 30_000);
  });
});
