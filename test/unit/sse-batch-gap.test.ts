import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchGapMs } from '../../src/http/sse-fanout.js';

describe('the gap between /events batches', () => {
  it('is 20 ms for a few watchers', () => {
    for (const members of [1, 2, 10, 20]) assert.equal(batchGapMs(members), 20);
  });

  it('grows with the group so that it costs at most 1,000 socket writes a second', () => {
    for (const members of [30, 60, 90]) {
      const gap = batchGapMs(members);
      assert.ok(gap > 20, `${members} members: ${gap} ms`);
      assert.ok((members * 1000) / gap <= 1000 + 1e-9, `${members} members: ${(members * 1000) / gap} writes/s`);
    }
  });

  it('never keeps an event waiting more than 100 ms, however many watch', () => {
    for (const members of [100, 1000, 100_000]) assert.equal(batchGapMs(members), 100);
  });
});
