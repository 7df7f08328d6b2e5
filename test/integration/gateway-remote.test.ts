/**
 * Models served only by a koubou-node (over a real nats-server), its default and the others it announces, are listed by
 * the gateway in both protocols and served, streamed; the node's Ollama versions count in what /api/version reports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { closedPort } from '../helpers/ports.js';

const TOKEN = 'pool-secret';

describe('gateway: a model served by a koubou-node', () => {
  let nats: NatsServer;
  let local: FakeLlm;
  let remote: FakeLlm;
  let node: NodeProcess;
  let koubou: TestCoordinator;
  let client: OpenAI;

  before(async () => {
    nats = await startNatsServer();
    local = await startFakeLlm();
    remote = await startFakeLlm({ models: ['node-model', 'node-extra'] });
    koubou = await startTestCoordinator({ backends: [{ url: local.url, model: 'local-model' }], extra: { nats: { url: nats.url, pool_token: TOKEN } } });
    node = startNodeProcess(['--nats', nats.url, '--id', 'node-a', '--backend', 'ollama', '--url', remote.url, '--model', 'node-model', '--models', 'node-extra', '--concurrency', '1', '--token', TOKEN]);
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await koubou.close();
    await local.close();
    await remote.close();
    await nats.close();
  });

  it('lists the node model once the node has joined, and streams its answer through the node', async () => {
    const ids = async () => {
      const out: string[] = [];
      for await (const m of client.models.list()) out.push(m.id);
      return out;
    };
    await eventually(async () => (await ids()).includes('node-model'), 15_000);
    assert.ok((await ids()).includes('local-model'));
    // The node's other announced model too, in both protocols' listings.
    assert.ok((await ids()).includes('node-extra'));
    const tags = (await (await fetch(`${koubou.url}/api/tags`)).json()) as { models: { name: string }[] };
    assert.deepEqual(tags.models.map((m) => m.name).sort(), ['local-model:latest', 'node-extra:latest', 'node-model:latest']);
    const extra = await client.chat.completions.create({ model: 'node-extra', messages: [{ role: 'user', content: 'the other one' }] });
    assert.equal(extra.choices[0]!.message.content, 'echo(node-extra): the other one');
    let text = '';
    const stream = await client.chat.completions.create({ model: 'node-model', stream: true, messages: [{ role: 'user', content: '[[split]] 遠くのノード' }] });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'echo(node-model): [[split]] 遠くのノード');
    assert.equal(remote.requests.filter((r) => r.method === 'POST').length, 2);
    assert.equal(local.requests.filter((r) => r.method === 'POST').length, 0);
  });
});

describe('gateway: /api/version counts the Ollama backends of koubou-nodes', () => {
  let nats: NatsServer;
  let local: FakeLlm;
  let sourceBuild: FakeLlm;
  let remote: FakeLlm;
  let node: NodeProcess | null = null;
  let koubou: TestCoordinator;
  const version = async () => (await new Ollama({ host: koubou.url }).version()).version;

  before(async () => {
    nats = await startNatsServer();
    local = await startFakeLlm({ ollamaVersion: '0.14.2' });
    // An Ollama built from source says 0.0.0, which says nothing of its features; an unreachable one says nothing.
    sourceBuild = await startFakeLlm({ ollamaVersion: '0.0.0' });
    remote = await startFakeLlm({ models: ['node-model'], ollamaVersion: '0.13.4' });
    koubou = await startTestCoordinator({
      backends: [
        { name: 'oll', type: 'ollama', url: local.url, model: 'local-model' },
        { name: 'dev', type: 'ollama', url: sourceBuild.url, model: 'dev-model' },
        { name: 'away', type: 'ollama', url: `http://127.0.0.1:${await closedPort()}`, model: 'away-model' },
      ],
      extra: { nats: { url: nats.url, pool_token: TOKEN } },
    });
  });
  after(async () => {
    node?.child.kill('SIGKILL');
    await koubou.close();
    await Promise.all([local.close(), sourceBuild.close(), remote.close()]);
    await nats.close();
  });

  it('is the oldest live one: a node\'s older Ollama while the node is in the pool, the local one after it left', async () => {
    assert.equal(await version(), '0.14.2');
    node = startNodeProcess(['--nats', nats.url, '--id', 'node-v', '--backend', 'ollama', '--url', remote.url, '--model', 'node-model', '--concurrency', '1', '--token', TOKEN]);
    await eventually(async () => (await version()) === '0.13.4', 15_000);
    // The node asked its own Ollama (the coordinator never reaches it).
    assert.ok(remote.requests.some((r) => r.method === 'GET' && r.path === '/api/version'));
    node.child.kill('SIGKILL');
    await node.exited;
    await eventually(async () => (await version()) === '0.14.2', 15_000);
  });
});
