/**
 * A coordinator whose workers are all on LAN nodes (a small always-on box coordinating GPU machines): the real
 * `koubou start` with `backends: []` and nats.url, a real nats-server and a real `koubou-node`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

describe('a coordinator with no local backends', () => {
  const dir = tempDir();
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: CoordinatorProcess;
  let node: NodeProcess | null = null;

  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    const { file } = writeTestConfig({ dir: dir.path, backends: [], extra: { nats: { url: nats.url } } });
    koubou = await startCoordinatorProcess(file);
  });
  after(async () => {
    node?.child.kill('SIGTERM');
    if (node) await node.exited;
    koubou?.child.kill('SIGTERM');
    await koubou?.exited;
    await fake?.close();
    await nats?.close();
    dir.remove();
  });

  it('starts, queues work, says degraded until a node joins, then runs the work on the node', async () => {
    const client = api(koubou.url);
    await eventually(async () => (await client.get('/health')).body.nats?.state === 'connected', 10_000);
    const before = (await client.get('/health')).body;
    assert.equal(before.status, 'degraded');
    assert.equal(before.workers.total, 0);
    assert.deepEqual(before.backends, []);
    const waiting = (await client.delegate({ prompt: 'for the GPU box' })).body.task_id;
    const pending = (await client.status(waiting)).body;
    assert.equal(pending.status, 'pending');
    assert.deepEqual(pending.waiting_for, { code: 'no_capable_worker', message: 'no worker is in the pool' });

    node = startNodeProcess(['--nats', nats.url, '--id', 'gpu-box', '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model', '--concurrency', '2']);
    await eventually(async () => (await client.status(waiting)).body.status === 'completed', 15_000);
    const done = (await client.status(waiting)).body;
    assert.equal(done.result.output, 'echo(fake-model): for the GPU box');
    assert.match(done.worker_id, /^remote:gpu-box:/);
    const health = (await client.get('/health')).body;
    assert.equal(health.status, 'ok', JSON.stringify(health));
    assert.equal(health.workers.total, 2);
  });
});
