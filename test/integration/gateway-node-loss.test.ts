/**
 * A gateway request for a model only a koubou-node serves, over a real nats-server, when that node is killed (-9)
 * in the middle of the answer: the request is never handed to a local backend serving another model; it waits for a
 * worker serving its model, and, having sent its client nothing yet, is answered whole once the node is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const TOKEN = 'pool-secret';

describe('gateway: the node serving the model dies mid-answer', () => {
  let nats: NatsServer;
  let local: FakeLlm;
  let remote: FakeLlm;
  let node: NodeProcess | null = null;
  let koubou: TestCoordinator;
  let client: OpenAI;
  const startNode = () =>
    (node = startNodeProcess(['--nats', nats.url, '--id', 'node-a', '--backend', 'ollama', '--url', remote.url, '--model', 'node-model', '--concurrency', '1', '--token', TOKEN]));
  const served = async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    return ids.includes('node-model');
  };

  before(async () => {
    nats = await startNatsServer();
    local = await startFakeLlm({ models: ['local-model'] });
    remote = await startFakeLlm({ models: ['node-model'] });
    koubou = await startTestCoordinator({
      backends: [{ name: 'local', url: local.url, model: 'local-model' }],
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { heartbeat_interval_ms: 200, heartbeat_timeout_ms: 800 }, tasks: { max_attempts: 5 } },
    });
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    startNode();
    await eventually(served, 15_000);
  });
  after(async () => {
    node?.child.kill('SIGKILL');
    await koubou.close();
    await local.close();
    await remote.close();
    await nats.close();
  });

  it('waits for a worker serving the model, never a local one, and answers whole once the node is back', async () => {
    const prompt = '[[chunk-delay:300]] one two three four five';
    const answer = client.chat.completions.create({ model: 'node-model', messages: [{ role: 'user', content: prompt }] }).withResponse();
    // The node's backend is answering, piece by piece, when the node is killed.
    await eventually(() => remote.requests.some((r) => r.method === 'POST' && r.prompt === prompt), 10_000);
    node!.child.kill('SIGKILL');
    assert.equal(await node!.exited, 'SIGKILL');
    const rest = api(koubou.url);
    let waitingFor: { code: string; message: string } | null = null;
    await eventually(async () => {
      const pending = (await rest.get('/tasks?status=pending')).body.tasks as { task_id: string }[];
      waitingFor = pending.length === 1 ? (await rest.status(pending[0]!.task_id)).body.waiting_for : null;
      return waitingFor !== null;
    }, 10_000);
    assert.equal(waitingFor!.code, 'no_capable_worker');
    assert.match(waitingFor!.message, /no worker in the pool serves the model node-model/);
    startNode();
    const { data, response } = await answer;
    assert.equal(data.choices[0]!.message.content, `echo(node-model): ${prompt}`);
    assert.equal(data.model, 'node-model');
    assert.equal(local.requests.filter((r) => r.method === 'POST').length, 0, 'no local backend was asked');
    assert.equal(remote.requests.filter((r) => r.method === 'POST' && r.prompt === prompt).length, 2);
    // The node's outcome travels apart from the answer's last piece.
    const taskId = response.headers.get('x-koubou-task-id')!;
    await eventually(async () => (await rest.status(taskId)).body.status === 'completed', 5_000);
    assert.equal((await rest.status(taskId)).body.attempts, 2);
  });
});
