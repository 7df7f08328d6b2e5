/**
 * What the original system's clients send, verbatim, against a real coordinator over real HTTP and a real WebSocket:
 * its documented GraphQL query and mutation, its WebSocket submit_task message, its dashboard address; and the 405
 * a route answers to a method it does not take.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { connectWebSocket as connect } from '../helpers/ws-client.js';

describe("the original system's clients", () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 5 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 2 }] });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  it('GraphQL: the documented mutation selects taskId, the documented query selects result as JSON', async () => {
    const submitted = await client.post('/graphql', { query: 'mutation { submitTask(type:"code", prompt:"Create a REST API", priority:9) { taskId status } }' });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    assert.equal(submitted.body.errors, undefined);
    const { taskId, status } = submitted.body.data.submitTask;
    assert.match(taskId, /^[0-9a-f-]{36}$/);
    assert.equal(status, 'pending');

    const query = `query { task(id:"${taskId}") { id status result } }`;
    await eventually(async () => (await client.post('/graphql', { query })).body.data.task.status === 'completed');
    const done = await client.post('/graphql', { query });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const task = done.body.data.task;
    assert.equal(task.id, taskId);
    assert.equal(task.result.success, true);
    assert.equal(task.result.output, 'echo(fake-model): Create a REST API');
    assert.equal(task.result.error, null);
    // The same result object as REST's.
    assert.deepEqual(task.result, (await client.status(taskId)).body.result);

    const pending = await client.post('/graphql', { query: 'mutation { submitTask(prompt:"slow [[delay:300]]") { taskId result } }' });
    assert.equal(pending.body.data.submitTask.result, null, 'no result before the task ends');
  });

  it('WebSocket: submit_task is validated as POST /task/delegate, answers the task id and pushes its updates', async () => {
    const ws = await connect(`${koubou.url.replace('http', 'ws')}/ws`);
    try {
      const tag = randomUUID();
      ws.send(JSON.stringify({ type: 'submit_task', payload: { type: 'code', prompt: `Generate unit tests ${tag}` } }));
      await eventually(() => ws.messages.some((m) => m.type === 'task_submitted'));
      const answer = ws.messages.find((m) => m.type === 'task_submitted');
      assert.equal(answer.status, 'pending');
      assert.equal(answer.replayed, false);
      const id = answer.task_id;
      const mine = () => ws.messages.filter((m) => m.type === 'event' && m.event.task_id === id);
      await eventually(() => mine().some((m) => m.event.kind === 'completed'));
      // The answer comes before any of the task's events, and none is lost: queued is the first.
      assert.ok(ws.messages.indexOf(answer) < ws.messages.indexOf(mine()[0]));
      assert.equal(mine()[0].event.kind, 'queued');
      assert.equal(mine().filter((m) => m.event.kind === 'progress').map((m) => m.event.chunk).join(''), `echo(fake-model): Generate unit tests ${tag}`);
      assert.equal((await client.status(id)).body.type, 'code');

      // The same validation as REST, naming the field.
      ws.send(JSON.stringify({ type: 'submit_task', payload: { type: 'code', prompt: 'x', priority: 99 } }));
      ws.send(JSON.stringify({ type: 'submit_task', payload: { type: 'poetry', prompt: 'x' } }));
      ws.send(JSON.stringify({ type: 'submit_task' }));
      await eventually(() => ws.messages.filter((m) => m.type === 'error').length === 3);
      const errors = ws.messages.filter((m) => m.type === 'error').map((m) => m.error);
      assert.deepEqual(errors.map((e) => [e.code, e.field]), [['invalid_request', 'priority'], ['invalid_request', 'type'], ['invalid_request', undefined]]);
      const rest = await client.delegate({ type: 'code', prompt: 'x', priority: 99 });
      assert.deepEqual(errors[0], rest.body.error);

      // The same idempotency as REST: a repeat names the first task, another body under the key is refused.
      const key = `ws-${tag}`;
      ws.send(JSON.stringify({ type: 'submit_task', payload: { prompt: `once ${tag}`, idempotency_key: key } }));
      ws.send(JSON.stringify({ type: 'submit_task', payload: { prompt: `once ${tag}`, idempotency_key: key } }));
      ws.send(JSON.stringify({ type: 'submit_task', payload: { prompt: `twice ${tag}`, idempotency_key: key } }));
      await eventually(() => ws.messages.filter((m) => m.type === 'task_submitted').length === 3 && ws.messages.filter((m) => m.type === 'error').length === 4);
      const [, first, repeat] = ws.messages.filter((m) => m.type === 'task_submitted');
      assert.equal(repeat.task_id, first.task_id);
      assert.equal(repeat.replayed, true);
      assert.equal(ws.messages.filter((m) => m.type === 'error').at(-1).error.code, 'idempotency_key_reused');
      const viaRest = await client.delegate({ prompt: `once ${tag}`, idempotency_key: key });
      assert.equal(viaRest.body.task_id, first.task_id);
      await eventually(() => ws.messages.some((m) => m.type === 'event' && m.event.task_id === first.task_id && m.event.kind === 'completed'));
      // Watched once although submitted twice: one completed event, not two.
      assert.equal(ws.messages.filter((m) => m.type === 'event' && m.event.task_id === first.task_id && m.event.kind === 'completed').length, 1);
      assert.equal(posts(`once ${tag}`).length, 1);
    } finally {
      ws.close();
    }
  });

  it('GET /dashboard, where the original docs send people, redirects to the dashboard at /', async () => {
    for (const path of ['/dashboard']) {
      const res = await fetch(koubou.url + path, { redirect: 'manual' });
      assert.equal(res.status, 301, path);
      assert.equal(res.headers.get('location'), '/');
    }
    const followed = await fetch(`${koubou.url}/dashboard`);
    assert.equal(followed.status, 200);
    assert.match(followed.headers.get('content-type') ?? '', /text\/html/);
  });

  it('a route asked with a method it does not take answers 405 with Allow', async () => {
    const res = await client.get('/task/delegate');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(res.body.error.code, 'method_not_allowed');
    assert.match(res.body.error.message, /\/task\/delegate does not take GET; it takes POST/);
    // The same mechanism for every route, with parameters too.
    const onStatus = await client.call('POST', '/task/abc/status', {});
    assert.equal(onStatus.status, 405);
    assert.equal(onStatus.headers.get('allow'), 'GET');
    assert.equal((await client.call('DELETE', '/tasks')).headers.get('allow'), 'GET');
    assert.equal((await client.call('PUT', '/task/abc')).headers.get('allow'), 'DELETE');
    // A path no route takes stays a 404.
    const none = await client.get('/no/such/route');
    assert.equal(none.status, 404);
    assert.equal(none.headers.get('allow'), null);
  });
});
