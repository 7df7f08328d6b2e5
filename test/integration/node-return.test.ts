/**
 * A node that leaves for a moment (a restart, a pause, a cut cable) does not take its models' tasks down with it: a
 * task naming a model only that node serves waits for it (pool-view.ts NODE_RETURN_MS) instead of going to a local
 * backend that lacks the model, where a real Ollama answers 404 "model not found" and the task fails for good.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { LogRing } from '../../src/logging/log-ring.js';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';

const TOKEN = 'pool-secret';

describe('a node that leaves for a moment', () => {
  let nats: NatsServer;
  let local: FakeLlm;
  let remote: FakeLlm;
  let node: NodeProcess | undefined;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const logs = new LogRing();
  const startNode = () => (node = startNodeProcess(['--nats', nats.url, '--id', 'gpu-box', '--backend', 'ollama', '--url', remote.url, '--model', 'big-model', '--token', TOKEN]));
  const nodeWorkers = async () =>
    ((await client.get('/workers')).body.workers as { worker_id: string; status: string }[]).filter((w) => w.worker_id.startsWith('remote:gpu-box:') && w.status !== 'gone');
  const posts = (fake: FakeLlm, tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    nats = await startNatsServer();
    local = await startFakeLlm();
    remote = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: local.url, model: 'small-model', min_workers: 1, max_workers: 1 }],
      log: createPinoLogger({ level: 'info', console: 'none', ring: logs }),
      logs,
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { heartbeat_interval_ms: 200, heartbeat_timeout_ms: 800 }, tasks: { max_attempts: 2, retry_base_ms: 10, retry_max_ms: 20 } },
    });
    client = api(koubou.url);
    startNode();
    await eventually(async () => (await nodeWorkers()).length > 0, 10_000);
  });
  after(async () => {
    node?.child.kill('SIGKILL');
    await koubou?.close();
    await local?.close();
    await remote?.close();
    await nats?.close();
  });

  it("keeps a task naming the node's model waiting while the node is away, and runs it there once it is back", async () => {
    node!.child.kill('SIGKILL');
    await node!.exited;
    await eventually(async () => (await nodeWorkers()).length === 0, 10_000);
    const id = (await client.delegate({ prompt: 'while the node is away', options: { model: 'big-model' } })).body.task_id as string;
    // Long enough for the scheduler to have sent it anywhere it was going to.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const waiting = (await client.status(id)).body;
    assert.deepEqual([waiting.status, waiting.attempts], ['pending', 0], JSON.stringify(waiting));
    assert.equal(posts(local, 'while the node is away').length, 0, 'not sent to the local backend, which lacks the model');
    startNode();
    await eventually(async () => (await client.status(id)).body.status === 'completed', 15_000);
    assert.equal(posts(remote, 'while the node is away').length, 1);
    assert.equal((await client.status(id)).body.attempts, 1);
  });

  it("holds a gateway request for a model whose node is away, instead of 404, and answers it once the node is back", async () => {
    await eventually(async () => (await nodeWorkers()).length > 0, 10_000);
    node!.child.kill('SIGKILL');
    await node!.exited;
    await eventually(async () => (await nodeWorkers()).length === 0, 10_000);
    const asked = fetch(`${koubou.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'big-model', messages: [{ role: 'user', content: 'while the node restarts' }] }) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    startNode();
    const answer = await asked;
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.match(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, /while the node restarts/);
  });

  it("says a node's retries and failures in the coordinator's own log, as a local worker's", async () => {
    await eventually(async () => (await nodeWorkers()).length > 0, 10_000);
    const id = (await client.delegate({ prompt: '[[mode:error500]] fails on the node', options: { model: 'big-model' } })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'failed', 15_000);
    const lines = logs.query({ level: 40, limit: 1000 }).filter((e) => e.task === id).map((e) => [e.msg, e.node, e.code]);
    assert.deepEqual(lines, [['task attempt failed; retrying', 'gpu-box', 'backend_http_error'], ['task failed', 'gpu-box', 'backend_http_error']]);
  });

  it('a node whose LLM server does not answer says so at start, naming the backend and the fix', async () => {
    const deaf = startNodeProcess(['--nats', nats.url, '--id', 'deaf-box', '--backend', 'ollama', '--url', 'http://127.0.0.1:9', '--model', 'ghost', '--token', TOKEN]);
    try {
      await eventually(() => /does not answer at http:\/\/127\.0\.0\.1:9/.test(deaf.output()), 15_000);
    } finally {
      deaf.child.kill('SIGKILL');
    }
  });

  it('a node stopped with SIGTERM lets its run finish, takes nothing new, and leaves the pool at once', async () => {
    await eventually(async () => (await nodeWorkers()).length > 0, 10_000);
    const long = (await client.delegate({ prompt: '[[delay:1500]] finishing while the node stops', options: { model: 'big-model' } })).body.task_id as string;
    await eventually(async () => (await client.status(long)).body.status === 'in_progress', 5_000);
    const since = Date.now();
    node!.child.kill('SIGTERM');
    const later = (await client.delegate({ prompt: 'sent while the node stops', options: { model: 'big-model' } })).body.task_id as string;
    assert.equal(await node!.exited, 0, node!.output().slice(-2000));
    const finished = (await client.status(long)).body;
    assert.deepEqual([finished.status, finished.attempts], ['completed', 1], 'the run in hand finished and spent no extra attempt');
    const waiting = (await client.status(later)).body;
    assert.deepEqual([waiting.status, waiting.attempts], ['pending', 0], JSON.stringify(waiting));
    const since_ = (e: { time?: unknown }) => Date.parse(String(e.time)) >= since;
    const lines = logs.query({ level: 30, limit: 5000 }).filter((e) => since_(e) && e.node === 'gpu-box');
    assert.ok(lines.some((e) => e.msg === 'node left the pool'), JSON.stringify(lines));
    assert.ok(!lines.some((e) => e.code === 'heartbeat_lost'), 'it left, it was not lost');
    startNode();
    await eventually(async () => (await client.status(later)).body.status === 'completed', 15_000);
    assert.equal((await client.status(later)).body.attempts, 1);
  });

  it('refuses a second node process under the same --id while the first is live, and lets it in once the first is gone', async () => {
    await eventually(async () => (await nodeWorkers()).length > 0, 10_000);
    const models = async () => ((await client.get('/v1/models')).body.data as { id: string }[]).map((m) => m.id);
    const twin = startNodeProcess(['--nats', nats.url, '--id', 'gpu-box', '--backend', 'ollama', '--url', local.url, '--model', 'twin-model', '--token', TOKEN]);
    try {
      await eventually(() => twin.output().includes('another node process holds this --id'), 10_000);
      // Long enough for the two to have taken each other's place several times over, had they been let.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok((await models()).includes('big-model') && !(await models()).includes('twin-model'), String(await models()));
      const logged = logs.query({ level: 40, limit: 1000 }).filter((e) => /another live node/.test(String(e.msg)));
      assert.ok(logged.length > 0 && logged.every((e) => e.node === 'gpu-box'));
      node!.child.kill('SIGKILL');
      await eventually(async () => (await models()).includes('twin-model'), 15_000);
    } finally {
      twin.child.kill('SIGKILL');
    }
  });
});

describe('a coordinator that restarts', () => {
  it("keeps tasks naming a node's model waiting for that node to rejoin, instead of sending them to a backend that lacks it", async () => {
    const nats = await startNatsServer();
    const local = await startFakeLlm();
    const remote = await startFakeLlm();
    const dir = tempDir();
    const { file } = writeTestConfig({
      dir: dir.path,
      backends: [{ url: local.url, model: 'small-model', min_workers: 1, max_workers: 1 }],
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { heartbeat_interval_ms: 200, heartbeat_timeout_ms: 800 } },
    });
    let koubou = await startCoordinatorProcess(file);
    const node = startNodeProcess(['--nats', nats.url, '--id', 'gpu-box', '--backend', 'ollama', '--url', remote.url, '--model', 'big-model', '--concurrency', '1', '--token', TOKEN]);
    try {
      const workers = async (url: string) => ((await api(url).get('/workers')).body.workers as { worker_id: string; status: string }[]).filter((w) => w.worker_id.startsWith('remote:gpu-box:') && w.status !== 'gone');
      await eventually(async () => (await workers(koubou.url)).length > 0, 10_000);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await api(koubou.url).delegate({ prompt: `[[delay:1000]] across the restart ${i}`, options: { model: 'big-model' } })).body.task_id as string);
      await eventually(async () => (await api(koubou.url).status(ids[0]!)).body.status === 'in_progress', 5_000);
      koubou.child.kill('SIGKILL');
      await koubou.exited;
      koubou = await startCoordinatorProcess(file);
      for (const id of ids) await eventually(async () => (await api(koubou.url).status(id)).body.status === 'completed', 20_000);
      const sentLocally = local.requests.filter((r) => r.method === 'POST' && r.prompt?.includes('across the restart'));
      assert.equal(sentLocally.length, 0, 'none went to the backend that lacks the model');
      // A gateway request sent before the node has rejoined the restarted coordinator waits for it too.
      node.child.kill('SIGSTOP');
      koubou.child.kill('SIGKILL');
      await koubou.exited;
      koubou = await startCoordinatorProcess(file);
      const asked = fetch(`${koubou.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'big-model', messages: [{ role: 'user', content: 'before the node is back' }] }) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      node.child.kill('SIGCONT');
      const answer = await asked;
      assert.equal(answer.status, 200, await answer.clone().text());
    } finally {
      node.child.kill('SIGKILL');
      koubou.child.kill('SIGKILL');
      await koubou.exited;
      await local.close();
      await remote.close();
      await nats.close();
      dir.remove();
    }
  });
});

describe('a node that does not come back within pool.node_return_ms', () => {
  it('fails a gateway request waiting for its model with 404 model_not_found, and sends a REST task elsewhere, saying so', async () => {
    const nats = await startNatsServer();
    const local = await startFakeLlm();
    const remote = await startFakeLlm();
    const logs = new LogRing();
    const koubou = await startTestCoordinator({
      backends: [{ url: local.url, model: 'small-model', min_workers: 1, max_workers: 1 }],
      log: createPinoLogger({ level: 'info', console: 'none', ring: logs }),
      logs,
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { heartbeat_interval_ms: 200, heartbeat_timeout_ms: 800, node_return_ms: 1500 } },
    });
    const client = api(koubou.url);
    const node = startNodeProcess(['--nats', nats.url, '--id', 'gone-box', '--backend', 'ollama', '--url', remote.url, '--model', 'big-model', '--token', TOKEN]);
    try {
      const workers = async () => ((await client.get('/workers')).body.workers as { worker_id: string; status: string }[]).filter((w) => w.worker_id.startsWith('remote:gone-box:') && w.status !== 'gone');
      await eventually(async () => (await workers()).length > 0, 10_000);
      node.child.kill('SIGKILL');
      await node.exited;
      await eventually(async () => (await workers()).length === 0, 10_000);
      const rest = (await client.delegate({ prompt: 'naming a model whose node is gone', options: { model: 'big-model' } })).body.task_id as string;
      const asked = await fetch(`${koubou.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'big-model', messages: [{ role: 'user', content: 'anyone?' }] }) });
      assert.equal(asked.status, 404, await asked.clone().text());
      const error = ((await asked.json()) as { error: { code: string; param: string } }).error;
      assert.deepEqual([error.code, error.param], ['model_not_found', 'model']);
      const cancelled = (await client.status(asked.headers.get('x-koubou-task-id')!)).body;
      assert.deepEqual([cancelled.status, cancelled.result.error_code], ['cancelled', 'model_not_found']);
      await eventually(async () => (await client.status(rest)).body.status === 'completed', 15_000);
      assert.equal(local.requests.filter((r) => r.method === 'POST' && r.prompt?.includes('whose node is gone')).length, 1, 'it went to the other backend');
      assert.ok(logs.query({ level: 40, limit: 1000 }).some((e) => /stopped waiting for a node that left/.test(String(e.msg))));
    } finally {
      node.child.kill('SIGKILL');
      await koubou.close();
      await local.close();
      await remote.close();
      await nats.close();
    }
  });
});
