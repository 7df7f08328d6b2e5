import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PendingQueue } from '../../src/supervision/priority-queue.js';

const task = (id: string, priority: number, seq: number) => ({ id, priority, seq, type: 'general' as const, anyType: false, model: null, chat: false, maxTokens: null, workdir: null });

describe('pending queue', () => {
  it('pops by priority desc, then oldest first, across many random inserts', () => {
    const q = new PendingQueue();
    const all = Array.from({ length: 500 }, (_, i) => task(`t${i}`, 1 + ((i * 7919) % 10), i));
    for (const t of [...all].sort(() => Math.random() - 0.5)) q.push(t);
    const expected = [...all].sort((a, b) => b.priority - a.priority || a.seq - b.seq).map((t) => t.id);
    const popped: string[] = [];
    while (q.size > 0) popped.push(q.pop()!.id);
    assert.deepEqual(popped, expected);
  });

  it('ignores a duplicate id and removes by id', () => {
    const q = new PendingQueue();
    q.push(task('a', 5, 1));
    q.push(task('a', 9, 2));
    q.push(task('b', 3, 3));
    q.push(task('c', 7, 4));
    assert.equal(q.size, 3);
    assert.equal(q.remove('c'), true);
    assert.equal(q.remove('c'), false);
    assert.deepEqual([q.pop()!.id, q.pop()!.id, q.pop()], ['a', 'b', undefined]);
  });
});

describe('pending queue: both ends', () => {
  it('pops the least urgent from the tail, counts positions, and keeps requeued tasks in age order', () => {
    const q = new PendingQueue();
    for (const [id, p, s] of [['a', 5, 10], ['b', 9, 11], ['c', 1, 12], ['d', 5, 13]] as const) q.push(task(id, p, s));
    q.push(task('old', 5, 2));
    assert.equal(q.countBefore(q.find('d')!), 3);
    assert.equal(q.peekLast()!.id, 'c');
    assert.deepEqual([q.popLast()!.id, q.popLast()!.id, q.pop()!.id, q.pop()!.id, q.pop()!.id, q.pop()], ['c', 'd', 'b', 'old', 'a', undefined]);
  });
});
