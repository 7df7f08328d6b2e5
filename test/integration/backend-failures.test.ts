/**
 * What a task becomes when its backend misbehaves: HTTP errors, answers that break the protocol, a server that is
 * not there, a call that runs past the task's timeout. The worker survives all of it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import type { FakeMode } from '../helpers/fake-llm-faults.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { closedPort } from '../helpers/ports.js';

const MAX_ATTEMPTS = 2;
/** Retries with millisecond backoffs, so the failure tests stay fast. */
const FAST_RETRIES = { max_attempts: MAX_ATTEMPTS, retry_base_ms: 10, retry_max_ms: 40 };


describe('backend failures', () => {
  let fake: FakeLlm;
  let tc: TestCoordinator;
  let dead: TestCoordinator;
  let client: ReturnType<typeof api>;

  const requestsFor = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  /** Runs a sync task with the fake in `mode` (by prompt marker) and returns the final status view. */
  async function failWith(mode: FakeMode) {
    const tag = randomUUID();
    const res = await client.delegate({ prompt: `[[mode:${mode}]] ${tag}`, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'failed', `${mode}: ${JSON.stringify(res.body)}`);
    const status = (await client.status(res.body.task_id)).body;
    assert.deepEqual(status.result, res.body.result, 'the stored result is what the sync call answered');
    return { tag, status };
  }

  before(async () => {
    fake = await startFakeLlm();
    tc = await startTestCoordinator({
      backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }],
      extra: { tasks: FAST_RETRIES, pool: { shutdown_grace_ms: 100 } },
    });
    dead = await startTestCoordinator({
      backends: [{ url: `http://127.0.0.1:${await closedPort()}` }],
      extra: { tasks: FAST_RETRIES, pool: { shutdown_grace_ms: 100 } },
    });
    client = api(tc.url);
  });

  after(async () => {
    await dead?.close();
    await tc?.close();
    await fake?.close();
  });

  it('HTTP 500 and 400 from the backend fail the task with backend_http_error', async () => {
    for (const [mode, status] of [['error500', 500], ['error400', 400]] as const) {
      const { status: s } = await failWith(mode);
      assert.equal(s.result.success, false);
      assert.equal(s.result.output, null);
      assert.equal(s.result.error_code, 'backend_http_error', mode);
      assert.match(s.result.error, new RegExp(`HTTP ${status}`), mode);
      assert.match(s.result.error, /fake-llm: (internal server error|bad request)/, `${mode}: the message quotes the backend`);
      assert.equal(s.worker_id, 'local:b0:0');
    }
  });

  it('garbage and truncated answers fail the task with backend_protocol_error', async () => {
    for (const mode of ['garbage', 'truncate'] as const) {
      const { status: s } = await failWith(mode);
      assert.equal(s.result.success, false);
      assert.equal(s.result.output, null, `${mode}: a half answer is not an output`);
      assert.equal(s.result.error_code, 'backend_protocol_error', mode);
      assert.equal(typeof s.result.error, 'string');
      assert.ok(s.result.error.length > 10, `${mode}: ${s.result.error}`);
    }
  });

  it('a permanent failure (HTTP 400) is not retried', async () => {
    const { tag, status } = await failWith('error400');
    assert.equal(status.attempts, 1);
    assert.equal(requestsFor(tag).length, 1);
  });

  it('a retryable failure (HTTP 500) is retried up to tasks.max_attempts', async () => {
    const { tag, status } = await failWith('error500');
    assert.equal(status.result.error_code, 'backend_http_error');
    assert.equal(requestsFor(tag).length, MAX_ATTEMPTS, `the backend saw ${requestsFor(tag).length} attempt(s)`);
    assert.equal(status.attempts, MAX_ATTEMPTS);
    const kinds = (await client.get(`/task/${status.task_id}/events`)).body.events.map((e: { kind: string }) => e.kind);
    const expected = ['queued'];
    for (let i = 1; i < MAX_ATTEMPTS; i++) expected.push('assigned', 'retried');
    expected.push('assigned', 'failed');
    assert.deepEqual(kinds, expected, 'every attempt is in the history');
  });

  it('a retryable failure followed by success completes on a later attempt', async () => {
    fake.script(['error500']);
    const prompt = `flaky ${randomUUID()}`;
    const res = await client.delegate({ prompt, sync: true });
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.equal((await client.status(res.body.task_id)).body.attempts, 2);
    assert.equal(requestsFor(prompt).length, 2);
  });

  it('a task past options.timeout fails with timeout, and the backend call is aborted', async () => {
    const tag = randomUUID();
    const res = await client.delegate({ prompt: `[[mode:hang]] ${tag}`, sync: true, options: { timeout: 0.3 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'failed');
    assert.equal(res.body.result.error_code, 'timeout');
    assert.match(res.body.result.error, /0\.3 s timeout/);
    const s = (await client.status(res.body.task_id)).body;
    const ran = Date.parse(s.finished_at) - Date.parse(s.started_at);
    assert.ok(ran >= 250 && ran < 5_000, `ran ${ran} ms for a 0.3 s timeout`);
    // The backend saw the request, and saw it abandoned (not left running on the GPU).
    await eventually(() => requestsFor(tag).length >= 1 && requestsFor(tag).every((r) => r.aborted));
    assert.ok(fake.abortedCount >= 1);
    assert.ok(requestsFor(tag).every((r) => !r.finished));
  });

  it('after every failure the same worker completes a normal task', async () => {
    const prompt = `all good ${randomUUID()}`;
    const res = await client.delegate({ prompt, sync: true });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'completed');
    assert.equal(res.body.result.output, `echo(fake-model): ${prompt}`);

    const workers = (await client.get('/workers')).body;
    assert.equal(workers.count, 1);
    const w = workers.workers[0];
    assert.equal(w.worker_id, 'local:b0:0');
    assert.equal(w.restarts, 0, 'failures are task failures, not worker crashes');
    assert.equal(w.completed, 2, 'the flaky task and this one');
    const failed = (await client.get('/tasks?status=failed&limit=1000')).body.count;
    assert.equal(failed, 7);
    assert.equal(w.failed, failed);
    const health = (await client.get('/health')).body;
    assert.equal(health.status, 'ok');
    assert.deepEqual(health.workers, { total: 1, idle: 1, busy: 0 });
  });

  it('an unreachable backend: the task waits without spending attempts, and /health says the circuit is open', async () => {
    const c2 = api(dead.url);
    const res = await c2.delegate({ prompt: 'nobody home' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = res.body.task_id;
    await eventually(async () => (await c2.get('/health')).body.backends[0].circuit === 'open');
    const status = (await c2.status(id)).body;
    assert.equal(status.status, 'pending', 'a refused connection is not the task\'s failure');
    assert.equal(status.attempts, 0);
    // The start-up check already opened the circuit: the task first meets the server as the probe that follows.
    let deferred: { reason: { code: string; message: string } }[] = [];
    await eventually(async () => (deferred = (await c2.get(`/task/${id}/events`)).body.events.filter((e: { kind: string }) => e.kind === 'deferred')).length >= 1);
    assert.equal((await c2.status(id)).body.attempts, 0);
    assert.equal(deferred[0]!.reason.code, 'backend_unavailable');
    assert.match(deferred[0]!.reason.message, /cannot reach the server.*ECONNREFUSED/);

    const health = await c2.get('/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.backends.length, 1);
    assert.equal(health.body.backends[0].name, 'b0');
    assert.equal(health.body.backends[0].reachable, false);
    assert.equal(health.body.backends[0].status, 'circuit_open');
    assert.equal(health.body.workers.total, 1, 'the worker itself is still there');
    // The healthy coordinator is not affected.
    assert.equal((await client.get('/health')).body.status, 'ok');
  });

  it('a server that takes the request and closes without answering spends attempts: it may be dying on this prompt', async () => {
    // Reads the request, then hangs up: what a server that crashes on a prompt looks like from outside.
    const hangUp = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    const coordinator = await startTestCoordinator({
      backends: [{ url: `http://127.0.0.1:${(hangUp.address() as net.AddressInfo).port}` }],
      extra: { tasks: FAST_RETRIES, pool: { shutdown_grace_ms: 100 } },
    });
    try {
      const res = await api(coordinator.url).delegate({ prompt: 'poison', sync: true });
      assert.equal(res.body.status, 'failed', JSON.stringify(res.body));
      assert.equal(res.body.result.error_code, 'backend_unavailable');
      assert.match(res.body.result.error, /closed the connection before answering/);
      const status = (await api(coordinator.url).status(res.body.task_id)).body;
      assert.equal(status.attempts, MAX_ATTEMPTS, 'each hang-up spent an attempt');
    } finally {
      await coordinator.close();
      await new Promise<void>((resolve) => hangUp.close(() => resolve()));
    }
  });
});
