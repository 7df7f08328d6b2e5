/** The task store on a real SQLite file: transitions, leases, recovery, and the group-commit writer. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/store.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { tempDir } from '../helpers/temp.js';

/** Opens a fresh store file before the suite and closes it after; `use` receives it. */
function storeFixture(use: (store: Store, clock: ManualClock) => void, file = 'k.db'): void {
  const dir = tempDir();
  let opened: Store;
  before(async () => {
    const clock = new ManualClock();
    opened = await openStore(join(dir.path, file), clock);
    use(opened, clock);
  });
  after(async () => {
    await opened.close();
    dir.remove();
  });
}

const newTask = (id: string, priority = 5) => ({ id, type: 'general' as const, prompt: `prompt ${id}`, files: [], options: {}, priority });

describe('task store', () => {
  let store!: Store;
  // A directory that does not exist yet: opening creates it.
  storeFixture((opened) => (store = opened), join('sub', 'k.db'));

  it('inserts, assigns under a lease, and only that lease may finish', async () => {
    const inserted = await store.tasks.insert(newTask('t1'));
    assert.ok('queued' in inserted);
    assert.equal(inserted.queued.priority, 5);
    const assigned = await store.tasks.assign('t1', 'w1', 'lease-a');
    assert.equal(assigned?.attempt, 1);
    assert.equal((await store.tasks.get('t1'))?.status, 'in_progress');
    assert.equal(await store.tasks.assign('t1', 'w2', 'lease-b'), null, 'an in-progress task cannot be assigned again');
    assert.equal(await store.tasks.finish('t1', 'stale', { status: 'completed', output: 'x' }), null);
    const done = await store.tasks.finish('t1', 'lease-a', { status: 'completed', output: 'ok' });
    assert.equal(done?.kind, 'completed');
    assert.equal(await store.tasks.finish('t1', 'lease-a', { status: 'failed', error: { code: 'x', message: 'late' } }), null);
    const t = await store.tasks.get('t1');
    assert.equal(t?.status, 'completed');
    assert.equal(t?.output, 'ok');
    assert.deepEqual((await store.tasks.events('t1')).map((e) => e.kind), ['queued', 'assigned', 'completed']);
  });

  it('keeps how an answer ended, its reasoning apart, and the start of an answer refused for its size', async () => {
    const answer = { finishReason: 'length' as const, truncated: true, model: 'served:1b', usage: { promptTokens: 3, completionTokens: 9, reasoningTokens: 4 } };
    await store.tasks.insert(newTask('a1'));
    await store.tasks.assign('a1', 'w1', 'l1');
    await store.tasks.finish('a1', 'l1', { status: 'completed', output: 'cut', answer: { ...answer, reasoning: 'why' } });
    assert.deepEqual((await store.tasks.get('a1'))?.answer, { ...answer, reasoning: 'why' });

    await store.tasks.insert(newTask('a2'));
    await store.tasks.assign('a2', 'w1', 'l2');
    await store.tasks.finish('a2', 'l2', { status: 'failed', error: { code: 'output_too_large', message: 'too long' }, output: 'first bytes', answer });
    const refused = await store.tasks.get('a2');
    assert.equal(refused?.output, 'first bytes');
    assert.deepEqual(refused?.answer, answer, 'no reasoning column value: none kept');

    await store.tasks.insert(newTask('a3'));
    await store.tasks.assign('a3', 'w1', 'l3');
    await store.tasks.finish('a3', 'l3', { status: 'failed', error: { code: 'backend_unavailable', message: 'down' } });
    assert.equal((await store.tasks.get('a3'))?.answer, null, 'no answer came');
  });

  it('requeues for the current lease only, keeping the attempt count', async () => {
    await store.tasks.insert(newTask('t2'));
    await store.tasks.assign('t2', 'w1', 'l1');
    assert.equal(await store.tasks.requeue('t2', 'other', 'lost', 3), null);
    const again = await store.tasks.requeue('t2', 'l1', 'lost', 3);
    assert.equal(again?.queued?.id, 't2');
    const t = await store.tasks.get('t2');
    assert.equal(t?.status, 'pending');
    assert.equal(t?.attempts, 1);
    assert.equal(t?.lease, null);
  });

  it('recovers orphans and lists the pending queue in dispatch order', async () => {
    await store.tasks.insert(newTask('low', 1));
    await store.tasks.insert(newTask('high', 9));
    await store.tasks.assign('high', 'w9', 'lh');
    const events = await store.tasks.requeueOrphans('restart');
    assert.deepEqual(events.map((e) => e.taskId), ['high']);
    const queue = (await store.tasks.pendingQueue()).map((q) => q.id);
    assert.deepEqual(queue, ['high', 't2', 'low']);
  });

  it('commits concurrent writes in shared transactions, and one failing write does not fail its neighbours', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    const results = await Promise.allSettled([...ids.map((id) => store.tasks.insert(newTask(id))), store.tasks.insert(newTask('bulk-7'))]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 200);
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 1, 'only the duplicate id fails');
    assert.match(String((rejected[0] as PromiseRejectedResult).reason), /UNIQUE/);
    const counts = await store.tasks.countByStatus();
    assert.equal(counts.pending, 203);
  });
});

describe('task store retries and attempt limits', () => {
  let store!: Store;
  storeFixture((opened) => (store = opened));

  it('retry puts the task back with the error and backoff in its history', async () => {
    await store.tasks.insert(newTask('r1'));
    await store.tasks.assign('r1', 'w1', 'a1');
    const retried = await store.tasks.retry('r1', 'a1', { code: 'backend_http_error', message: '500' }, 1500);
    assert.equal(retried?.queued.id, 'r1');
    assert.equal(retried?.event.kind, 'retried');
    assert.deepEqual(retried?.event.detail, { error: { code: 'backend_http_error', message: '500' }, retry_in_ms: 1500 });
    assert.equal((await store.tasks.get('r1'))?.status, 'pending');
    assert.equal(await store.tasks.retry('r1', 'a1', { code: 'x', message: 'late' }, 1), null, 'a stale lease cannot retry');
  });

  it('a lost worker fails the task once its attempts are used up', async () => {
    await store.tasks.insert(newTask('r2'));
    for (let attempt = 1; attempt <= 2; attempt++) {
      await store.tasks.assign('r2', 'w1', `l${attempt}`);
      const r = await store.tasks.requeue('r2', `l${attempt}`, 'worker died', 3);
      assert.equal(r?.queued?.id, 'r2', `attempt ${attempt} is requeued`);
    }
    await store.tasks.assign('r2', 'w1', 'l3');
    const last = await store.tasks.requeue('r2', 'l3', 'worker died', 3);
    assert.equal(last?.queued, null);
    assert.equal(last?.event.kind, 'failed');
    const t = await store.tasks.get('r2');
    assert.equal(t?.status, 'failed');
    assert.equal(t?.error?.code, 'worker_lost');
    assert.match(t?.error?.message ?? '', /attempt 3 of 3/);
  });
});

describe('task store cancellation', () => {
  let store!: Store;
  storeFixture((opened) => (store = opened));

  it('a cancelled running task stays cancelled whatever its old run reports later', async () => {
    await store.tasks.insert(newTask('c1'));
    await store.tasks.assign('c1', 'w1', 'run-1');
    const result = await store.tasks.cancel('c1');
    assert.deepEqual(result && { ...result, event: undefined }, { cancelled: true, from: 'in_progress', lease: 'run-1', event: undefined });
    assert.equal(await store.tasks.finish('c1', 'run-1', { status: 'completed', output: 'late' }), null);
    assert.equal(await store.tasks.retry('c1', 'run-1', { code: 'x', message: 'late' }, 1), null);
    assert.equal(await store.tasks.requeue('c1', 'run-1', 'lost', 3), null);
    const t = await store.tasks.get('c1');
    assert.equal(t?.status, 'cancelled');
    assert.equal(t?.output, null);
    assert.deepEqual((await store.tasks.events('c1')).map((e) => e.kind), ['queued', 'assigned', 'cancelled']);
  });

  it('reports the state of a task that cannot be cancelled, and null for an unknown id', async () => {
    await store.tasks.insert(newTask('c2'));
    await store.tasks.assign('c2', 'w1', 'l');
    await store.tasks.finish('c2', 'l', { status: 'completed', output: 'ok' });
    assert.deepEqual(await store.tasks.cancel('c2'), { cancelled: false, status: 'completed' });
    assert.equal(await store.tasks.cancel('nope'), null);
    await store.tasks.insert(newTask('c3'));
    assert.equal((await store.tasks.cancel('c3'))?.cancelled, true);
    assert.deepEqual(await store.tasks.cancel('c3'), { cancelled: false, status: 'cancelled' });
    assert.equal(await store.tasks.assign('c3', 'w1', 'l3'), null, 'a cancelled task is never assigned');
  });
});

describe('task store idempotency keys', () => {
  let store!: Store;
  let clock!: ManualClock;
  storeFixture((opened, c) => ((store = opened), (clock = c)));

  it('a repeated key names the first task; concurrent repeats insert once', async () => {
    const results = await Promise.all([1, 2, 3].map((i) => store.tasks.insert({ ...newTask(`k${i}`), idempotencyKey: 'same' })));
    const created = results.filter((r) => 'queued' in r);
    assert.equal(created.length, 1);
    for (const r of results) if ('existing' in r) assert.equal(r.existing, 'k1');
    assert.equal((await store.tasks.countByStatus()).pending, 1);
  });

  it('keeps the fingerprint with the key: another one is a reuse, a row stored before fingerprints counts as the same', async () => {
    await store.tasks.insert({ ...newTask('f1'), idempotencyKey: 'fp', idempotencyFingerprint: 'aaa' });
    assert.deepEqual(await store.tasks.insert({ ...newTask('f2'), idempotencyKey: 'fp', idempotencyFingerprint: 'aaa' }), { existing: 'f1', sameSubmission: true });
    assert.deepEqual(await store.tasks.insert({ ...newTask('f3'), idempotencyKey: 'fp', idempotencyFingerprint: 'bbb' }), { existing: 'f1', sameSubmission: false });
    await store.tasks.insert({ ...newTask('legacy'), idempotencyKey: 'old-row' });
    assert.deepEqual(await store.tasks.insert({ ...newTask('l2'), idempotencyKey: 'old-row', idempotencyFingerprint: 'ccc' }), { existing: 'legacy', sameSubmission: true });
  });

  it('a key older than 24 h may name a new task', async () => {
    await store.tasks.insert({ ...newTask('old'), idempotencyKey: 'daily' });
    clock.advance(24 * 60 * 60 * 1000 + 1);
    const again = await store.tasks.insert({ ...newTask('new'), idempotencyKey: 'daily' });
    assert.ok('queued' in again && again.queued.id === 'new');
  });
});

