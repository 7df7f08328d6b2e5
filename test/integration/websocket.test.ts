/** GET /ws: subscribe to task and worker events, ping/pong, get_stats, bad messages, the token in the query. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { connectWebSocket as connect } from '../helpers/ws-client.js';

describe('WebSocket /ws', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let wsUrl: string;

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 10 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 2 }], extra: { server: { api_token: 'ws-token' } } });
    client = api(koubou.url, 'ws-token');
    wsUrl = `${koubou.url.replace('http', 'ws')}/ws?access_token=ws-token`;
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('streams a subscribed task from queued to completed, with its output', async () => {
    const ws = await connect(wsUrl);
    try {
      ws.send({ type: 'subscribe', channel: 'task' });
      await eventually(() => ws.messages.some((m) => m.type === 'subscribed'));
      const id = (await client.delegate({ prompt: 'over the socket' })).body.task_id;
      await eventually(() => ws.messages.some((m) => m.type === 'event' && m.event.task_id === id && m.event.kind === 'completed'));
      const kinds = ws.messages.filter((m) => m.type === 'event' && m.event.task_id === id).map((m) => m.event.kind);
      assert.equal(kinds[0], 'queued');
      assert.equal(kinds.at(-1), 'completed');
      const chunks = ws.messages.filter((m) => m.type === 'event' && m.event.task_id === id && m.event.kind === 'progress').map((m) => m.event.chunk);
      assert.equal(chunks.join(''), 'echo(fake-model): over the socket');
      ws.send({ type: 'unsubscribe', channel: 'task' });
      await eventually(() => ws.messages.some((m) => m.type === 'unsubscribed'));
      const seen = ws.messages.length;
      await client.delegate({ prompt: 'after unsubscribing', sync: true });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(ws.messages.filter((m, i) => i >= seen && m.type === 'event').length, 0);
    } finally {
      ws.close();
    }
  });

  it('answers ping and get_stats, reports worker events, and names bad messages', async () => {
    const ws = await connect(wsUrl);
    try {
      ws.send({ type: 'ping' });
      ws.send({ type: 'get_stats' });
      ws.send({ type: 'subscribe', channel: 'worker' });
      ws.send({ type: 'subscribe', channel: 'nope' });
      ws.send({ type: 'launch' });
      ws.send({ type: 'submit_task', payload: { prompt: 'deep', nested: JSON.parse('['.repeat(150) + ']'.repeat(150)) } });
      await eventually(() => ws.messages.filter((m) => m.type === 'error').length === 3 && ws.messages.some((m) => m.type === 'stats'));
      assert.match(ws.messages.filter((m) => m.type === 'error')[2].error.message, /messages may nest arrays and objects at most 100 levels deep/);
      assert.ok(ws.messages.some((m) => m.type === 'pong'));
      assert.equal(ws.messages.find((m) => m.type === 'stats').stats.status, 'ok');
      assert.match(ws.messages.filter((m) => m.type === 'error')[0].error.message, /channel must be one of task, worker, system/);
      // A burst makes the pool scale up: a worker 'started' event arrives.
      await Promise.all([1, 2, 3].map((i) => client.delegate({ prompt: `burst ${i} [[delay:200]]` })));
      await eventually(() => ws.messages.some((m) => m.type === 'event' && m.channel === 'worker' && m.event.kind === 'started'), 5000);
    } finally {
      ws.close();
    }
  });

  it('limits subscriptions per socket, naming the limit, and closes a socket that sends an oversized message (1009)', async () => {
    const ws = await connect(wsUrl);
    try {
      for (let i = 0; i < 101; i++) ws.send({ type: 'subscribe', channel: 'task', task_id: `t-${i}` });
      await eventually(() => ws.messages.filter((m) => m.type === 'subscribed').length === 100 && ws.messages.some((m) => m.type === 'error'));
      assert.equal(ws.messages.find((m) => m.type === 'error').error.code, 'too_many_subscriptions');
      // Unsubscribing makes room again.
      ws.send({ type: 'unsubscribe', channel: 'task', task_id: 't-0' });
      ws.send({ type: 'subscribe', channel: 'task', task_id: 't-100' });
      await eventually(() => ws.messages.some((m) => m.type === 'subscribed' && m.task_id === 't-100'));
      ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(64 * 1024) }));
      assert.equal(await ws.closed, 1009);
    } finally {
      ws.close();
    }
  });

  it('refuses a connection without the token', async () => {
    await assert.rejects(connect(`${koubou.url.replace('http', 'ws')}/ws`));
  });
});
