/** The happy paths of the API end to end: delegate (sync and async), status, events, listing, workers, health. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm, type FakeRequest } from '../helpers/fake-llm.js';

const TYPES = ['general', 'code', 'code_generation', 'documentation', 'translation', 'analysis', 'refactoring'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const STATUS_KEYS = ['attempts', 'created_at', 'finished_at', 'model', 'priority', 'prompt_excerpt', 'result', 'started_at', 'status', 'task_id', 'type', 'updated_at', 'worker_id'];

function assertIso(value: unknown, label: string): number {
  assert.equal(typeof value, 'string', `${label} is a string`);
  assert.match(value as string, ISO, label);
  const ms = Date.parse(value as string);
  assert.equal(new Date(ms).toISOString(), value, `${label} round-trips`);
  assert.ok(Math.abs(Date.now() - ms) < 60_000, `${label} is now-ish`);
  return ms;
}

/** A completed echo answer with everything a result says about it: how it ended, the model, the token counts. */
function assertEchoResult(result: { usage: { prompt_tokens: unknown; completion_tokens: unknown } }, prompt: string): void {
  const { usage, ...rest } = result;
  assert.deepEqual(rest, {
    success: true,
    output: `echo(fake-model): ${prompt}`,
    output_bytes: Buffer.byteLength(`echo(fake-model): ${prompt}`),
    error: null,
    error_code: null,
    finish_reason: 'stop',
    truncated: false,
    model: 'fake-model',
  });
  assert.equal(typeof usage.prompt_tokens, 'number');
  assert.equal(usage.completion_tokens, `echo(fake-model): ${prompt}`.split(/(?<=\s)/).length, 'the fake counts one token per word');
}

describe('delegate', () => {
  let fake: FakeLlm;
  let tc: TestCoordinator;
  let client: ReturnType<typeof api>;

  /** Generation requests whose prompt (the user message) satisfies `match`. */
  const seen = (match: (prompt: string) => boolean): FakeRequest[] =>
    fake.requests.filter((r) => r.method === 'POST' && r.prompt !== undefined && match(r.prompt));
  const unique = (label: string) => `${label} ${randomUUID()}`;

  async function runSync(body: Record<string, unknown>) {
    const res = await client.delegate({ ...body, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  before(async () => {
    // Lists both models the tests configure, so that no backend is model_missing.
    fake = await startFakeLlm({ models: ['fake-model', 'oa-model'] });
    tc = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }] });
    client = api(tc.url);
  });

  after(async () => {
    await tc?.close();
    await fake?.close();
  });

  it('sync: 200 with the echo as output, after exactly one backend call', async () => {
    const prompt = unique('sync hello');
    const res = await client.delegate({ prompt, sync: true });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['result', 'status', 'task_id']);
    assert.match(res.body.task_id, UUID);
    assert.equal(res.body.status, 'completed');
    assertEchoResult(res.body.result, prompt);

    const calls = seen((p) => p === prompt);
    assert.equal(calls.length, 1, 'the backend was called once for a sync task');
    assert.equal(calls[0]!.path, '/api/chat');
    assert.equal(calls[0]!.model, 'fake-model');
    assert.equal(calls[0]!.finished, true);
    assert.equal((await client.status(res.body.task_id)).body.attempts, 1);
  });

  it('async: 202 pending, then completed with the full status shape', async () => {
    const prompt = unique('async hello');
    const res = await client.delegate({ prompt, type: 'analysis', priority: 7 });
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(res.body).sort(), ['status', 'task_id']);
    assert.equal(res.body.status, 'pending');
    assert.match(res.body.task_id, UUID);
    const id: string = res.body.task_id;

    await eventually(async () => (await client.status(id)).body.status === 'completed');
    const status = await client.status(id);
    assert.equal(status.status, 200);
    const s = status.body;
    assert.deepEqual(Object.keys(s).sort(), STATUS_KEYS);
    assert.equal(s.task_id, id);
    assert.equal(s.type, 'analysis');
    assert.equal(s.priority, 7);
    assert.equal(s.attempts, 1);
    assert.equal(s.worker_id, 'local:b0:0');
    assert.equal(s.model, null);
    assertEchoResult(s.result, prompt);
    const created = assertIso(s.created_at, 'created_at');
    const started = assertIso(s.started_at, 'started_at');
    const finished = assertIso(s.finished_at, 'finished_at');
    const updated = assertIso(s.updated_at, 'updated_at');
    assert.ok(created <= started && started <= finished && finished <= updated, `${s.created_at} <= ${s.started_at} <= ${s.finished_at} <= ${s.updated_at}`);
  });

  it('a pending task reports status pending with no result yet', async () => {
    const blocker = await client.delegate({ prompt: `[[delay:300]] ${unique('slow')}` });
    const res = await client.delegate({ prompt: unique('waits') });
    const early = await client.status(res.body.task_id);
    assert.equal(early.body.status, 'pending');
    assert.equal(early.body.result, null);
    assert.equal(early.body.worker_id, null);
    assert.equal(early.body.attempts, 0);
    assert.equal(early.body.started_at, null);
    assert.equal(early.body.finished_at, null);
    for (const id of [blocker.body.task_id, res.body.task_id]) {
      await eventually(async () => (await client.status(id)).body.status === 'completed');
    }
  });

  it('options.model reaches the backend and the status', async () => {
    const prompt = unique('override');
    const body = await runSync({ prompt, options: { model: 'other-model:7b' } });
    assert.equal(body.status, 'completed');
    assert.equal(body.result.output, `echo(other-model:7b): ${prompt}`);
    const calls = seen((p) => p === prompt);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.model, 'other-model:7b');
    assert.equal((await client.status(body.task_id)).body.model, 'other-model:7b');
  });

  it('every task type is accepted, and each has its own system prompt', async () => {
    const systems = new Map<string, string>();
    for (const [i, type] of TYPES.entries()) {
      const prompt = unique(`type ${type}`);
      // Both spellings of the field are accepted.
      const body = await runSync(i % 2 === 0 ? { prompt, type } : { prompt, task_type: type });
      assert.equal(body.status, 'completed', type);
      assert.equal((await client.status(body.task_id)).body.type, type);
      const calls = seen((p) => p === prompt);
      assert.equal(calls.length, 1, type);
      assert.equal(typeof calls[0]!.system, 'string', `${type} has a system prompt`);
      assert.ok(calls[0]!.system!.length > 20, `${type} system prompt is real text`);
      systems.set(type, calls[0]!.system!);
    }
    assert.equal(new Set(systems.values()).size, TYPES.length, 'each type has a different system prompt');

    // No type means general; type and task_type may both be sent when they agree.
    const plain = unique('default type');
    const body = await runSync({ prompt: plain });
    assert.equal((await client.status(body.task_id)).body.type, 'general');
    assert.equal(seen((p) => p === plain)[0]!.system, systems.get('general'));
    const both = unique('both spellings');
    const agreed = await runSync({ prompt: both, type: 'code', task_type: 'code' });
    assert.equal((await client.status(agreed.task_id)).body.type, 'code');
    assert.equal(seen((p) => p === both)[0]!.system, systems.get('code'));
  });

  it('attached files reach the backend with the prompt', async () => {
    const marker = `file-content-${randomUUID()}`;
    writeFileSync(join(tc.dir, 'notes.txt'), `${marker}\nsecond line ✓ 日本\n`);
    const prompt = unique('summarise the file');
    const body = await runSync({ prompt, files: ['notes.txt'] });
    assert.equal(body.status, 'completed');
    const calls = seen((p) => p.startsWith(prompt));
    assert.equal(calls.length, 1);
    const sent = calls[0]!.prompt!;
    assert.ok(sent.includes('--- notes.txt ---'), sent);
    assert.ok(sent.includes(`${marker}\nsecond line ✓ 日本\n`), sent);
    assert.ok(body.result.output.includes(marker), 'the echo carries the file');
  });

  it('files are read at submit time: a later change does not reach the task', async () => {
    const original = `original-${randomUUID()}`;
    const path = join(tc.dir, 'snapshot.txt');
    writeFileSync(path, original);
    // The worker is held by a slow task, so the file task cannot start before the file changes.
    const blocker = await client.delegate({ prompt: `[[delay:400]] ${unique('hold the worker')}` });
    const prompt = unique('snapshot');
    const res = await client.delegate({ prompt, files: ['snapshot.txt'] });
    assert.equal(res.status, 202);
    writeFileSync(path, 'changed after submit');
    assert.equal((await client.status(res.body.task_id)).body.status, 'pending', 'still queued when the file changed');
    for (const id of [blocker.body.task_id, res.body.task_id]) {
      await eventually(async () => (await client.status(id)).body.status === 'completed');
    }
    const sent = seen((p) => p.startsWith(prompt))[0]!.prompt!;
    assert.ok(sent.includes(original), sent);
    assert.ok(!sent.includes('changed after submit'), sent);
  });

  it('GET /task/:id/events lists queued, assigned, completed in order', async () => {
    const body = await runSync({ prompt: unique('history'), priority: 3 });
    const res = await client.get(`/task/${body.task_id}/events`);
    assert.equal(res.status, 200);
    assert.equal(res.body.task_id, body.task_id);
    const events = res.body.events as Array<Record<string, any>>;
    assert.deepEqual(events.map((e) => e.kind), ['queued', 'assigned', 'completed']);
    const [queued, assigned, completed] = events as [Record<string, any>, Record<string, any>, Record<string, any>];
    const times = events.map((e, i) => assertIso(e.at, `events[${i}].at`));
    assert.ok(times[0]! <= times[1]! && times[1]! <= times[2]!, 'in time order');
    assert.equal(queued.priority, 3);
    assert.equal(queued.worker_id, null);
    assert.equal(assigned.worker_id, 'local:b0:0');
    assert.equal(typeof assigned.lease, 'string');
    assert.equal(assigned.attempt, 1);
    assert.equal(completed.worker_id, 'local:b0:0');
    assert.equal(completed.lease, assigned.lease, 'completed under the lease it was assigned');
  });

  it('GET /tasks?status=completed&limit=2 returns at most 2, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await runSync({ prompt: unique(`list ${i}`) })).task_id);
    const res = await client.get('/tasks?status=completed&limit=2');
    assert.equal(res.status, 200);
    assert.equal(res.body.count, 2);
    assert.deepEqual(res.body.tasks.map((t: { task_id: string }) => t.task_id), [ids[2], ids[1]]);
    for (const t of res.body.tasks) {
      assert.equal(t.status, 'completed');
      assert.deepEqual(Object.keys(t).sort(), STATUS_KEYS);
    }
    const all = await client.get('/tasks?limit=1000');
    const created = all.body.tasks.map((t: { created_at: string }) => Date.parse(t.created_at));
    assert.deepEqual(created, [...created].sort((a: number, b: number) => b - a), 'newest first');
    assert.equal((await client.get('/tasks?status=pending')).body.count, 0);
  });

  it('GET /tasks shows each task with a one-line excerpt of its prompt', async () => {
    const tag = unique('excerpt');
    const prompt = `Refactor the parser\n\n   so that   it streams\t${tag} ${'and keeps going '.repeat(20)}`;
    const id = (await runSync({ prompt })).task_id;
    const listed = (await client.get('/tasks?limit=1000')).body.tasks.find((t: { task_id: string }) => t.task_id === id);
    assert.equal(listed.prompt_excerpt, `Refactor the parser so that it streams ${tag} ${'and keeps going '.repeat(20)}`.slice(0, 80) + '…');
    assert.equal((await client.status(id)).body.prompt_excerpt, listed.prompt_excerpt, 'the status says the same');
  });

  it('sync delegate whose backend fails: 200 with status failed and backend_http_error', async () => {
    const prompt = `[[mode:error500]] ${unique('fail please')}`;
    const res = await client.delegate({ prompt, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'failed');
    assert.equal(res.body.result.success, false);
    assert.equal(res.body.result.output, null);
    assert.equal(res.body.result.error_code, 'backend_http_error');
    assert.match(res.body.result.error, /HTTP 500/);
    const failed = await client.get('/tasks?status=failed');
    assert.ok(failed.body.tasks.some((t: { task_id: string }) => t.task_id === res.body.task_id));
  });

  it('GET /workers lists the worker with its status, heartbeat and counters', async () => {
    const all = (await client.get('/tasks?limit=1000')).body.tasks as Array<{ status: string }>;
    const completed = all.filter((t) => t.status === 'completed').length;
    const failed = all.filter((t) => t.status === 'failed').length;
    const res = await client.get('/workers');
    assert.equal(res.status, 200);
    assert.equal(res.body.count, 1);
    const w = res.body.workers[0];
    assert.equal(w.worker_id, 'local:b0:0');
    assert.equal(w.backend, 'b0');
    assert.equal(w.model, 'fake-model');
    assert.equal(w.location, 'local');
    assert.ok(['idle', 'busy'].includes(w.status), w.status);
    assertIso(w.last_heartbeat, 'last_heartbeat');
    const started = assertIso(w.started_at, 'started_at');
    assert.equal(typeof w.heartbeat_age_ms, 'number');
    assert.ok(w.heartbeat_age_ms >= 0 && w.heartbeat_age_ms < 10_000, `heartbeat is fresh: ${w.heartbeat_age_ms} ms`);
    // The worker keeps beating: its heartbeat moves past its start, then past that (the table is written once per
    // heartbeat interval, 1 s here).
    const lastBeat = async () => Date.parse((await client.get('/workers')).body.workers[0].last_heartbeat);
    await eventually(async () => (await lastBeat()) > started, 10_000, 100);
    const beat = await lastBeat();
    await eventually(async () => (await lastBeat()) > beat, 10_000, 100);
    assert.equal(w.restarts, 0);
    assert.equal(w.completed, completed, 'every completed task ran on this worker');
    assert.equal(w.failed, failed);
    assert.ok(completed >= 10);
  });

  it('GET /health: ok, and the queue counts match the tasks', async () => {
    await eventually(async () => (await client.get('/health')).body.workers.idle === 1);
    const res = await client.get('/health');
    assert.equal(res.status, 200);
    const h = res.body;
    assert.equal(h.status, 'ok');
    const all = (await client.get('/tasks?limit=1000')).body.tasks as Array<{ status: string }>;
    const counts = { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 } as Record<string, number>;
    for (const t of all) counts[t.status]! += 1;
    assert.deepEqual(h.queue, counts);
    assert.ok(h.queue.completed > 0 && h.queue.failed > 0);
    assert.deepEqual(h.workers, { total: 1, idle: 1, busy: 0 });
    assert.equal(h.backends.length, 1);
    const { name, type, model, status, reachable, failed, circuit, in_flight_limit } = h.backends[0];
    assert.deepEqual(
      { name, type, model, status, reachable, failed, circuit, in_flight_limit },
      { name: 'b0', type: 'ollama', model: 'fake-model', status: 'ok', reachable: true, failed: null, circuit: 'closed', in_flight_limit: null },
    );
    assertIso(h.backends[0].since, 'since');
  });

  it('an openai backend completes too, and options.model routes to the worker serving that model', async () => {
    const second = await startTestCoordinator({
      backends: [
        { name: 'ol', type: 'ollama', url: fake.url, model: 'fake-model' },
        { name: 'oa', type: 'openai', url: fake.url, model: 'oa-model' },
      ],
    });
    try {
      const c2 = api(second.url);
      const bothIdle = async () => {
        await eventually(async () => (await c2.get('/health')).body.workers.idle === 2);
      };
      for (const [model, path, worker] of [
        ['oa-model', '/v1/chat/completions', 'local:oa:0'],
        ['fake-model', '/api/chat', 'local:ol:0'],
        ['oa-model', '/v1/chat/completions', 'local:oa:0'],
      ] as const) {
        await bothIdle();
        const prompt = unique(`route to ${model}`);
        const res = await c2.delegate({ prompt, sync: true, type: 'code', options: { model } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.status, 'completed', JSON.stringify(res.body.result));
        assert.equal(res.body.result.output, `echo(${model}): ${prompt}`);
        const calls = seen((p) => p === prompt);
        assert.equal(calls.length, 1);
        assert.equal(calls[0]!.path, path, `${model} went to ${path}`);
        assert.equal(calls[0]!.model, model);
        assert.equal(calls[0]!.system, systemOf(fake, 'code'));
        assert.equal((await c2.status(res.body.task_id)).body.worker_id, worker);
      }
      const health = (await c2.get('/health')).body;
      assert.equal(health.status, 'ok');
      assert.deepEqual(
        health.backends.map((b: { name: string; type: string; reachable: boolean }) => [b.name, b.type, b.reachable]),
        [['ol', 'ollama', true], ['oa', 'openai', true]],
      );
    } finally {
      await second.close();
    }
  });
});

/** The system prompt the fake received for the first `code` task of the main coordinator. */
function systemOf(fake: FakeLlm, type: string): string | undefined {
  return fake.requests.find((r) => r.method === 'POST' && r.prompt?.startsWith(`type ${type} `))?.system;
}
