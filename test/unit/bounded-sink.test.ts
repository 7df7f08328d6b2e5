import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedSink } from '../../src/events/bounded-sink.js';

describe('bounded sink', () => {
  it('delivers in order through a writer that keeps up', async () => {
    const seen: number[] = [];
    const sink = new BoundedSink<number>(async (n) => void seen.push(n), 100, () => assert.fail('dropped'));
    for (let i = 0; i < 100; i++) sink.push(i);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  });

  it('drops a stalled client once maxPending messages wait, without blocking the publisher', () => {
    const reasons: string[] = [];
    const sink = new BoundedSink<number>(() => new Promise(() => {}), 5, (r) => reasons.push(r));
    for (let i = 0; i < 1000; i++) sink.push(i);
    assert.equal(sink.isDropped, true);
    assert.deepEqual(reasons, ['the client fell more than 5 events behind']);
  });

  it('drops a client whose connection fails', async () => {
    const reasons: string[] = [];
    const sink = new BoundedSink<number>(async () => Promise.reject(new Error('EPIPE')), 5, (r) => reasons.push(r));
    sink.push(1);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(reasons, ['the connection failed']);
    sink.push(2);
    assert.equal(reasons.length, 1);
  });
});
