/**
 * A coordinator whose event loop is held up for longer than the heartbeat timeout (a burst of work far past what the
 * machine can do) has every heartbeat late, not every worker lost: none is declared dead and nothing runs twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoopLag } from '../../src/supervision/loop-lag.js';
import { api } from '../helpers/api.js';
import { readableLog, startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

/** Holds this process's event loop for `ms`, as a stall would. */
function holdLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('an event loop held up past the heartbeat timeout', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  const { log, logs } = readableLog();

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url, min_workers: 3, max_workers: 3 }],
      log,
      logs,
      extra: { pool: { heartbeat_interval_ms: 100, heartbeat_timeout_ms: 300 } },
    });
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  it('LoopLag says how long the loop was held', async () => {
    const lag = new LoopLag(50);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      holdLoop(250);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(lag.recentMaxMs() >= 200);
      // Kept for one more look (the sweep after a stall), then forgotten.
      assert.ok(lag.recentMaxMs() >= 200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(lag.recentMaxMs() < 200);
    } finally {
      lag.stop();
    }
  });

  it('declares no worker lost and runs every task once', async () => {
    const client = api(koubou.url);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.delegate({ prompt: `through a stall [[delay:300]] ${i}` })).body.task_id as string);
    await eventually(async () => (await Promise.all(ids.map(async (id) => (await client.status(id)).body.status))).every((s) => s === 'in_progress'), 5_000);
    // Three times the heartbeat timeout, twice over.
    holdLoop(1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    holdLoop(1000);
    await eventually(async () => (await Promise.all(ids.map(async (id) => (await client.status(id)).body.status))).every((s) => s === 'completed'), 10_000);
    for (const id of ids) assert.equal((await client.status(id)).body.attempts, 1);
    const lost = logs.query({ level: 40, limit: 1000 }).filter((e) => e.code === 'heartbeat_lost');
    assert.deepEqual(lost, []);
  });
});
