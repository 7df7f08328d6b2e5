/** One slot and a slow backend: a high-priority task submitted last jumps ahead of the queued low ones. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('priority order', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  before(async () => {
    fake = await startFakeLlm({ delayMs: 30 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }] });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('runs priority desc, then oldest first', async () => {
    const client = api(koubou.url);
    const blocker = (await client.delegate({ prompt: 'blocker [[delay:400]]' })).body.task_id;
    await eventually(async () => (await client.status(blocker)).body.status === 'in_progress');
    const submitted: { id: string; priority: number; order: number }[] = [];
    const plan = [2, 2, 5, 2, 9, 5];
    for (const [order, priority] of plan.entries()) {
      const res = await client.delegate({ prompt: `p${priority}-${order}`, priority });
      submitted.push({ id: res.body.task_id, priority, order });
    }
    await eventually(async () => (await client.get('/health')).body.queue.completed === plan.length + 1, 10_000);
    const started = await Promise.all(
      submitted.map(async (s) => ({ ...s, startedAt: Date.parse((await client.status(s.id)).body.started_at) })),
    );
    const actual = [...started].sort((a, b) => a.startedAt - b.startedAt).map((s) => s.order);
    const expected = [...submitted].sort((a, b) => b.priority - a.priority || a.order - b.order).map((s) => s.order);
    assert.deepEqual(actual, expected);
    // The backend saw them in that order too.
    const seen = fake.requests.map((r) => r.prompt).filter((p) => p?.startsWith('p'));
    assert.deepEqual(seen, expected.map((o) => `p${plan[o]}-${o}`));
  });
});
