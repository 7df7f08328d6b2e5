/**
 * Cancellation end to end: a pending task never starts and leaves the scheduler's queue (the tasks behind it move up);
 * a running one has its backend request aborted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('cancellation', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }] });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  async function startHanging(tag: string): Promise<string> {
    const id = (await client.delegate({ prompt: `[[mode:hang]] ${tag}` })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress' && posts(tag).length === 1);
    return id;
  }

  it('cancels a running task within a second: the backend sees its request aborted, the worker takes new work', async () => {
    const tag = randomUUID();
    const id = await startHanging(tag);
    const t0 = Date.now();
    const res = await client.call('DELETE', `/task/${id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { task_id: id, status: 'cancelled' });
    await eventually(() => posts(tag)[0]!.aborted, 1000);
    assert.ok(Date.now() - t0 < 1000, `aborted after ${Date.now() - t0} ms`);
    const events = (await client.get(`/task/${id}/events`)).body.events.map((e: { kind: string }) => e.kind);
    assert.deepEqual(events, ['queued', 'assigned', 'cancelled']);
    const next = await client.delegate({ prompt: 'after the cancel', sync: true });
    assert.equal(next.body.status, 'completed');
    assert.equal((await client.status(id)).body.status, 'cancelled', 'still cancelled');
  });

  it('a cancelled pending task never reaches the backend', async () => {
    const blockerTag = randomUUID();
    const blocker = await startHanging(blockerTag);
    const waitingTag = randomUUID();
    const waiting = (await client.delegate({ prompt: `waiting ${waitingTag}`, priority: 10 })).body.task_id;
    const res = await client.post(`/task/${waiting}/cancel`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    await client.call('DELETE', `/task/${blocker}`);
    const later = await client.delegate({ prompt: 'runs next', sync: true });
    assert.equal(later.body.status, 'completed');
    assert.equal(posts(waitingTag).length, 0);
    assert.equal((await client.status(waiting)).body.status, 'cancelled');
    const health = (await client.get('/health')).body;
    assert.equal(health.queue.pending, 0);
    assert.equal(health.queue.in_progress, 0);
  });

  it('a cancelled pending task leaves the scheduler\'s queue: the tasks behind it move up', async () => {
    const blocker = await startHanging(randomUUID());
    const submit = async (label: string) => (await client.delegate({ prompt: `${label} ${randomUUID()}`, priority: 7 })).body.task_id as string;
    const first = await submit('first');
    const second = await submit('second');
    const third = await submit('third');
    // The scheduler's own answer: how many queued tasks go before this one.
    const position = async (id: string) => (await client.status(id)).body.queue_position as number | undefined;
    await eventually(async () => (await position(third)) === 3);
    await client.call('DELETE', `/task/${first}`);
    await eventually(async () => (await position(third)) === 2);
    assert.equal(await position(second), 1);
    await client.call('DELETE', `/task/${second}`);
    await eventually(async () => (await position(third)) === 1);
    assert.equal(await position(first), undefined, 'a cancelled task has no place in the queue');
    await client.call('DELETE', `/task/${blocker}`);
    await eventually(async () => (await client.status(third)).body.status === 'completed');
    const health = (await client.get('/health')).body;
    assert.equal(health.queue.pending, 0);
  });

  it('cancelling twice is fine; a finished task answers 409; an unknown one 404', async () => {
    const done = (await client.delegate({ prompt: 'finish me', sync: true })).body.task_id;
    const finished = await client.call('DELETE', `/task/${done}`);
    assert.equal(finished.status, 409);
    assert.equal(finished.body.error.code, 'task_already_finished');
    const id = await startHanging(randomUUID());
    assert.equal((await client.call('DELETE', `/task/${id}`)).status, 200);
    const again = await client.call('DELETE', `/task/${id}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'cancelled');
    const unknown = await client.post('/task/no-such-task/cancel');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'task_not_found');
  });
});
