/**
 * Kill the real coordinator process (SIGKILL) with tasks queued, in flight and being submitted; restart it on the
 * same store: every accepted task completes, none stays in progress, none is lost, none runs again after completing.
 * And SIGTERM drains: running work finishes within the grace period, the process exits 0, the rest waits for the next start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

describe('durability of the real process', () => {
  let fake: FakeLlm;
  before(async () => {
    fake = await startFakeLlm({ delayMs: 120 });
  });
  after(async () => {
    await fake.close();
  });

  it('loses nothing and runs nothing twice after SIGKILL at a busy moment', async () => {
    const dir = tempDir();
    try {
      const { file } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url, min_workers: 3, max_workers: 3 }] });
      const first = await startCoordinatorProcess(file);
      const client = api(first.url);
      const accepted: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await client.delegate({ prompt: `queued-${i}`, priority: 1 + (i % 10) });
        assert.equal(res.status, 202);
        accepted.push(res.body.task_id);
      }
      await eventually(async () => (await client.get('/health')).body.queue.completed >= 3, 10_000);
      // Keep submitting while the kill lands: whatever got a 202 must survive.
      let submitting = true;
      const burst = (async () => {
        for (let i = 0; submitting; i++) {
          const res = await client.delegate({ prompt: `burst-${i}` }).catch(() => null);
          if (res?.status === 202) accepted.push(res.body.task_id);
        }
      })();
      await eventually(() => accepted.length >= 30, 10_000);
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      submitting = false;
      await burst;

      const second = await startCoordinatorProcess(file);
      try {
        const client2 = api(second.url);
        await eventually(async () => {
          const h = (await client2.get('/health')).body;
          return h.queue.pending === 0 && h.queue.in_progress === 0;
        }, 30_000);
        let requeuedAtStart = 0;
        for (const id of accepted) {
          const status = (await client2.status(id)).body;
          assert.equal(status.status, 'completed', `task ${id} should be completed, is ${status.status}`);
          const events = (await client2.get(`/task/${id}/events`)).body.events as { kind: string }[];
          const kinds = events.map((e) => e.kind);
          assert.equal(kinds.filter((k) => k === 'completed').length, 1, `task ${id} completed once: ${kinds.join(',')}`);
          assert.equal(kinds.at(-1), 'completed', `nothing happens to ${id} after it completed: ${kinds.join(',')}`);
          if (kinds.includes('requeued')) requeuedAtStart++;
          const prompt = status.result.output.replace(/^echo\([^)]*\): /, '');
          const calls = fake.requests.filter((r) => r.prompt === prompt).length;
          assert.ok(calls >= 1 && calls <= status.attempts, `task ${id}: ${calls} backend calls for ${status.attempts} attempts`);
        }
        assert.ok(requeuedAtStart > 0, 'the kill caught at least one task in progress');
        // Said in the log at start, naming them.
        const line = second.output().split('\n').find((l) => l.includes('tasks in progress went back to the queue'));
        assert.ok(line, second.output().slice(-2000));
        const said = JSON.parse(line) as { level: number; count: number; tasks: string[]; reason: string };
        assert.deepEqual([said.level, said.count, said.reason], [40, requeuedAtStart, 'found in progress at start-up']);
        assert.ok(said.tasks.every((id) => accepted.includes(id)));
        const listed = (await client2.get('/tasks?limit=1000')).body.tasks as { task_id: string }[];
        assert.equal(new Set(listed.map((t) => t.task_id)).size, listed.length, 'no task is stored twice');
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
      }
    } finally {
      dir.remove();
    }
  });

  it('drains on SIGTERM: the running task finishes, the process exits 0, queued tasks run after restart', async () => {
    const dir = tempDir();
    try {
      const { file } = writeTestConfig({
        dir: dir.path,
        backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }],
        extra: { pool: { shutdown_grace_ms: 5000 } },
      });
      const first = await startCoordinatorProcess(file);
      const client = api(first.url);
      const running = (await client.delegate({ prompt: 'long one [[delay:600]]' })).body.task_id as string;
      await eventually(async () => (await client.status(running)).body.status === 'in_progress');
      const queued: string[] = [];
      for (let i = 0; i < 3; i++) queued.push((await client.delegate({ prompt: `after-drain-${i}` })).body.task_id);
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, first.output());

      const second = await startCoordinatorProcess(file);
      try {
        const client2 = api(second.url);
        const finished = (await client2.status(running)).body;
        assert.equal(finished.status, 'completed', 'the running task finished during the drain');
        assert.equal(finished.attempts, 1, 'and was not run again');
        for (const id of queued) {
          await eventually(async () => (await client2.status(id)).body.status === 'completed', 10_000);
        }
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      dir.remove();
    }
  });
});
