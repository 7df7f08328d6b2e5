/**
 * Busy or idle has one owner, and every view reads it: a slot on a real `koubou-node` (joined over a real nats-server)
 * that runs a task shows `busy` with that task in /workers, /api/dashboard and `koubou workers`, in step with the
 * counts of /health; and `idle` again once the task has ended.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { koubouOutput } from '../helpers/koubou-cli.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';

const TOKEN = 'pool-secret';

interface WorkerRow {
  worker_id: string;
  location: string;
  status: string;
  current_task: string | null;
  status_since: string | null;
  completed: number;
}


describe('worker status across machines', () => {
  let nats: NatsServer;
  let fake: FakeLlm;
  let node: NodeProcess;
  let tc: TestCoordinator;
  let client: ReturnType<typeof api>;
  const workers = async () => (await client.get('/workers')).body.workers as WorkerRow[];
  const remote = async () => (await workers()).filter((w) => w.location === 'remote');

  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    // No local backend: every task runs on the node.
    tc = await startTestCoordinator({ backends: [], extra: { nats: { url: nats.url, pool_token: TOKEN } } });
    client = api(tc.url);
    node = startNodeProcess(['--nats', nats.url, '--id', 'gpu', '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model', '--concurrency', '2', '--token', TOKEN]);
    await eventually(async () => (await remote()).length === 2, 10_000);
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await tc.close();
    await fake.close();
    await nats.close();
  });

  it('a remote slot running a task is busy with that task in every view, and idle once it has ended', async () => {
    assert.deepEqual((await remote()).map((w) => w.status), ['idle', 'idle']);
    const id = (await client.delegate({ prompt: '[[mode:hang]] runs until cancelled' })).body.task_id;
    await eventually(() => fake.inFlight === 1, 10_000);

    const slots = await remote();
    const busy = slots.filter((w) => w.status === 'busy');
    assert.equal(busy.length, 1, JSON.stringify(slots));
    assert.equal(busy[0]!.current_task, id);
    assert.equal(busy[0]!.worker_id, (await client.status(id)).body.worker_id);
    assert.ok(Date.parse(busy[0]!.status_since!) <= Date.now(), 'says since when');
    assert.deepEqual(slots.filter((w) => w.status === 'idle').map((w) => w.current_task), [null]);

    const health = (await client.get('/health')).body;
    assert.deepEqual(health.workers, { total: 2, idle: 1, busy: 1 }, 'the counts and the list agree');
    const dashboard = (await client.get('/api/dashboard')).body.workers as WorkerRow[];
    assert.deepEqual(dashboard.map((w) => [w.worker_id, w.status, w.current_task]), slots.map((w) => [w.worker_id, w.status, w.current_task]));

    const table = await koubouOutput(['workers', '--url', tc.url]);
    const line = table.split('\n').find((l) => l.startsWith(busy[0]!.worker_id));
    assert.ok(line, table);
    assert.match(line, new RegExp(`\\sbusy\\s+${id}\\s`));

    await client.post(`/task/${id}/cancel`, {});
    await eventually(async () => (await remote()).every((w) => w.status === 'idle' && w.current_task === null), 10_000);
    assert.doesNotMatch(await koubouOutput(['workers', '--url', tc.url]), /busy/);
  });

  it('a finished task leaves its slot idle, with one more completed', async () => {
    const id = (await client.delegate({ prompt: '[[delay:300]] finishes' })).body.task_id;
    await eventually(async () => (await client.status(id)).body.status === 'completed', 10_000);
    const ranOn = (await client.status(id)).body.worker_id as string;
    await eventually(async () => (await remote()).every((w) => w.status === 'idle' && w.current_task === null), 10_000);
    assert.equal((await client.get('/health')).body.workers.busy, 0);
    await eventually(async () => ((await remote()).find((w) => w.worker_id === ranOn)?.completed ?? 0) >= 1, 5000);
  });
});
