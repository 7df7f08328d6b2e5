/** GET /events: a task's whole life, output chunks included, in order and promptly; filters, shared or not; auth; bad filters. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { openSse, type SseClient } from '../helpers/sse.js';

describe('live events over SSE', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const auth = { authorization: 'Bearer ev-token' };
  const opened: SseClient[] = [];
  const open = async (query = '') => {
    const sse = await openSse(`${koubou.url}/events${query}`, auth);
    opened.push(sse);
    await eventually(() => sse.messages.some((m) => m.event === 'ready'));
    return sse;
  };

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 30 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { server: { api_token: 'ev-token' } } });
    client = api(koubou.url, 'ev-token');
  });
  after(async () => {
    for (const sse of opened) sse.close();
    await koubou.close();
    await fake.close();
  });

  it('streams a task from queued to completed, with its output chunk by chunk, within 100 ms of each change', async () => {
    const all = await open();
    // A watcher that never reads stays connected throughout. A few events cannot fill its buffers, so this only shows
    // that its presence changes nothing here; the drop rule for a watcher that falls behind is in slow-readers.test.ts.
    const stalled = await fetch(`${koubou.url}/events`, { headers: auth });
    const prompt = 'watch me stream';
    const id = (await client.delegate({ prompt })).body.task_id;
    await eventually(() => all.messages.some((m) => m.data.task_id === id && m.data.kind === 'completed'), 5000);
    const mine = all.messages.filter((m) => m.data.task_id === id);
    const kinds = mine.map((m) => m.data.kind);
    assert.equal(kinds[0], 'queued');
    assert.equal(kinds.at(-1), 'completed');
    assert.ok(kinds.indexOf('assigned') < kinds.indexOf('progress'));
    assert.equal(mine.filter((m) => m.data.kind === 'progress').map((m) => m.data.chunk).join(''), `echo(fake-model): ${prompt}`);
    const delays = mine.map((m) => m.receivedAt - Date.parse(m.data.at)).sort((a, b) => a - b);
    assert.ok(delays[Math.floor(delays.length / 2)]! <= 100, `median delay ${delays[Math.floor(delays.length / 2)]} ms`);
    await stalled.body?.cancel();
  });

  it('filters by task and by kind', async () => {
    const first = (await client.delegate({ prompt: 'first' })).body.task_id;
    const onlyFirst = await open(`?task=${first}&kind=completed,failed`);
    const second = (await client.delegate({ prompt: 'second', sync: true })).body.task_id;
    await eventually(async () => (await client.status(first)).body.status === 'completed');
    await eventually(() => onlyFirst.messages.some((m) => m.event === 'task'));
    await new Promise((r) => setTimeout(r, 100));
    const tasks = onlyFirst.messages.filter((m) => m.event === 'task');
    assert.equal(tasks.length, 1, JSON.stringify(tasks));
    assert.equal(tasks[0]!.data.task_id, first);
    assert.equal(tasks[0]!.data.kind, 'completed');
    assert.ok(!tasks.some((m) => m.data.task_id === second));
  });

  it('gives watchers that share a filter, and watchers that do not, exactly their events in publish order', async () => {
    const all = await open();
    const queuedOrDone = await open('?kind=queued,completed');
    const sameFilter = await open('?kind=completed,queued');
    const doneOnly = await open('?kind=completed');
    const first = (await client.delegate({ prompt: 'fan-out first' })).body.task_id as string;
    const oneTask = await open(`?task=${first}`);
    const rest = await Promise.all(Array.from({ length: 11 }, (_, i) => client.delegate({ prompt: `fan-out ${i}` }).then((r) => r.body.task_id as string)));
    const ids = [first, ...rest];
    const done = (sse: SseClient) => ids.every((id) => sse.messages.some((m) => m.data.task_id === id && m.data.kind === 'completed'));
    await eventually(() => [all, queuedOrDone, sameFilter, doneOnly].every(done), 10_000);
    const seen = (sse: SseClient) => sse.messages.filter((m) => m.event === 'task' && ids.includes(m.data.task_id)).map((m) => `${m.data.task_id} ${m.data.kind} ${m.data.at}`);
    const reference = all.messages.filter((m) => m.event === 'task' && ids.includes(m.data.task_id));
    const only = (kinds: string[]) => reference.filter((m) => kinds.includes(m.data.kind)).map((m) => `${m.data.task_id} ${m.data.kind} ${m.data.at}`);
    for (const id of ids) {
      const kinds = reference.filter((m) => m.data.task_id === id).map((m) => m.data.kind);
      assert.deepEqual([kinds[0], kinds.at(-1)], ['queued', 'completed'], `${id}: ${kinds}`);
      assert.ok(kinds.indexOf('assigned') < kinds.indexOf('progress'), `${id}: ${kinds}`);
    }
    assert.deepEqual(seen(queuedOrDone), only(['queued', 'completed']));
    assert.deepEqual(seen(sameFilter), seen(queuedOrDone));
    assert.deepEqual(seen(doneOnly), only(['completed']));
    assert.equal(seen(doneOnly).length, ids.length);
    // Opened once its task was submitted (it may have ended by then): that task's events from then on, no other's.
    const late = oneTask.messages.filter((m) => m.event === 'task');
    assert.ok(late.every((m) => m.data.task_id === first), JSON.stringify(late));
    const history = reference.filter((m) => m.data.task_id === first).map((m) => `${m.data.kind} ${m.data.at}`);
    assert.deepEqual(late.map((m) => `${m.data.kind} ${m.data.at}`), history.slice(history.length - late.length));
  });

  it('needs the token, and names a bad filter', async () => {
    assert.equal((await openSse(`${koubou.url}/events`)).status, 401);
    const bad = await client.get('/events?kind=exploded');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'kind');
  });
});
