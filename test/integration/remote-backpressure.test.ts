/**
 * A koubou-node whose LLM server refuses connections: its deferrals feed that backend's circuit on the coordinator, as
 * a local backend's do, so the task waits in the queue (no attempt spent) instead of bouncing between the coordinator
 * and the node as fast as NATS carries it.
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

const TOKEN = 'pool-secret';

describe("a node's backend that refuses connections", () => {
  let nats: NatsServer;
  let node: NodeProcess;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    nats = await startNatsServer();
    // Warn lines are read back through GET /api/logs.
    const logs = new LogRing();
    koubou = await startTestCoordinator({
      log: createPinoLogger({ level: 'info', console: 'none', ring: logs }),
      logs,
      backends: [],
      extra: { nats: { url: nats.url, pool_token: TOKEN }, pool: { backpressure: { failure_threshold: 3, probe_base_ms: 1000, probe_max_ms: 30_000 } } },
    });
    client = api(koubou.url);
    const url = `http://127.0.0.1:${await closedPort()}`;
    node = startNodeProcess(['--nats', nats.url, '--id', 'gpu', '--backend', 'ollama', '--url', url, '--model', 'fake-model', '--concurrency', '2', '--token', TOKEN]);
    await eventually(async () => ((await client.get('/workers')).body.workers as { location: string }[]).filter((w) => w.location === 'remote').length === 2, 10_000);
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await koubou.close();
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
  });
});
