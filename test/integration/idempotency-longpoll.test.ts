/** Idempotent submits, long-polled status, and the queue position and ETA of a waiting task. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('idempotency and long-poll', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm({ delayMs: 100 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }] });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('the same key returns the same task, by header or body, even when sent concurrently', async () => {
    const key = randomUUID();
    const tag = randomUUID();
    const body = { prompt: `once ${tag}` };
    const first = await client.call('POST', '/task/delegate', body, { headers: { 'idempotency-key': key } });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await client.delegate({ ...body, idempotency_key: key });
    assert.equal(again.body.task_id, first.body.task_id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const concurrentKey = randomUUID();
    const burst = await Promise.all(Array.from({ length: 5 }, () => client.delegate({ prompt: `burst ${tag}`, idempotency_key: concurrentKey })));
    assert.equal(new Set(burst.map((r) => r.body.task_id)).size, 1);
    await eventually(async () => (await client.status(first.body.task_id)).body.status === 'completed');
    await eventually(async () => (await client.status(burst[0]!.body.task_id)).body.status === 'completed');
    assert.equal(posts(`once ${tag}`).length, 1);
    assert.equal(posts(`burst ${tag}`).length, 1);
  });

  it('a sync replay of a finished task answers its result at once', async () => {
    const key = randomUUID();
    const first = await client.delegate({ prompt: 'sync once', sync: true, idempotency_key: key });
    assert.equal(first.body.status, 'completed');
    const replay = await client.delegate({ prompt: 'sync once', sync: true, idempotency_key: key });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, first.body);
  });

  it('the same key with a different submission is a 422 naming the key; the same submission spelt differently is a replay', async () => {
    const key = `reuse-${randomUUID()}`;
    const tag = randomUUID();
    const send = (body: unknown) => client.call('POST', '/task/delegate', body, { headers: { 'idempotency-key': key } });
    const first = await send({ prompt: `first ${tag}`, type: 'code', files: [] });
    assert.equal(first.status, 202);
    // The normalised submission decides: defaults written out, another key order, task_type for type, and how the
    // client waits do not make it another task.
    const same = await send({ files: [], priority: 5, task_type: 'code', sync: false, prompt: `first ${tag}`, options: {} });
    assert.equal(same.status, 202, JSON.stringify(same.body));
    assert.equal(same.body.task_id, first.body.task_id);
    assert.equal(same.headers.get('idempotent-replayed'), 'true');
    for (const other of [{ prompt: `second ${tag}`, type: 'code' }, { prompt: `first ${tag}`, type: 'code', priority: 9 }, { prompt: `first ${tag}` }, { prompt: `first ${tag}`, type: 'code', options: { max_tokens: 10 } }]) {
      const reused = await send(other);
      assert.equal(reused.status, 422, JSON.stringify(other));
      assert.equal(reused.body.error.code, 'idempotency_key_reused');
      assert.ok(reused.body.error.message.includes(JSON.stringify(key)), reused.body.error.message);
    }
    // The key still names the first task; no second task was created.
    assert.equal((await send({ prompt: `first ${tag}`, type: 'code' })).body.task_id, first.body.task_id);
    await eventually(async () => (await client.status(first.body.task_id)).body.status === 'completed');
    assert.equal(posts(tag).length, 1);
  });

  it('rejects a header and a body key that differ, and malformed keys', async () => {
    const res = await client.call('POST', '/task/delegate', { prompt: 'x', idempotency_key: 'a' }, { headers: { 'idempotency-key': 'b' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'idempotency_key');
    for (const bad of ['', 'x'.repeat(256), 42, 'tab\there']) {
      const r = await client.delegate({ prompt: 'x', idempotency_key: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
  });

  it('long-poll answers as soon as the state changes, not at the end of the wait', async () => {
    const id = (await client.delegate({ prompt: 'slow [[delay:700]]' })).body.task_id;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress');
    const t0 = Date.now();
    const res = await client.get(`/task/${id}/status?wait=30`);
    const took = Date.now() - t0;
    assert.equal(res.body.status, 'completed');
    assert.ok(took < 5000, `answered after ${took} ms`);
    const final = Date.now();
    assert.equal((await client.get(`/task/${id}/status?wait=30`)).body.status, 'completed');
    assert.ok(Date.now() - final < 1000, 'a final task answers at once');
    for (const bad of ['-1', '61', 'abc']) assert.equal((await client.get(`/task/${id}/status?wait=${bad}`)).status, 400);
  });

  it('a pending task shows its queue position and, once runs are measured, an ETA', async () => {
    const blocker = (await client.delegate({ prompt: 'blocker [[delay:600]]' })).body.task_id;
    await eventually(async () => (await client.status(blocker)).body.status === 'in_progress');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.delegate({ prompt: `queued ${i}` })).body.task_id);
    const third = (await client.status(ids[2]!)).body;
    assert.equal(third.status, 'pending');
    assert.equal(third.queue_position, 3);
    assert.equal(typeof third.eta_s, 'number', 'earlier runs give an ETA');
    assert.ok(third.eta_s > 0);
    const urgent = (await client.delegate({ prompt: 'urgent', priority: 9 })).body.task_id;
    assert.equal((await client.status(urgent)).body.queue_position, 1);
    assert.equal((await client.status(ids[2]!)).body.queue_position, 4);
    await eventually(async () => (await client.status(ids[2]!)).body.status === 'completed', 8000);
    assert.equal((await client.status(ids[2]!)).body.queue_position, undefined);
  });
});

describe('output so far', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 150 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }] });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('a running task shows its streamed output, and output_from long-polls for more of it', async () => {
    const prompt = 'one two three four five six';
    const id = (await client.delegate({ prompt })).body.task_id;
    await eventually(async () => (await client.status(id)).body.partial_output?.length > 0, 5000);
    let seen = '';
    let polls = 0;
    for (;;) {
      const view = (await client.get(`/task/${id}/status?wait=10&output_from=${seen.length}`)).body;
      polls++;
      if (view.status !== 'in_progress') {
        assert.equal(view.status, 'completed');
        assert.equal(view.partial_output, undefined, 'a finished task has its result instead');
        assert.equal(view.result.output, `echo(fake-model): ${prompt}`);
        break;
      }
      assert.equal(view.partial_output.from, seen.length);
      seen += view.partial_output.text;
      assert.ok(`echo(fake-model): ${prompt}`.startsWith(seen), `streamed so far: ${JSON.stringify(seen)}`);
    }
    assert.ok(polls >= 3, `the output came in ${polls} long-polls, piece by piece`);
    assert.equal((await client.get(`/task/${id}/status?output_from=-1`)).status, 400);
  });
});
