/**
 * A backend that pushes back is not a task failure: a busy 503 (Ollama's full queue), a 429 with Retry-After, a server
 * that is down for a while. Tasks wait without spending attempts, the backend is sent less, and the log, /health and
 * /workers say what is going on. Stand-ins send the real servers' bytes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { closedPort } from '../helpers/ports.js';
import { startPushbackProxy, type PushbackProxy } from '../helpers/pushback-proxy.js';
import { tempDir } from '../helpers/temp.js';
import type { TestBackend } from '../helpers/test-config.js';
import { GATEWAY_ERROR_AT_ONCE_MS } from '../../src/backends/http-client.js';

type LogEntry = { msg: string; level: number; backend?: string; task?: string; attempt?: number; code?: string; [k: string]: unknown };
type Client = ReturnType<typeof api>;

/** Short waits so that the tests are quick; the behaviour is the same at the defaults. */
const FAST = { pool: { shutdown_grace_ms: 100, backpressure: { failure_threshold: 3, probe_base_ms: 100, probe_max_ms: 400 } } };

/** A coordinator whose warn lines can be read back through GET /api/logs. */
async function coordinator(backends: TestBackend[], extra: Record<string, unknown> = FAST) {
  const dir = tempDir();
  const logs = new LogRing();
  const log = createPinoLogger({ level: 'info', console: 'none', file: join(dir.path, 'koubou.log'), ring: logs });
  const tc = await startTestCoordinator({ backends, extra, log, logs, dir: dir.path });
  return { tc, client: api(tc.url), close: async () => (await tc.close(), dir.remove()) };
}

async function warnings(client: Client): Promise<LogEntry[]> {
  return (await client.get('/api/logs?level=warn&limit=1000')).body.logs;
}

async function submit(client: Client, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await client.delegate({ prompt: `${tag} ${i}` });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(res.body.task_id);
  }
  return ids;
}

async function statuses(client: Client, ids: string[]) {
  return Promise.all(ids.map(async (id) => (await client.status(id)).body));
}

async function history(client: Client, id: string): Promise<{ kind: string; [k: string]: any }[]> {
  return (await client.get(`/task/${id}/events`)).body.events;
}

describe('backpressure', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('Ollama busy (503): all tasks complete on their first attempt, and fewer requests go at once', async () => {
    // Answers take a while, so requests overlap; the server takes two at a time and answers busy beyond that.
    const fake = await startFakeLlm({ chunkDelayMs: 15 });
    const proxy = await startPushbackProxy({ upstream: fake.url, maxOpen: 2 });
    const { client, close } = await coordinator([{ url: proxy.url, min_workers: 4, max_workers: 4 }]);
    cleanups.push(close, () => proxy.close(), () => fake.close());

    const ids = await submit(client, 8, 'busy one two three four five six');
    const limits = new Set<number | null>();
    await eventually(async () => {
      limits.add((await client.get('/health')).body.backends[0].in_flight_limit);
      return (await statuses(client, ids)).every((s) => s.status === 'completed');
    }, 30_000, 20);

    for (const s of await statuses(client, ids)) assert.equal(s.attempts, 1, `${s.task_id}: ${JSON.stringify(s)}`);
    const busy = proxy.records.filter((r) => r.status === 503).length;
    assert.ok(busy > 0, 'the server did say busy');
    // Sending max_workers at once whatever the answers, the server says busy several times per task (10-29 times for
    // 8 tasks when measured); halving and pausing, about once per two or three tasks.
    assert.ok(busy <= ids.length, `${busy} busy answers for ${ids.length} tasks: the pool kept pushing`);
    assert.ok([...limits].some((l) => l !== null && l < 4), `the in-flight limit went below max_workers: ${[...limits]}`);

    const deferred = (await Promise.all(ids.map((id) => history(client, id)))).flat().filter((e) => e.kind === 'deferred');
    assert.ok(deferred.length > 0);
    for (const e of deferred) {
      assert.equal(e.reason.code, 'backend_busy');
      assert.match(e.reason.message, /HTTP 503.*server busy, please try again\.\s+maximum pending requests exceeded/);
      assert.equal(e.backend, 'b0');
    }

    const warned = await warnings(client);
    const lowered = warned.find((e) => e.msg === 'backend busy: in-flight limit lowered');
    assert.ok(lowered, JSON.stringify(warned.map((e) => e.msg)));
    assert.equal(lowered.backend, 'b0');
    assert.ok(ids.includes(lowered.task!), 'names the task whose call said busy');
    assert.equal(lowered.attempt, 1);
    assert.equal(lowered.code, 'backend_busy');
    const deferral = warned.find((e) => e.msg.startsWith('backend pushed back; task deferred'));
    assert.ok(deferral && deferral.backend === 'b0' && deferral.code === 'backend_busy' && deferral.attempt === 1 && ids.includes(deferral.task!));
  });

  it('429 with Retry-After (seconds or an HTTP date): the next request waits at least that long, and no attempt is spent', async () => {
    const fake = await startFakeLlm();
    const proxy = await startPushbackProxy({ upstream: fake.url, script: [{ status: 429, retryAfter: '2' }] });
    // Retries would come back after 10 ms: only the Retry-After can hold the task for seconds.
    const { client, close } = await coordinator([{ url: proxy.url }], { ...FAST, tasks: { retry_base_ms: 10, retry_max_ms: 20 } });
    cleanups.push(close, () => proxy.close(), () => fake.close());

    const [id] = await submit(client, 1, 'rate limited');
    // While it waits out the Retry-After, its status says so.
    let waiting: { code: string; message: string } | undefined;
    await eventually(async () => (waiting = (await client.status(id!)).body.waiting_for)?.code === 'retry_after', 10_000);
    assert.match(waiting!.message, /^backend b0 pushed back \(backend_busy\) and asked to be retried later \(Retry-After\): runs again in [12] s$/);
    // Meanwhile /health and /workers say the backend is paused, why, and until when.
    const health = (await client.get('/health')).body;
    assert.equal(health.backends[0].status, 'paused');
    assert.equal(health.backends[0].paused_by, 'retry_after');
    assert.ok(Date.parse(health.backends[0].paused_until) > Date.now() - 1000, health.backends[0].paused_until);
    assert.equal(health.status, 'degraded');
    const listed = (await client.get('/workers')).body.backends[0];
    assert.deepEqual([listed.name, listed.paused_by, listed.paused_until], ['b0', 'retry_after', health.backends[0].paused_until]);
    await eventually(async () => (await client.status(id!)).body.status === 'completed', 10_000);
    await eventually(async () => (await client.get('/health')).body.backends[0].status === 'ok', 5000);
    const [limited, next] = proxy.records;
    assert.equal(limited!.status, 429);
    assert.ok(next!.at - limited!.at >= 2000, `the next request came ${next!.at - limited!.at} ms after the 429`);
    assert.equal((await client.status(id!)).body.attempts, 1);
    const events = await history(client, id!);
    assert.deepEqual(events.map((e) => e.kind), ['queued', 'assigned', 'deferred', 'assigned', 'completed']);
    assert.equal(events[2]!.wait_ms, 2000);
    assert.equal(events[2]!.reason.code, 'backend_busy');
    assert.match(events[2]!.reason.message, /HTTP 429/);
    assert.deepEqual([events[1]!.attempt, events[3]!.attempt], [1, 1], 'the deferral gave its attempt back');
    const paused = (await warnings(client)).find((e) => e.msg === 'backend busy: no new work to it for a while');
    assert.ok(paused && paused.pause_ms === 2000 && paused.task === id && paused.code === 'backend_busy');

    // An HTTP date, whole seconds: the next request comes no sooner than that moment.
    const until = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    proxy.script({ status: 429, retryAfter: until.toUTCString() });
    const [dated] = await submit(client, 1, 'rate limited until a date');
    await eventually(async () => (await client.status(dated!)).body.status === 'completed', 10_000);
    const [, , limitedAgain, after] = proxy.records;
    assert.equal(limitedAgain!.status, 429);
    assert.ok(after!.at >= until.getTime(), `the next request came ${until.getTime() - after!.at} ms before the Retry-After date`);
    assert.equal((await client.status(dated!)).body.attempts, 1);
  });

  it('a backend that goes down for a while: tasks wait in the queue, the circuit opens and closes, and every task completes on attempt 1', async () => {
    const port = await closedPort();
    const before = await startFakeLlm({ port });
    const { client, close } = await coordinator([{ url: `http://127.0.0.1:${port}`, min_workers: 2, max_workers: 2 }]);
    cleanups.push(close);
    // Up at start-up (its check finds it), then gone: a restart, a laptop lid.
    await eventually(async () => (await client.get('/health')).body.backends[0].status === 'ok');
    await before.close();

    const ids = await submit(client, 6, 'while down');
    // /health's own probe of the server is cached for 2 s; the circuit is half-open now and then, between probes.
    let down: any;
    await eventually(async () => {
      down = (await client.get('/health')).body;
      return down.backends[0].circuit === 'open' && down.backends[0].reachable === false;
    }, 5000);
    assert.equal(down.status, 'degraded');
    assert.equal(down.backends[0].status, 'circuit_open');
    assert.equal(down.backends[0].reachable, false);
    assert.ok(Date.parse(down.backends[0].since) <= Date.now(), 'says since when');
    assert.ok(down.backends[0].failures >= 3);
    const workers = (await client.get('/workers')).body;
    assert.deepEqual(workers.backends.map((b: { name: string; circuit: string }) => [b.name, b.circuit === 'closed' ? 'closed' : 'not closed']), [['b0', 'not closed']]);
    // One task may be out as the circuit's half-open probe at the moment of looking; the others wait.
    const waiting = (await statuses(client, ids)).filter((s) => s.status !== 'in_progress');
    assert.ok(waiting.length >= ids.length - 1, 'at most one probe at a time');
    for (const s of waiting) {
      assert.equal(s.status, 'pending', 'waiting, not failed');
      assert.equal(s.attempts, 0, 'no attempt spent on a server that is not there');
    }
    const opened = (await warnings(client)).find((e) => e.msg.startsWith('backend circuit opened'));
    assert.ok(opened, 'the circuit change is a warn line');
    assert.equal(opened.backend, 'b0');
    assert.equal(opened.code, 'backend_unavailable');
    assert.ok(ids.includes(opened.task!) && opened.attempt === 1);

    // The server comes up on the same port.
    const fake = await startFakeLlm({ port });
    cleanups.push(() => fake.close());
    await eventually(async () => (await statuses(client, ids)).every((s) => s.status === 'completed'), 15_000);
    for (const s of await statuses(client, ids)) assert.equal(s.attempts, 1);
    const deferred = (await Promise.all(ids.map((id) => history(client, id)))).flat().filter((e) => e.kind === 'deferred');
    assert.ok(deferred.length >= 3, 'each refused call is a deferral in its task\'s history');
    for (const e of deferred) {
      assert.equal(e.reason.code, 'backend_unavailable');
      assert.match(e.reason.message, /ECONNREFUSED/);
    }
    // The refusal that opened the circuit deferred its task until the first probe, and says so.
    assert.ok(deferred.some((e) => e.wait_ms > 0), `waits: ${deferred.map((e) => e.wait_ms)}`);
    // /health probes the server itself too, at most every 2 s.
    await eventually(async () => (await client.get('/health')).body.status === 'ok', 5000);
    const up = (await client.get('/health')).body;
    assert.equal(up.backends[0].circuit, 'closed');
    assert.equal(up.backends[0].status, 'ok');
    assert.equal(up.status, 'ok');
    assert.ok((await warnings(client)).some((e) => e.msg.startsWith('backend circuit closed') && e.backend === 'b0'));
  });

  it('a proxy answering 502 or 504 while the server behind it restarts: tasks wait without spending attempts, then complete', async () => {
    const fake = await startFakeLlm();
    cleanups.push(() => fake.close());
    const { client, close } = await coordinator([{ url: fake.url, min_workers: 2, max_workers: 2 }], { ...FAST, tasks: { max_attempts: 2, retry_base_ms: 10, retry_max_ms: 20 } });
    cleanups.push(close);
    // nginx's page for an upstream that refuses or does not answer; after six of them the server is back.
    const nginx = (status: number, words: string) => ({
      status,
      headers: { 'content-type': 'text/html' },
      chunks: [`<html>\r\n<head><title>${status} ${words}</title></head>\r\n<body>\r\n<center><h1>${status} ${words}</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n`],
    });
    fake.script([nginx(502, 'Bad Gateway'), nginx(504, 'Gateway Time-out'), nginx(502, 'Bad Gateway'), nginx(502, 'Bad Gateway'), nginx(504, 'Gateway Time-out'), nginx(502, 'Bad Gateway')]);
    const ids = await submit(client, 4, 'behind a proxy');
    await eventually(async () => (await statuses(client, ids)).every((s) => s.status === 'completed'), 15_000);
    assert.equal(fake.scriptLeft, 0, 'every gateway error was answered');
    for (const s of await statuses(client, ids)) assert.equal(s.attempts, 1, 'no attempt spent on a server that was not there');
    const deferred = (await Promise.all(ids.map((id) => history(client, id)))).flat().filter((e) => e.kind === 'deferred');
    assert.equal(deferred.length, 6);
    for (const e of deferred) {
      assert.equal(e.reason.code, 'backend_unavailable');
      assert.match(e.reason.message, /HTTP 50[24]/);
    }
    // A 504 that comes once the proxy's own timeout has passed is that call given up, not a server that is not there:
    // it spends attempts like any 5xx (deferred, it would hold the backend's circuit open for every other task).
    const late = { ...nginx(504, 'Gateway Time-out'), headAfterMs: GATEWAY_ERROR_AT_ONCE_MS + 300 };
    fake.script([late, late]);
    const [slow] = await submit(client, 1, 'a generation the proxy times out');
    await eventually(async () => (await client.status(slow!)).body.status === 'failed', 15_000);
    const failed = (await client.status(slow!)).body;
    assert.deepEqual([failed.attempts, failed.result.error_code], [2, 'backend_http_error']);
    assert.equal((await history(client, slow!)).filter((e) => e.kind === 'deferred').length, 0);
  });

  it("a server that echoes the backend's api_key in its refusal: the key reaches neither the task, the log, nor a gateway client", async () => {
    const key = 'sk-proj-Echo7Secret9Key1';
    const fake = await startFakeLlm();
    cleanups.push(() => fake.close());
    const { tc, client, close } = await coordinator([{ url: fake.url, type: 'openai', model: 'oai-model', settings: { api_key: key } }]);
    cleanups.push(close);
    // As OpenAI words a refused key (proxies in front of local servers copy it), unmasked.
    const refusal = () => ({ status: 401, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ error: { message: `Incorrect API key provided: ${key}. You can find your API key at https://example.invalid/keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })] });
    fake.script([refusal()]);
    const [id] = await submit(client, 1, 'with the key');
    await eventually(async () => (await client.status(id!)).body.status === 'failed', 10_000);
    fake.script([refusal()]);
    const gateway = await fetch(`${tc.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'oai-model', messages: [{ role: 'user', content: 'hi' }] }) });
    const told = await gateway.text();
    const stored = JSON.stringify((await client.status(id!)).body) + JSON.stringify(await history(client, id!));
    const logged = JSON.stringify((await client.get('/api/logs?limit=1000')).body);
    for (const [where, text] of [['task', stored], ['log', logged], ['gateway client', told]] as const) {
      assert.ok(!text.includes(key), `the key reached the ${where}: ${text.slice(0, 300)}`);
    }
    assert.match(stored, /Incorrect API key provided: \[redacted\]/);
    // The same inside a 200: a stream's error event after part of the answer, and a JSON body's error.
    const quoting = `Upstream authentication failed for api_key=${key}`;
    const midStream = { chunks: [`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`, `data: ${JSON.stringify({ error: { message: quoting, code: 400 } })}\n\n`] };
    const inBody = { headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ error: { message: quoting, code: 400 } })] };
    for (const answer of [midStream, inBody]) {
      fake.script([answer]);
      const [quoted] = await submit(client, 1, 'quoted in a 200');
      await eventually(async () => (await client.status(quoted!)).body.status === 'failed', 10_000);
      const error = JSON.stringify((await client.status(quoted!)).body);
      assert.ok(!error.includes(key), error);
      assert.match(error, /api_key=\[redacted\]/);
      fake.script([answer]);
      const told = await (await fetch(`${tc.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }) })).text();
      assert.ok(!told.includes(key), told);
    }
    assert.ok(!JSON.stringify((await client.get('/api/logs?limit=1000')).body).includes(key));
  });

  it('a backend already down at start-up: its circuit opens from the start-up check, so tasks wait for a probe instead of each spending a refused connection', async () => {
    const port = await closedPort();
    // No probe within this test: whatever reaches the server would be a task sent to it regardless.
    const { client, close } = await coordinator([{ url: `http://127.0.0.1:${port}`, min_workers: 2, max_workers: 2 }], {
      pool: { shutdown_grace_ms: 100, backpressure: { failure_threshold: 3, probe_base_ms: 60_000, probe_max_ms: 60_000 } },
    });
    cleanups.push(close);
    await eventually(async () => (await client.get('/health')).body.backends[0].circuit === 'open');
    const health = (await client.get('/health')).body;
    assert.equal(health.backends[0].status, 'circuit_open');
    assert.ok(Date.parse(health.backends[0].probe_at) > Date.now() + 30_000, 'the first probe is a backoff away');
    const opened = (await warnings(client)).find((e) => e.msg.startsWith('backend circuit opened'));
    assert.ok(opened && opened.backend === 'b0' && opened.code === 'backend_unavailable', JSON.stringify(opened));
    assert.equal(opened.task, undefined, 'opened by the check, not by a task');

    const ids = await submit(client, 3, 'down from the start');
    await eventually(async () => (await statuses(client, ids)).every((s) => s.waiting_for?.code === 'circuit_open'));
    for (const s of await statuses(client, ids)) {
      assert.equal(s.status, 'pending');
      assert.equal(s.attempts, 0);
      assert.match(s.waiting_for.message, /^backend b0 is not answering \(1 failed connection\): its circuit is open; next probe in \d+ s$/);
    }
    const sent = (await Promise.all(ids.map((id) => history(client, id)))).flat().filter((e) => e.kind === 'assigned' || e.kind === 'deferred');
    assert.deepEqual(sent, [], 'no task was sent to a server known to be down');
  });

  it('a deferral says how long the task really waits: the pause its backend is under, not 0', async () => {
    const fake = await startFakeLlm();
    // Busy without Retry-After (our own backoff pause, 1 s at first), Retry-After: 0 (a pause of one second), then
    // Retry-After: 2.
    const proxy = await startPushbackProxy({ upstream: fake.url, script: [{ status: 503 }, { status: 429, retryAfter: '0' }, { status: 429, retryAfter: '2' }] });
    const { client, close } = await coordinator([{ url: proxy.url }], {
      pool: { shutdown_grace_ms: 100, backpressure: { failure_threshold: 3, probe_base_ms: 1000, probe_max_ms: 4000 } },
      tasks: { retry_base_ms: 10, retry_max_ms: 20 },
    });
    cleanups.push(close, () => proxy.close(), () => fake.close());

    const ids = await submit(client, 3, 'told to wait');
    await eventually(async () => (await statuses(client, ids)).every((s) => s.status === 'completed'), 20_000);
    const deferred = (await Promise.all(ids.map((id) => history(client, id)))).flat().filter((e) => e.kind === 'deferred');
    assert.equal(deferred.length, 3);
    const warned = (await warnings(client)).filter((e) => e.msg.startsWith('backend pushed back; task deferred'));
    assert.equal(warned.length, 3);
    for (const e of deferred) {
      // The pause began a moment before the deferral was recorded: a wait of about a second, never 0.
      assert.ok(e.wait_ms >= 900, `deferred ${e.wait_ms} ms after ${e.reason.message}`);
      const line = warned.find((w) => w.wait_ms === e.wait_ms);
      assert.ok(line && ids.includes(line.task!) && line.backend === 'b0', `the warn line says the same wait: ${JSON.stringify(warned)}`);
    }
    assert.ok(deferred.some((e) => e.wait_ms >= 1900), 'the Retry-After: 2 one waits about 2 s');
  });

  it('a server that never stops saying busy: a task deferred for longer than tasks.max_defer_ms fails backend_unavailable, saying how long and why', async () => {
    const fake = await startFakeLlm();
    // Busy to every generation request, for ever.
    const proxy = await startPushbackProxy({ upstream: fake.url, maxOpen: 0 });
    const { client, close } = await coordinator([{ url: proxy.url }], { ...FAST, tasks: { max_defer_ms: 1500 } });
    cleanups.push(close, () => proxy.close(), () => fake.close());

    const [id] = await submit(client, 1, 'never taken');
    await eventually(async () => (await client.status(id!)).body.status === 'failed', 15_000);
    const status = (await client.status(id!)).body;
    assert.equal(status.result.error_code, 'backend_unavailable');
    assert.match(status.result.error, /^backend b0 kept pushing back for \d+ s since the task's first deferral \(tasks\.max_defer_ms is 1500\); last: backend_busy: .*HTTP 503.*server busy/);
    const events = await history(client, id!);
    const deferred = events.filter((e) => e.kind === 'deferred');
    assert.ok(deferred.length >= 2, `deferred ${deferred.length} times first`);
    assert.equal(events.at(-1)!.kind, 'failed');
    assert.ok(Date.parse(events.at(-1)!.at) - Date.parse(deferred[0]!.at) >= 1500, 'not before the bound had passed since the first deferral');
    const line = (await warnings(client)).find((e) => e.msg === 'task failed: its backend kept pushing back for longer than tasks.max_defer_ms');
    assert.ok(line, 'a warn line');
    assert.equal(line.task, id);
    assert.equal(line.backend, 'b0');
    assert.equal(line.code, 'backend_unavailable');
    assert.ok((line.deferred_ms as number) >= 1500 && line.max_defer_ms === 1500, JSON.stringify(line));
  });

  it('the task\'s own failures still spend attempts, and each retry and failure is a warn line', async () => {
    const fake = await startFakeLlm();
    const { client, close } = await coordinator([{ url: fake.url }], { ...FAST, tasks: { max_attempts: 2, retry_base_ms: 10, retry_max_ms: 20 } });
    cleanups.push(close, () => fake.close());
    const res = await client.delegate({ prompt: '[[mode:error500]] own failure', sync: true });
    assert.equal(res.body.status, 'failed');
    const id = res.body.task_id;
    assert.equal((await client.status(id)).body.attempts, 2);
    const warned = (await warnings(client)).filter((e) => e.task === id);
    const retry = warned.find((e) => e.msg === 'task attempt failed; retrying');
    assert.ok(retry && retry.backend === 'b0' && retry.attempt === 1 && retry.code === 'backend_http_error' && (retry.retry_in_ms as number) >= 10);
    const failed = warned.find((e) => e.msg === 'task failed');
    assert.ok(failed && failed.backend === 'b0' && failed.attempt === 2 && failed.code === 'backend_http_error');
  });

  it('a backend that does not list its model: a warning naming the fix, and /health says model_missing', async () => {
    const fake = await startFakeLlm({ models: ['llama3.2:latest'] });
    const { client, close } = await coordinator([{ url: fake.url, model: 'gpt-oss:20b' }]);
    cleanups.push(close, () => fake.close());
    await eventually(async () => (await warnings(client)).some((e) => e.code === 'model_missing'));
    const warned = (await warnings(client)).find((e) => e.code === 'model_missing')!;
    assert.match(warned.msg, /ollama pull gpt-oss:20b/);
    assert.equal(warned.backend, 'b0');
    const health = (await client.get('/health')).body;
    assert.equal(health.status, 'degraded');
    assert.equal(health.backends[0].status, 'model_missing');
    assert.equal(health.backends[0].fix, 'ollama pull gpt-oss:20b');
    assert.equal(health.backends[0].reachable, true);
  });
});
