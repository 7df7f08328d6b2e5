/**
 * The node protocol spoken by hand over a real nats-server: a run the node never receives is noticed from its
 * heartbeats and requeued, capabilities a node announces are validated at the bridge, and nkey authentication.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { connectNats, type NatsLink, type Payload } from '../../src/nats/connection.js';
import { NODE_PROTOCOL_VERSION } from '../../src/nats/node-protocol.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess } from '../helpers/node-process.js';
import { tempDir } from '../helpers/temp.js';

describe('node protocol by hand', () => {
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let node: NatsLink;
  let client: ReturnType<typeof api>;
  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    // The local backend takes only code, so general tasks can only go to the hand-made node.
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, types: ['code'] }], extra: { nats: { url: nats.url }, tasks: { max_attempts: 5 } } });
    client = api(koubou.url);
    node = (await connectNats({ url: nats.url, name: 'hand-made node', log: silentLogger })).speaking(NODE_PROTOCOL_VERSION);
  });
  after(async () => {
    await node.close();
    await koubou.close();
    await fake.close();
    await nats.close();
  });

  it('refuses announced capabilities it cannot read, naming the field', async () => {
    const answer = await node.request('koubou.node.odd.join', { slots: [{ backend: 'b', model: 'm', types: ['poetry'] }] }, 2000);
    assert.equal((answer.error as Payload).code, 'invalid_request');
    assert.equal((answer.error as Payload).field, 'slots[0].types');
    const versions = await node.request('koubou.node.odd.join', { slots: [{ backend: 'b', model: 'm' }], ollama_versions: { b: 13 } }, 2000);
    assert.equal((versions.error as Payload).code, 'invalid_request');
    assert.equal((versions.error as Payload).field, 'ollama_versions.b');
  });

  it('requeues a run the node never received once two heartbeats do not list it, then records it when run', async () => {
    const runs: Payload[] = [];
    node.subscribe('koubou.node.hand.run', (p) => runs.push(p));
    const joined = await node.request('koubou.node.hand.join', { slots: [{ backend: 'b', model: 'm' }] }, 2000);
    const session = joined.session as string;
    const id = (await client.delegate({ prompt: 'lost on the way' })).body.task_id as string;
    await eventually(() => runs.length === 1);
    const lost = runs[0]!;
    // Two beats that do not list the run: the coordinator takes it back and, the slot being free, sends it again.
    for (let i = 0; i < 2; i++) await node.request('koubou.node.hand.beat', { session, leases: [] }, 2000);
    await eventually(() => runs.length === 2);
    const events = (await client.get(`/task/${id}/events`)).body.events as { kind: string; reason?: string }[];
    assert.ok(events.some((e) => e.kind === 'requeued' && /never received/.test(e.reason ?? '')), JSON.stringify(events));
    const again = runs[1]!;
    assert.notEqual(again.lease, lost.lease);
    // A beat listing the run keeps it; the outcome under the new lease is recorded, the old lease's is not.
    await node.request('koubou.node.hand.beat', { session, leases: [again.lease] }, 2000);
    await node.request('koubou.node.hand.beat', { session, leases: [again.lease] }, 2000);
    const stale = await node.request('koubou.node.hand.outcome', { session, task_id: id, lease: lost.lease, kind: 'finish', outcome: { status: 'completed', output: 'old' } }, 2000);
    assert.equal(stale.recorded, false);
    const fresh = await node.request('koubou.node.hand.outcome', { session, task_id: id, lease: again.lease, kind: 'finish', outcome: { status: 'completed', output: 'done' } }, 2000);
    assert.equal(fresh.recorded, true);
    const status = (await client.status(id)).body;
    assert.equal(status.status, 'completed');
    assert.equal(status.result.output, 'done');
  });
});

describe('NATS nkey authentication', () => {
  // A throwaway user nkey pair, made for this test only.
  const SEED = 'SUAO2ZO4WAYF3NSZJYZ2RXOEDIIU4CT3YTERHKELNHAN624CGB27ZMBDPE';
  const PUBLIC = 'UCORHO4UQTIKD6P526L3MWHCPBD3YAGQWQHPUW4IAHR7BW4IPIQ4SAUK';
  const OTHER_SEED = 'SUAOZYIUWP6AVZVFXMRMDHDZ7DPEU4WJDBSZVF452DZ66FLT4HIN4YOZSU';

  it('lets a coordinator and a node holding an allowed nkey in, and keeps another nkey out', async () => {
    const dir = tempDir();
    const conf = join(dir.path, 'nats.conf');
    writeFileSync(conf, `authorization { users = [ { nkey: ${PUBLIC} } ] }\n`);
    const seed = join(dir.path, 'user.nk');
    writeFileSync(seed, `${SEED}\n`);
    const otherSeed = join(dir.path, 'other.nk');
    writeFileSync(otherSeed, OTHER_SEED);
    const nats = await startNatsServer(['-c', conf]);
    const fake = await startFakeLlm();
    const koubou = await startTestCoordinator({ backends: [{ url: fake.url, types: ['code'] }], extra: { nats: { url: nats.url, nkey_seed_file: seed } } });
    const node = startNodeProcess(['--nats', nats.url, '--id', 'nk', '--nkey-seed-file', seed, '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model']);
    try {
      const client = api(koubou.url);
      assert.equal((await client.get('/health')).body.nats.state, 'connected');
      const done = (await client.delegate({ prompt: 'signed in with an nkey', sync: true })).body;
      assert.equal(done.status, 'completed');
      assert.match((await client.status(done.task_id)).body.worker_id, /^remote:nk:/);
      await assert.rejects(connectNats({ url: nats.url, name: 'intruder', log: silentLogger, nkeySeedFile: otherSeed }), /Authorization Violation/i);
    } finally {
      node.child.kill('SIGKILL');
      await koubou.close();
      await fake.close();
      await nats.close();
      dir.remove();
    }
  });
});
