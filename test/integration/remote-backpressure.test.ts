/**
 * A koubou-node whose LLM server refuses connections, or answers busy (Ollama's 503) or rate-limited (429 with
 * Retry-After): its deferrals feed that backend's gate on the coordinator, as a local backend's do, so the task waits
 * in the queue (no attempt spent) instead of bouncing between the coordinator and the node as fast as NATS carries
 * it, and completes once the server takes work again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { closedPort } from '../helpers/ports.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startPushbackProxy, type PushbackProxy } from '../helpers/pushback-proxy.js';

const TOKEN = 'pool-secret';

/**
 * A coordinator with no backend of its own (warn lines readable through GET /api/logs), a real nats-server, and a
 * koubou-node "gpu" with two slots on the LLM server at `url`; resolves once both slots are in the pool.
 */
async function nodePool(url: string, extra: Record<string, unknown>) {
  const nats = await startNatsServer();
  const logs = new LogRing();
  const koubou = await startTestCoordinator({
    log: createPinoLogger({ level: 'info', console: 'none', ring: logs }),
    logs,
    backends: [],
    extra: { nats: { url: nats.url, pool_token: TOKEN }, ...extra },
  });
  const client = api(koubou.url);
  const node = startNodeProcess(['--nats', nats.url, '--id', 'gpu', '--backend', 'ollama', '--url', url, '--model', 'fake-model', '--concurrency', '2', '--token', TOKEN]);
  await eventually(async () => ((await client.get('/workers')).body.workers as { location: string }[]).filter((w) => w.location === 'remote').length === 2, 10_000);
  return { nats, koubou, client, node };
}

describe("a node's backend that refuses connections", () => {
  let nats: NatsServer;
  let node: NodeProcess;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let port: number;
  let server: FakeLlm | undefined;

  before(async () => {
    port = await closedPort();
    ({ nats, koubou, client, node } = await nodePool(`http://127.0.0.1:${port}`, { pool: { backpressure: { failure_threshold: 3, probe_base_ms: 1000, probe_max_ms: 30_000 } } }));
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await koubou.close();
    await server?.close();
    await nats.close();
  });

  it('opens the circuit after a few refusals: the task waits, spends no attempt, is offered only to probes, and /health says so', async () => {
    const id = (await client.delegate({ prompt: 'nobody home' })).body.task_id as string;
    const deferrals = async () => ((await client.get(`/task/${id}/events`)).body.events as { kind: string }[]).filter((e) => e.kind === 'deferred').length;
    await eventually(async () => {
      const logs = (await client.get('/api/logs?level=warn&limit=1000')).body.logs as { msg: string; backend?: string }[];
      return logs.some((l) => l.msg.startsWith('backend circuit opened') && l.backend === 'gpu');
    }, 10_000);
    const atOpen = await deferrals();
    assert.ok(atOpen >= 3, `${atOpen} deferrals before the circuit opened`);
    // Open, the circuit lets one probe through after 1 s, then after 2 s: never a loop of offers.
    await sleep(2_500);
    const since = (await deferrals()) - atOpen;
    assert.ok(since <= 3, `${since} more deferrals in 2.5 s with the circuit open`);
    // /health and /workers say which node's backend is open, and since when.
    const health = (await client.get('/health')).body;
    assert.equal(health.status, 'degraded');
    const gate = health.remote_backends.find((g: { group: string }) => g.group === 'remote:gpu:gpu');
    assert.ok(gate && gate.circuit !== 'closed' && gate.failures >= 3, JSON.stringify(health.remote_backends));
    assert.ok(Date.parse(gate.since) > 0);
    const workers = (await client.get('/workers')).body;
    assert.deepEqual(workers.remote_backends.map((g: { group: string; circuit: string }) => [g.group, g.circuit === 'closed']), [['remote:gpu:gpu', false]]);
    const status = (await client.status(id)).body;
    assert.equal(status.status, 'pending');
    assert.equal(status.attempts, 0);

    // The server comes up: a probe gets through, the circuit closes, the task completes on its first attempt.
    server = await startFakeLlm({ port });
    await eventually(async () => (await client.status(id)).body.status === 'completed', 40_000);
    assert.equal((await client.status(id)).body.attempts, 1);
    const closed = ((await client.get('/health')).body.remote_backends as { group: string; circuit: string }[]).find((g) => g.group === 'remote:gpu:gpu');
    assert.equal(closed?.circuit, 'closed');
  });
});

describe("a node's backend that says busy or rate-limited", () => {
  let nats: NatsServer;
  let node: NodeProcess;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let fake: FakeLlm;
  let proxy: PushbackProxy;
  type Gate = { group: string; circuit: string; paused_until: string | null; in_flight_limit: number | null };
  const gate = async (): Promise<Gate | undefined> => ((await client.get('/health')).body.remote_backends as Gate[]).find((g) => g.group === 'remote:gpu:gpu');
  const events = async (id: string) => (await client.get(`/task/${id}/events`)).body.events as { kind: string; attempt?: number; wait_ms?: number; backend?: string; reason?: { code: string; message: string } }[];

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 15 });
    proxy = await startPushbackProxy({ upstream: fake.url });
    // Retries would come back after 10 ms: only the Retry-After can hold a task for seconds.
    const extra = { tasks: { retry_base_ms: 10, retry_max_ms: 20 }, pool: { backpressure: { failure_threshold: 3, probe_base_ms: 100, probe_max_ms: 400 } } };
    ({ nats, koubou, client, node } = await nodePool(proxy.url, extra));
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await koubou.close();
    await proxy.close();
    await fake.close();
    await nats.close();
  });

  it('429 with Retry-After: the task waits that long on the coordinator, spends no attempt, and /health shows the pause', async () => {
    proxy.script({ status: 429, retryAfter: '2' });
    const id = (await client.delegate({ prompt: 'rate limited on the node' })).body.task_id as string;
    let waiting: { code: string; message: string } | undefined;
    await eventually(async () => (waiting = (await client.status(id)).body.waiting_for)?.code === 'retry_after', 10_000);
    assert.match(waiting!.message, /backend gpu .*Retry-After/);
    const paused = await gate();
    assert.ok(paused && paused.paused_until !== null && Date.parse(paused.paused_until) > Date.now(), JSON.stringify(paused));
    assert.equal(paused.circuit, 'closed', 'a server that answers is not an outage');

    await eventually(async () => (await client.status(id)).body.status === 'completed', 15_000);
    const [limited, next] = proxy.records;
    assert.equal(limited!.status, 429);
    assert.ok(next!.at - limited!.at >= 2000, `the next request came ${next!.at - limited!.at} ms after the 429`);
    const status = (await client.status(id)).body;
    assert.equal(status.attempts, 1);
    const history = await events(id);
    assert.deepEqual(history.map((e) => e.kind), ['queued', 'assigned', 'deferred', 'assigned', 'completed']);
    assert.equal(history[2]!.wait_ms, 2000);
    assert.equal(history[2]!.backend, 'gpu');
    assert.match(history[2]!.reason!.message, /HTTP 429/);
    assert.deepEqual([history[1]!.attempt, history[3]!.attempt], [1, 1], 'the deferral gave its attempt back');
  });

  it("Ollama busy (503) on the node: the coordinator lowers that backend's in-flight limit and every task completes on attempt 1", async () => {
    const before = proxy.records.length;
    // Busy for the next five requests, then the server has room again.
    proxy.script(...Array.from({ length: 5 }, () => ({ status: 503 as const })));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await client.delegate({ prompt: `busy node ${i}` })).body.task_id as string);
    const limits = new Set<number | null>();
    await eventually(async () => {
      limits.add((await gate())?.in_flight_limit ?? null);
      const all = await Promise.all(ids.map(async (id) => (await client.status(id)).body));
      return all.every((s) => s.status === 'completed');
    }, 30_000, 20);
    for (const id of ids) assert.equal((await client.status(id)).body.attempts, 1, id);
    assert.equal(proxy.records.slice(before).filter((r) => r.status === 503).length, 5);
    assert.ok([...limits].some((l) => l !== null && l < 2), `the in-flight limit went below the node's 2 slots: ${[...limits]}`);
    const deferred = (await Promise.all(ids.map(events))).flat().filter((e) => e.kind === 'deferred');
    assert.equal(deferred.length, 5);
    for (const e of deferred) {
      assert.equal(e.reason!.code, 'backend_busy');
      assert.match(e.reason!.message, /HTTP 503.*server busy, please try again/);
    }
  });
});
