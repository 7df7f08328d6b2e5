import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/backends/retry-after.js';

const now = Date.parse('2026-11-30T12:00:00Z');

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('6', now), 6000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter(['2', '9'], now), 2000);
  });

  it('reads an HTTP-date in each of its three forms', () => {
    assert.equal(parseRetryAfter('Mon, 30 Nov 2026 12:00:06 GMT', now), 6000);
    assert.equal(parseRetryAfter('Monday, 30-Nov-26 12:00:06 GMT', now), 6000);
    assert.equal(parseRetryAfter('Mon Nov 30 12:00:06 2026', now), 6000);
    assert.equal(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: no wait');
  });

  it('ignores what is neither, and caps a very long wait', () => {
    for (const bad of [undefined, '', 'soon', '-1', '1.5', '12abc', 'Tomorrow']) assert.equal(parseRetryAfter(bad, now), null, String(bad));
    assert.equal(parseRetryAfter('86400', now), MAX_RETRY_AFTER_MS);
  });
});
