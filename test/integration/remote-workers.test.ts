/**
 * One pool across machines: a coordinator and two koubou-node processes (each with its own fake LLM) joined over a
 * real nats-server. Tasks spread across both; a node killed mid-task loses nothing and completes nothing twice;
 * it rejoins when restarted; a node with a wrong pool token is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const TOKEN = 'pool-secret';

describe('remote workers over NATS', () => {
  let nats: NatsServer;
  let local: FakeLlm;
  const fakes: Record<string, FakeLlm> = {};
  const nodes: Record<string, NodeProcess> = {};
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const posts = (fake: FakeLlm) => fake.requests.filter((r) => r.method === 'POST');
  const remoteWorkers = async (nodeId?: string) =>
    ((await client.get('/workers')).body.workers as { worker_id: string; location: string; status: string }[]).filter(
      (w) => w.location === 'remote' && w.status !== 'gone' && (!nodeId || w.worker_id.startsWith(`remote:${nodeId}:`)),
    );
  const startNode = (id: string, token = TOKEN) =>
    (nodes[id] = startNodeProcess(['--nats', nats.url, '--id', id, '--backend', 'ollama', '--url', fakes[id]!.url, '--model', 'fake-model', '--concurrency', '2', '--token', token]));

  before(async () => {
    nats = await startNatsServer();
    local = await startFakeLlm();
    fakes['node-a'] = await startFakeLlm();
    fakes['node-b'] = await startFakeLlm();
    koubou = await startTestCoordinator({
      // The local backend only starts on demand and stays small, so most work has to go to the nodes.
      backends: [{ url: local.url, min_workers: 0, max_workers: 1 }],
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { heartbeat_interval_ms: 200, heartbeat_timeout_ms: 800 }, tasks: { max_attempts: 5 } },
    });
    client = api(koubou.url);
    startNode('node-a');
    startNode('node-b');
    await eventually(async () => (await remoteWorkers()).length === 4, 10_000);
  });
  after(async () => {
    for (const n of Object.values(nodes)) n.child.kill('SIGKILL');
    await koubou.close();
    for (const f of [local, ...Object.values(fakes)]) await f.close();
    await nats.close();
  });

  async function runBatch(count: number, tag: string, delayMs: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await client.delegate({ prompt: `[[delay:${delayMs}]] ${tag} ${i}` })).body.task_id);
    return ids;
  }

  async function allCompletedOnce(ids: string[]): Promise<void> {
    await eventually(async () => {
      for (const id of ids) if ((await client.status(id)).body.status !== 'completed') return false;
      return true;
    }, 20_000, 50);
    for (const id of ids) {
      const kinds = ((await client.get(`/task/${id}/events`)).body.events as { kind: string }[]).map((e) => e.kind);
      assert.equal(kinds.filter((k) => k === 'completed').length, 1, `${id}: ${kinds}`);
      assert.equal(kinds.at(-1), 'completed');
    }
  }

  it('spreads tasks across both nodes, with output streamed back', async () => {
    const ids = await runBatch(10, 'spread', 200);
    await allCompletedOnce(ids);
    assert.ok(posts(fakes['node-a']!).length > 0, 'node-a ran some');
    assert.ok(posts(fakes['node-b']!).length > 0, 'node-b ran some');
    const status = (await client.status(ids[0]!)).body;
    assert.match(status.result.output, /^echo\(fake-model\): \[\[delay:200\]\] spread 0$/);
    // How the answer ended travels back from the node with the output.
    assert.deepEqual([status.result.finish_reason, status.result.truncated, status.result.model], ['stop', false, 'fake-model']);
    assert.equal(status.result.usage.completion_tokens, 4);
  });

  it('a node killed mid-task loses nothing: its tasks finish elsewhere, each exactly once', async () => {
    const before = posts(fakes['node-a']!).length;
    const ids = await runBatch(8, 'kill', 1500);
    await eventually(() => fakes['node-a']!.inFlight > 0, 5000);
    nodes['node-a']!.child.kill('SIGKILL');
    assert.equal(await nodes['node-a']!.exited, 'SIGKILL');
    await allCompletedOnce(ids);
    const requeued = [];
    for (const id of ids) {
      const events = (await client.get(`/task/${id}/events`)).body.events as { kind: string; reason?: string }[];
      requeued.push(...events.filter((e) => e.kind === 'requeued'));
    }
    assert.ok(requeued.length > 0 && requeued.every((e) => /heartbeat lost/.test(e.reason ?? '')), JSON.stringify(requeued));
    assert.ok(posts(fakes['node-a']!).length > before, 'node-a had taken some of them');
    assert.equal((await remoteWorkers('node-a')).length, 0, 'its slots left the pool');
  });

  it('a restarted node joins again and takes work', async () => {
    const before = posts(fakes['node-a']!).length;
    startNode('node-a');
    await eventually(async () => (await remoteWorkers('node-a')).length === 2, 10_000);
    const ids = await runBatch(10, 'rejoined', 200);
    await allCompletedOnce(ids);
    assert.ok(posts(fakes['node-a']!).length > before);
  });

  it('survives a NATS server restart mid-run: everything reconnects and every task finishes once', async () => {
    const ids = await runBatch(8, 'nats-restart', 400);
    await eventually(() => fakes['node-a']!.inFlight + fakes['node-b']!.inFlight > 0, 5000);
    await nats.restart();
    await allCompletedOnce(ids);
    // The nodes are (back) in the pool and take new work.
    await eventually(async () => (await remoteWorkers()).length === 4, 10_000);
    const before = posts(fakes['node-a']!).length + posts(fakes['node-b']!).length;
    await allCompletedOnce(await runBatch(6, 'after-restart', 100));
    assert.ok(posts(fakes['node-a']!).length + posts(fakes['node-b']!).length > before, 'the nodes run tasks again');
  });

  it('publishes worker events on NATS: nodes joining and leaving', async () => {
    const { connectNats } = await import('../../src/nats/connection.js');
    const { silentLogger } = await import('../../src/logger.js');
    const watcher = await connectNats({ url: nats.url, name: 'watcher', log: silentLogger });
    const seen: { worker_id: string; kind: string }[] = [];
    watcher.subscribe('koubou.events.worker.>', (p) => seen.push(p as { worker_id: string; kind: string }));
    try {
      nodes['node-b']!.child.kill('SIGKILL');
      await eventually(() => seen.filter((e) => e.kind === 'left' && e.worker_id.startsWith('remote:node-b:')).length === 2, 5000);
      startNode('node-b');
      await eventually(() => seen.filter((e) => e.kind === 'started' && e.worker_id.startsWith('remote:node-b:')).length === 2, 10_000);
    } finally {
      await watcher.close();
    }
  });

  it('a node started before its coordinator joins once the coordinator is up', async () => {
    fakes['node-early'] = await startFakeLlm();
    const early = (nodes['node-early'] = startNodeProcess(['--nats', nats.url, '--prefix', 'late', '--id', 'node-early', '--backend', 'ollama', '--url', fakes['node-early'].url, '--model', 'fake-model']));
    await eventually(() => /no coordinator answered yet/.test(early.output()), 5000);
    const late = await startTestCoordinator({ backends: [{ url: local.url, min_workers: 0, max_workers: 1 }], extra: { nats: { url: nats.url, prefix: 'late' } } });
    try {
      const lateClient = api(late.url);
      await eventually(async () => ((await lateClient.get('/workers')).body.workers as { worker_id: string }[]).some((w) => w.worker_id === 'remote:node-early:0'), 10_000);
      const done = await lateClient.delegate({ prompt: 'for the early node', options: { model: 'fake-model' }, sync: true });
      assert.equal(done.body.status, 'completed');
    } finally {
      await late.close();
    }
  });

  it('refuses a node with a wrong pool token', async () => {
    fakes['node-x'] = await startFakeLlm();
    const bad = startNode('node-x', 'wrong-token');
    assert.equal(await bad.exited, 1);
    assert.match(bad.output(), /refused this node: unauthorized: wrong pool token/);
    assert.equal((await remoteWorkers('node-x')).length, 0);
  });
});
