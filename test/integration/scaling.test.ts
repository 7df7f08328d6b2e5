/** Dynamic scaling: from min_workers up to max_workers under a burst, and back to min once idle. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('dynamic scaling', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const liveWorkers = async () => {
    const workers = (await client.get('/workers')).body.workers as { status: string }[];
    return workers.filter((w) => w.status === 'idle' || w.status === 'busy').length;
  };

  before(async () => {
    fake = await startFakeLlm({ delayMs: 150 });
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url, min_workers: 1, max_workers: 4 }],
      extra: { pool: { idle_ms: 400, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 2000 } },
    });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('grows to max_workers under a burst and shrinks to min_workers when idle', async () => {
    await eventually(async () => (await client.get('/health')).body.workers.total === 1);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await client.delegate({ prompt: `burst ${i}` })).body.task_id);
    await eventually(async () => (await client.get('/health')).body.workers.total === 4, 5000);
    // Never above max, even with a backlog of 12.
    let peak = 0;
    let peakInFlight = 0;
    await eventually(async () => {
      const h = (await client.get('/health')).body;
      peak = Math.max(peak, h.workers.total);
      peakInFlight = Math.max(peakInFlight, fake.inFlight);
      return h.queue.completed === 12;
    }, 10_000);
    assert.ok(peak <= 4, `peak ${peak} workers`);
    assert.ok(peakInFlight <= 4, `the backend saw ${peakInFlight} requests at once`);
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 12, 'each task ran once');
    await eventually(async () => (await client.get('/health')).body.workers.total === 1, 5000);
    await eventually(async () => (await liveWorkers()) === 1, 3000);
    // And it scales up again for the next burst.
    for (let i = 0; i < 6; i++) await client.delegate({ prompt: `second burst ${i}` });
    await eventually(async () => (await client.get('/health')).body.workers.total > 1, 5000);
    await eventually(async () => (await client.get('/health')).body.queue.completed === 18, 10_000);
  });

  it('starts workers on demand when min_workers is 0', async () => {
    const zero = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 0, max_workers: 2 }] });
    try {
      const c = api(zero.url);
      assert.equal((await c.get('/health')).body.workers.total, 0);
      const res = await c.delegate({ prompt: 'wake up', sync: true });
      assert.equal(res.body.status, 'completed');
    } finally {
      await zero.close();
    }
  });

  it("grows the backend a task needs while another backend's worker idles", async () => {
    // coder takes code, docs takes documentation; docs' worker idles all along and must not hold code tasks back.
    const two = await startTestCoordinator({
      backends: [
        { name: 'coder', url: fake.url, min_workers: 1, max_workers: 2, types: ['code'] },
        { name: 'docs', url: fake.url, min_workers: 1, max_workers: 1, types: ['documentation'] },
      ],
    });
    try {
      const c = api(two.url);
      await eventually(async () => (await c.get('/health')).body.workers.total === 2);
      const before = fake.requests.length;
      let peak = 0;
      const both = Promise.all([c.delegate({ type: 'code', prompt: 'one', sync: true }), c.delegate({ type: 'code', prompt: 'two', sync: true })]);
      const watch = setInterval(() => (peak = Math.max(peak, fake.inFlight)), 5);
      const answers = await both;
      clearInterval(watch);
      assert.deepEqual(answers.map((a) => a.body.status), ['completed', 'completed']);
      assert.equal(fake.requests.length - before, 2);
      assert.equal(peak, 2, 'the two code tasks ran at the same time on two coder workers');
    } finally {
      await two.close();
    }
  });
});
