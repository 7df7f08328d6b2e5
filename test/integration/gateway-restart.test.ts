/**
 * Gateway requests across a restart of the real coordinator process: their clients' connections died with the
 * process, so the next start cancels them (error client_gone, with the reason) instead of running them again, while
 * ordinary tasks left open are requeued and complete as before. A clean stop (SIGTERM) cancels the requests it could
 * not answer within the grace period itself (error shutting_down), telling their clients (503, Retry-After).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

/** A streamed chat request that the fake answers with one piece and then never finishes. */
function hangingChat(url: string, prompt: string, signal: AbortSignal): Promise<Response> {
  const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: prompt }] });
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
}

describe('gateway requests when the coordinator restarts', () => {
  let fake: FakeLlm;
  before(async () => (fake = await startFakeLlm()));
  after(() => fake.close());

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    it(`after ${how}: open gateway requests end cancelled with a reason, other tasks run again`, { timeout: 60_000 }, async () => {
      const dir = tempDir();
      let second: CoordinatorProcess | null = null;
      const clients = new AbortController();
      try {
        const { file } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }], extra: { pool: { shutdown_grace_ms: 200 } } });
        const first = await startCoordinatorProcess(file);
        const client = api(first.url);
        // One running (its backend call hangs), one waiting behind it, and an ordinary task waiting too.
        const running = await hangingChat(first.url, `[[mode:hang]] running ${how}`, clients.signal);
        assert.equal(running.status, 200);
        const runningId = running.headers.get('x-koubou-task-id')!;
        const waiting = hangingChat(first.url, `waiting ${how}`, clients.signal).then(
          async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() }),
          () => null,
        );
        const plain = await client.delegate({ prompt: `plain ${how}` });
        assert.equal(plain.status, 202);
        let waitingId = '';
        await eventually(async () => {
          const pending = (await client.get('/tasks?status=pending')).body.tasks as { task_id: string; prompt_excerpt: string }[];
          waitingId = pending.find((t) => t.prompt_excerpt === `waiting ${how}`)?.task_id ?? '';
          return waitingId !== '';
        }, 10_000);

        first.child.kill(how);
        assert.equal(await first.exited, how === 'SIGKILL' ? 'SIGKILL' : 0);
        // A clean stop tells the client why its answer ends.
        if (how === 'SIGTERM') assert.match(await running.text(), /shut down/);
        // A clean stop answers the one still waiting, still connected: 503, come back later.
        if (how === 'SIGTERM') {
          const answered = await waiting;
          assert.equal(answered?.status, 503, JSON.stringify(answered));
          assert.equal(answered?.retryAfter, '1');
          assert.match(answered?.text ?? '', /shut down before answering/);
        }
        clients.abort();
        await waiting;

        second = await startCoordinatorProcess(file);
        const client2 = api(second.url);
        for (const id of [runningId, waitingId]) {
          const status = (await client2.status(id)).body;
          assert.equal(status.status, 'cancelled', `${id}: ${JSON.stringify(status)}`);
          // After a crash the next start finds them, their clients gone; a clean stop answered them itself.
          assert.equal(status.result.error_code, how === 'SIGKILL' ? 'client_gone' : 'shutting_down');
          const events = (await client2.get(`/task/${id}/events`)).body.events as { kind: string; reason?: string }[];
          assert.equal(events.at(-1)!.kind, 'cancelled');
          assert.match(events.at(-1)!.reason!, how === 'SIGKILL' ? /client/ : /shut down/);
        }
        // Nothing of them reached the backend again.
        assert.equal(fake.requests.filter((r) => r.prompt === `waiting ${how}`).length, 0);
        assert.equal(fake.requests.filter((r) => r.prompt === `[[mode:hang]] running ${how}`).length, 1);
        await eventually(async () => (await client2.status(plain.body.task_id)).body.status === 'completed', 10_000);
        assert.equal((await client2.get('/health')).body.queue.in_progress, 0);
      } finally {
        clients.abort();
        if (second) {
          second.child.kill('SIGTERM');
          await second.exited;
        }
        dir.remove();
      }
    });
  }
});
