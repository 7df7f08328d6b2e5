import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSecretId, newTaskId } from '../../src/tasks/ids.js';
import { ManualClock } from '../helpers/manual-clock.js';

describe('task ids', () => {
  it('are RFC 9562 version 7 UUIDs carrying their creation time', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0, 123);
    const id = newTaskId(new ManualClock(now));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), now);
  });

  it('sort by time and do not repeat', () => {
    const clock = new ManualClock(1_700_000_000_000);
    // Ten ids per millisecond.
    const ids = Array.from({ length: 2000 }, (_, i) => {
      if (i > 0 && i % 10 === 0) clock.advance(1);
      return newTaskId(clock);
    });
    assert.equal(new Set(ids).size, ids.length);
    const byMs = ids.filter((_, i) => i % 10 === 0);
    assert.deepEqual([...byMs].sort(), byMs);
  });
});

describe('secret ids (leases, node sessions)', () => {
  it('carry at least 128 random bits and do not repeat', () => {
    const ids = Array.from({ length: 2000 }, () => newSecretId());
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(Buffer.from(id, 'base64url').length * 8 >= 128, id);
  });
});
