/**
 * Delegation over NATS for other services, against a real nats-server: request/reply delegate (async and sync) and
 * status, every task event on <prefix>.events.task.<id>, bad messages answered with errors, and reconnection after
 * the NATS server restarts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, StringCodec } from 'nats';
import { silentLogger } from '../../src/logger.js';
import { connectNats, type NatsLink, type Payload } from '../../src/nats/connection.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const sc = StringCodec();

describe('tasks over NATS', () => {
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: NatsLink;
  const events: { subject: string; payload: Payload }[] = [];

  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { nats: { url: nats.url, prefix: 'kb' } } });
    client = await connectNats({ url: nats.url, name: 'test-client', log: silentLogger });
    client.subscribe('kb.events.task.*', (payload, subject) => events.push({ subject, payload }));
  });
  after(async () => {
    await client.close();
    await koubou.close();
    await fake.close();
    await nats.close();
  });

  it('delegates asynchronously and streams every event of the task', async () => {
    const answer = await client.request('kb.task.delegate', { prompt: 'over nats', type: 'analysis', priority: 7 }, 5000);
    assert.equal(answer.status, 'pending');
    const id = answer.task_id as string;
    await eventually(() => events.some((e) => e.payload.task_id === id && e.payload.kind === 'completed'));
    const mine = events.filter((e) => e.subject === `kb.events.task.${id}`).map((e) => e.payload);
    const kinds = mine.map((e) => e.kind);
    assert.equal(kinds[0], 'queued');
    assert.ok(kinds.includes('assigned'));
    assert.ok(kinds.filter((k) => k === 'progress').length >= 2, 'output chunks are published');
    assert.equal(mine.filter((e) => e.kind === 'progress').map((e) => e.chunk).join(''), 'echo(fake-model): over nats');
    const status = await client.request('kb.task.status', { task_id: id }, 5000);
    assert.equal(status.status, 'completed');
    assert.equal((status.result as { output: string }).output, 'echo(fake-model): over nats');
    assert.equal(status.priority, 7);
  });

  it('delegates synchronously with the same answer as HTTP', async () => {
    const answer = await client.request('kb.task.delegate', { prompt: 'sync over nats', sync: true }, 10_000);
    assert.equal(answer.status, 'completed');
    const { usage, ...rest } = answer.result as { usage: { completion_tokens: number } };
    assert.deepEqual(rest, { success: true, output: 'echo(fake-model): sync over nats', output_bytes: 32, error: null, error_code: null, finish_reason: 'stop', truncated: false, model: 'fake-model' });
    assert.equal(usage.completion_tokens, 4);
  });

  it('answers bad messages with the same errors as HTTP, and never crashes', async () => {
    const noPrompt = await client.request('kb.task.delegate', { priority: 3 }, 5000);
    assert.deepEqual(noPrompt.error, { code: 'invalid_request', message: 'prompt is required', field: 'prompt' });
    const badPriority = await client.request('kb.task.delegate', { prompt: 'x', priority: 99 }, 5000);
    assert.equal((badPriority.error as { field: string }).field, 'priority');
    const unknown = await client.request('kb.task.status', { task_id: 'nope' }, 5000);
    assert.equal((unknown.error as { code: string }).code, 'task_not_found');
    const noId = await client.request('kb.task.status', {}, 5000);
    assert.equal((noId.error as { field: string }).field, 'task_id');
  });

  it('takes a plain JSON request without "v" as the current version, and names what it speaks for a wrong one', async () => {
    // A bare nats.js client, as another service would write it: no envelope, no version field.
    const nc = await connect({ servers: nats.url });
    try {
      const ask = async (body: unknown) => JSON.parse(sc.decode((await nc.request('kb.task.delegate', sc.encode(JSON.stringify(body)), { timeout: 10_000 })).data));
      const answer = await ask({ type: 'code', prompt: 'Generate unit tests', sync: true });
      assert.equal(answer.status, 'completed', JSON.stringify(answer));
      assert.equal(answer.result.output, 'echo(fake-model): Generate unit tests');
      const wrong = await ask({ v: 7, prompt: 'from the future' });
      assert.equal(wrong.error.code, 'invalid_message');
      assert.match(wrong.error.message, /unsupported protocol version 7; this coordinator speaks v: 1/);
    } finally {
      await nc.close();
    }
  });

  it('keeps serving after the NATS server restarts', async () => {
    await nats.restart();
    await eventually(async () => {
      try {
        const answer = await client.request('kb.task.delegate', { prompt: 'after restart', sync: true }, 1000);
        return answer.status === 'completed';
      } catch {
        return false;
      }
    }, 15_000, 200);
  });
});

describe('NATS with password authentication', () => {
  let nats: NatsServer;
  let fake: FakeLlm;
  before(async () => {
    nats = await startNatsServer(['--user', 'koubou', '--pass', 's3cret']);
    fake = await startFakeLlm();
  });
  after(async () => {
    await fake.close();
    await nats.close();
  });

  it('connects with credentials in nats.url; with wrong ones it serves HTTP, keeps trying and says why in /health', async () => {
    const url = `nats://koubou:s3cret@127.0.0.1:${nats.port}`;
    const koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { nats: { url } } });
    try {
      const client = await connectNats({ url, name: 'test-client', log: silentLogger });
      const answer = await client.request('koubou.task.delegate', { prompt: 'authenticated', sync: true }, 10_000);
      assert.equal(answer.status, 'completed');
      await client.close();
    } finally {
      await koubou.close();
    }
    const refused = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { nats: { url: `nats://koubou:wrong@127.0.0.1:${nats.port}` } } });
    try {
      const health = (await api(refused.url).get('/health')).body;
      assert.equal(health.status, 'degraded');
      assert.equal(health.nats.state, 'connecting');
      assert.match(health.nats.error, /Authorization Violation/i);
      assert.doesNotMatch(JSON.stringify(health), /wrong/);
      assert.equal((await api(refused.url).delegate({ prompt: 'still served over HTTP', sync: true })).body.status, 'completed');
    } finally {
      await refused.close();
    }
  });
});

describe('NATS not there yet', () => {
  it('starts without NATS, serves HTTP, and brings the NATS side up under the bridge once the server appears', async () => {
    const nats = await startNatsServer();
    const fake = await startFakeLlm();
    await nats.stop();
    const koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { nats: { url: nats.url } } });
    const http = api(koubou.url);
    try {
      const before = (await http.get('/health')).body;
      assert.equal(before.nats.state, 'connecting');
      assert.equal((await http.delegate({ prompt: 'over HTTP meanwhile', sync: true })).body.status, 'completed');
      await nats.restart();
      await eventually(async () => (await http.get('/health')).body.nats.state === 'connected', 15_000, 50);
      const client = await connectNats({ url: nats.url, name: 'test-client', log: silentLogger });
      const answer = await client.request('koubou.task.delegate', { v: 1, prompt: 'over NATS now', sync: true }, 10_000);
      assert.equal(answer.status, 'completed');
      await client.close();
    } finally {
      await koubou.close();
      await fake.close();
      await nats.close();
    }
  });
});
