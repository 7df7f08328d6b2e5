/**
 * A pending task says why it waits (`waiting_for` of GET /task/:id/status, and `koubou status`), on real coordinators:
 * its workers are all busy, no worker takes its type, a routing rule keeps it for a side the pool lacks, and its
 * backend's port refuses connections so the circuit opens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { koubouOutput } from '../helpers/koubou-cli.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { closedPort } from '../helpers/ports.js';



type Waiting = { code: string; message: string } | null | undefined;

describe('why a pending task waits', () => {
  let fake: FakeLlm;
  let koubouTc: TestCoordinator;
  let client: ReturnType<typeof api>;
  const waitingFor = async (id: string): Promise<Waiting> => (await client.status(id)).body.waiting_for;

  before(async () => {
    fake = await startFakeLlm();
    koubouTc = await startTestCoordinator({
      // One worker that takes code and general tasks only; urgent tasks are kept for LAN workers (there are none).
      backends: [{ url: fake.url, min_workers: 1, max_workers: 1, types: ['general', 'code'] }],
      extra: { routing: { rules: [{ min_priority: 9, max_priority: 10, prefer: 'remote', fallback: false }] } },
    });
    client = api(koubouTc.url);
  });
  after(async () => {
    await koubouTc.close();
    await fake.close();
  });

  it('workers_busy while the only worker runs another task; then it runs', async () => {
    const running = (await client.delegate({ prompt: '[[mode:hang]] occupies the worker' })).body.task_id;
    await eventually(async () => (await client.status(running)).body.status === 'in_progress');
    const queued = (await client.delegate({ prompt: 'waits its turn' })).body.task_id;
    const status = (await client.status(queued)).body;
    assert.equal(status.status, 'pending');
    assert.equal(status.waiting_for.code, 'workers_busy');
    assert.match(status.waiting_for.message, /all 1 worker that can run it is busy/);
    const shown = await koubouOutput(['status', queued, '--url', koubouTc.url]);
    assert.match(shown, /^waiting +all 1 worker that can run it is busy; 0 tasks ahead of it \(workers_busy\)$/m);
    await client.post(`/task/${running}/cancel`, {});
    await eventually(async () => (await client.status(queued)).body.status === 'completed');
    assert.equal((await client.status(queued)).body.waiting_for, undefined, 'only a pending task says why it waits');
  });

  it('no_capable_worker for a type no worker takes', async () => {
    const id = (await client.delegate({ prompt: 'bonjour', type: 'translation' })).body.task_id;
    const why = await waitingFor(id);
    assert.equal(why?.code, 'no_capable_worker');
    assert.match(why!.message, /no worker in the pool takes tasks of type translation/);
    assert.match(await koubouOutput(['status', id, '--url', koubouTc.url]), /^waiting +no worker .* \(no_capable_worker\)$/m);
    await client.post(`/task/${id}/cancel`, {});
  });

  it('routing_rule when a rule keeps the task for LAN workers and none has joined', async () => {
    const id = (await client.delegate({ prompt: 'urgent', priority: 9 })).body.task_id;
    const why = await waitingFor(id);
    assert.equal(why?.code, 'routing_rule');
    assert.match(why!.message, /routing rule 1 \(priority 9-10 prefers remote workers, no fallback\): no remote worker/);
    await client.post(`/task/${id}/cancel`, {});
  });

  it('circuit_open when the backend refuses connections', async () => {
    const port = await closedPort();
    const down = await startTestCoordinator({
      backends: [{ url: `http://127.0.0.1:${port}`, min_workers: 1, max_workers: 1 }],
      // The circuit stays open for the whole test: its first probe is a minute away.
      extra: { pool: { shutdown_grace_ms: 100, backpressure: { failure_threshold: 2, probe_base_ms: 60_000, probe_max_ms: 60_000 } } },
    });
    try {
      const c = api(down.url);
      const id = (await c.delegate({ prompt: 'for a server that is not there' })).body.task_id;
      await eventually(async () => (await c.status(id)).body.waiting_for?.code === 'circuit_open', 10_000);
      const status = (await c.status(id)).body;
      assert.equal(status.status, 'pending');
      assert.equal(status.attempts, 0);
      assert.match(status.waiting_for.message, /backend b0 is not answering \(\d+ failed connections?\): its circuit is open; next probe in \d+ s/);
    } finally {
      await down.close();
    }
  });
});
