/**
 * NATS's own security on a real nats-server: the config `koubou nats-config` writes keeps every client to its role
 * (no credentials: no connection; services: tasks only; a node: its own subjects only), a task still runs through a
 * node, and the pool token reaches no log. Then, on a server without any permissions, the coordinator itself refuses
 * a node speaking for another node's session or run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, nkeyAuthenticator, type NatsConnection } from 'nats';
import { createLogger, silentLogger } from '../../src/logger.js';
import { connectNats, type NatsLink, type Payload } from '../../src/nats/connection.js';
import { NODE_PROTOCOL_VERSION } from '../../src/nats/node-protocol.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { tempDir } from '../helpers/temp.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const KOUBOU = KOUBOU_CLI;
const TOKEN = 'Zq7x-pool-token-never-seen';
/** JSON.parse quotes about ten characters around a mistake: enough to leak the start of a secret. */
const leaks = (text: string) => text.includes(TOKEN.slice(0, 6));

type Violation = { operation: string; subject: string };

/** A raw client (the `nats` package itself, as any other program would use it) that records what the server refuses. */
async function rawClient(url: string, seedFile: string | null, inboxPrefix?: string): Promise<{ nc: NatsConnection; refused: Violation[] }> {
  const seed = seedFile && new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim());
  const nc = await connect({ servers: url, ...(seed ? { authenticator: nkeyAuthenticator(seed) } : {}), ...(inboxPrefix ? { inboxPrefix } : {}) });
  const refused: Violation[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: Violation }).permissionContext;
      if (ctx) refused.push({ operation: ctx.operation, subject: ctx.subject });
    }
  })();
  return { nc, refused };
}

const refusedOn = (refused: Violation[], operation: string, subject: string) => refused.some((v) => v.operation === operation && v.subject === subject);

describe('a LAN pool on the nats-server config of `koubou nats-config`', () => {
  const dir = tempDir();
  const seeds = (name: string) => join(dir.path, 'nats', name);
  const lines: string[] = [];
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let node: NodeProcess;

  before(async () => {
    const made = spawnSync(process.execPath, [KOUBOU, 'nats-config', '--out', join(dir.path, 'nats'), '--nodes', 'n1,n2'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    nats = await startNatsServer(['-c', seeds('nats.conf')]);
    fake = await startFakeLlm();
    // The local backend takes only code, so general tasks can only run on the node.
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url, types: ['code'] }],
      extra: { nats: { url: nats.url, nkey_seed_file: seeds('coordinator.nk'), pool_token: TOKEN } },
      log: createLogger('debug', (line) => lines.push(line)),
    });
    node = startNodeProcess(['--nats', nats.url, '--id', 'n1', '--nkey-seed-file', seeds('node-n1.nk'), '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model'], {
      KOUBOU_POOL_TOKEN: TOKEN,
    });
    await eventually(async () => ((await api(koubou.url).get('/workers')).body.workers as { worker_id: string }[]).some((w) => w.worker_id === 'remote:n1:0'), 15_000).catch((err) => {
      throw new Error(`${err.message}\nnode:\n${node.output()}\ncoordinator:\n${lines.join('\n')}`);
    });
  });
  after(async () => {
    node.child.kill('SIGKILL');
    await koubou.close();
    await fake.close();
    await nats.close();
    dir.remove();
  });

  it('writes each seed readable by its owner only, and a config nats-server accepts', () => {
    for (const f of ['coordinator.nk', 'node-n1.nk', 'node-n2.nk', 'service.nk']) {
      assert.equal(statSync(seeds(f)).mode & 0o777, 0o600, f);
      assert.match(readFileSync(seeds(f), 'utf8'), /^SU[A-Z2-7]{56}\n$/);
    }
    const conf = readFileSync(seeds('nats.conf'), 'utf8');
    assert.doesNotMatch(conf, /SU[A-Z2-7]{56}/, 'no seed in the server config');
  });

  it('keeps out a client without credentials', async () => {
    await assert.rejects(connect({ servers: nats.url }), /Authorization Violation/i);
  });

  it('lets services delegate and read their answers, but not watch or forge node traffic', async () => {
    const { nc, refused } = await rawClient(nats.url, seeds('service.nk'));
    try {
      const seen: string[] = [];
      nc.subscribe('koubou.node.>', { callback: (err, msg) => seen.push(err ? `error: ${err.message}` : msg.subject) });
      nc.publish('koubou.node.n1.outcome', new TextEncoder().encode('{"v":2}'));
      await eventually(() => refusedOn(refused, 'subscription', 'koubou.node.>') && refusedOn(refused, 'publish', 'koubou.node.n1.outcome'));
      assert.ok(seen.every((s) => s.startsWith('error')), JSON.stringify(seen));
      const answer = await nc.request('koubou.task.delegate', new TextEncoder().encode(JSON.stringify({ v: 1, prompt: 'from a service', sync: true })), { timeout: 10_000 });
      const body = JSON.parse(new TextDecoder().decode(answer.data)) as Payload;
      assert.equal(body.status, 'completed', JSON.stringify(body));
    } finally {
      await nc.close();
    }
  });

  it("keeps a node to its own subjects: it cannot publish another node's outcome, hear its runs or read its replies", async () => {
    const { nc, refused } = await rawClient(nats.url, seeds('node-n2.nk'));
    try {
      nc.publish('koubou.node.n1.outcome', new TextEncoder().encode('{"v":2}'));
      nc.subscribe('koubou.node.n1.run', { callback: () => {} });
      nc.subscribe('koubou.inbox.node.n1.>', { callback: () => {} });
      nc.subscribe('_INBOX.>', { callback: () => {} });
      await eventually(
        () =>
          refusedOn(refused, 'publish', 'koubou.node.n1.outcome') &&
          refusedOn(refused, 'subscription', 'koubou.node.n1.run') &&
          refusedOn(refused, 'subscription', 'koubou.inbox.node.n1.>') &&
          refusedOn(refused, 'subscription', '_INBOX.>'),
      );
    } finally {
      await nc.close();
    }
  });

  it('runs a task through the node, which shows its backend under its own name', async () => {
    const client = api(koubou.url);
    const done = (await client.delegate({ prompt: 'through the permissioned pool', sync: true })).body;
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.match((await client.status(done.task_id)).body.worker_id, /^remote:n1:/);
    const workers = (await client.get('/workers')).body.workers as { worker_id: string; backend: string }[];
    assert.equal(workers.find((w) => w.worker_id === 'remote:n1:0')?.backend, 'n1');
  });

  it('never logs or echoes the pool token, even for a join that is refused or malformed', async () => {
    // n2 holds valid NATS credentials but the wrong token, then sends a join the coordinator cannot parse.
    const n2 = (await connectNats({ url: nats.url, name: 'n2', log: silentLogger, nkeySeedFile: seeds('node-n2.nk'), inboxPrefix: 'koubou.inbox.node.n2' })).speaking(NODE_PROTOCOL_VERSION);
    const raw = await rawClient(nats.url, seeds('node-n2.nk'), 'koubou.inbox.node.n2');
    try {
      const wrong = await n2.request('koubou.node.n2.join', { token: `${TOKEN}-but-wrong`, slots: [{ backend: 'b', model: 'm' }] }, 5000);
      assert.equal((wrong.error as Payload).code, 'unauthorized');
      // A join the coordinator cannot parse (the token left unquoted), answered and logged without quoting it.
      const garbled = new TextEncoder().encode(`{"v":2,"token":${TOKEN}}`);
      const answer = new TextDecoder().decode((await raw.nc.request('koubou.node.n2.join', garbled, { timeout: 5000 })).data);
      assert.match(answer, /invalid_message/);
      assert.ok(!leaks(answer), answer);
      raw.nc.publish('koubou.node.n2.progress', garbled);
      await eventually(() => lines.some((l) => l.includes('wrong pool token')) && lines.some((l) => l.includes('dropped an invalid NATS message')));
    } finally {
      await n2.close();
      await raw.nc.close();
    }
    for (const l of lines) assert.ok(!leaks(l), l);
    assert.ok(!leaks(node.output()), 'the node process logged the token');
  });
});

describe('the coordinator itself, on a NATS server that enforces nothing', () => {
  const lines: string[] = [];
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let a: NatsLink;
  let b: NatsLink;

  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, types: ['code'] }], extra: { nats: { url: nats.url } }, log: createLogger('debug', (line) => lines.push(line)) });
    const node = async (id: string) => (await connectNats({ url: nats.url, name: id, log: silentLogger })).speaking(NODE_PROTOCOL_VERSION);
    a = await node('a');
    b = await node('b');
  });
  after(async () => {
    await a.close();
    await b.close();
    await koubou.close();
    await fake.close();
    await nats.close();
  });

  it("refuses a node's outcome, progress and beat that name another node's session or run, with a warn line", async () => {
    const client = api(koubou.url);
    const runs: Payload[] = [];
    a.subscribe('koubou.node.a.run', (p) => runs.push(p));
    const sessionA = (await a.request('koubou.node.a.join', { slots: [{ backend: 'b', model: 'm' }] }, 5000)).session as string;
    const id = (await client.delegate({ prompt: 'runs on a' })).body.task_id as string;
    await eventually(() => runs.length === 1);
    const { lease } = runs[0]! as { lease: string };
    // Only now does b join: the task is a's.
    const sessionB = (await b.request('koubou.node.b.join', { slots: [{ backend: 'b', model: 'm' }] }, 5000)).session as string;
    assert.notEqual(sessionA, sessionB);
    const forged = { task_id: id, lease, kind: 'finish', outcome: { status: 'completed', output: 'forged by b' } };

    // b, as itself, with a's lease.
    const own = await b.request('koubou.node.b.outcome', { session: sessionB, ...forged }, 5000);
    assert.equal((own.error as Payload).code, 'not_this_node', JSON.stringify(own));
    // b on a's subject (nothing stops it here) with its own session.
    const posing = await b.request('koubou.node.a.outcome', { session: sessionB, ...forged }, 5000);
    assert.equal((posing.error as Payload).code, 'not_this_node', JSON.stringify(posing));
    // b naming itself a in the payload of its own subject.
    const named = await b.request('koubou.node.b.outcome', { node_id: 'a', session: sessionB, ...forged }, 5000);
    assert.equal((named.error as Payload).code, 'not_this_node', JSON.stringify(named));
    // A beat with a's session on b's subject is not known, and logged.
    assert.equal((await b.request('koubou.node.b.beat', { session: sessionA, leases: [] }, 5000)).known, false);
    b.publish('koubou.node.b.progress', { session: sessionB, task_id: id, lease, chunk: 'injected by b' });
    await eventually(() => lines.some((l) => l.includes("refused a node's progress for another node's run")));
    assert.ok(lines.some((l) => l.includes('"level":"warn"') && l.includes("refused a node's outcome for another node's run") && l.includes('"node":"b"')));
    assert.ok(lines.some((l) => l.includes("refused a node's outcome naming another node's session")));
    assert.ok(lines.some((l) => l.includes("refused a beat naming another node's session")));
    assert.ok(lines.some((l) => l.includes('refused a node message naming another node')));
    // And it said at start-up that this server trusts everyone.
    assert.ok(lines.some((l) => l.includes('"level":"warn"') && l.includes('NATS without credentials')));

    // Nothing of b's counted: the task is still a's, and a's own answer is recorded.
    a.publish('koubou.node.a.progress', { session: sessionA, task_id: id, lease, chunk: 'from a' });
    await eventually(async () => (await client.status(id)).body.partial_output?.text === 'from a');
    const recorded = await a.request('koubou.node.a.outcome', { session: sessionA, task_id: id, lease, kind: 'finish', outcome: { status: 'completed', output: 'by a' } }, 5000);
    assert.equal(recorded.recorded, true);
    const status = (await client.status(id)).body;
    assert.equal(status.result.output, 'by a');
    assert.match(status.worker_id, /^remote:a:/);
  });

  it('tells a node of the first protocol to upgrade instead of leaving it waiting', async () => {
    const old = await connectNats({ url: nats.url, name: 'old node', log: silentLogger });
    try {
      const answer = await old.request('koubou.node.join', { node_id: 'old', token: null, slots: [{ backend: 'b', model: 'm' }] }, 5000);
      assert.match((answer.error as Payload).message as string, /node protocol v2.*upgrade koubou-node/);
    } finally {
      await old.close();
    }
  });
});

describe('`koubou nats-config --tls-cert --tls-key`', () => {
  it('serves TLS only, and a coordinator and a node trusting the CA run a task through it', async (t) => {
    const dir = tempDir();
    const cert = join(dir.path, 'cert.pem');
    const key = join(dir.path, 'key.pem');
    // A self-signed certificate for the loopback address, standing in for one from the user's own CA.
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=koubou-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    if (made.error) return t.skip('openssl is not installed');
    assert.equal(made.status, 0, made.stderr);
    const out = join(dir.path, 'nats');
    const config = spawnSync(process.execPath, [KOUBOU, 'nats-config', '--out', out, '--nodes', 'n1', '--tls-cert', cert, '--tls-key', key], { encoding: 'utf8' });
    assert.equal(config.status, 0, config.stderr);
    assert.match(readFileSync(join(out, 'nats.conf'), 'utf8'), /tls \{\n  cert_file: ".*cert\.pem"\n  key_file: ".*key\.pem"\n\}/);
    const nats = await startNatsServer(['-c', join(out, 'nats.conf')]);
    const fake = await startFakeLlm();
    const url = `tls://127.0.0.1:${nats.port}`;
    const koubou = await startTestCoordinator({ backends: [{ url: fake.url, types: ['code'] }], extra: { nats: { url, nkey_seed_file: join(out, 'coordinator.nk'), tls_ca_file: cert } } });
    const node = startNodeProcess(['--nats', url, '--id', 'n1', '--nkey-seed-file', join(out, 'node-n1.nk'), '--tls-ca', cert, '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model']);
    try {
      // Without the CA the server's certificate is not trusted; without TLS the server refuses.
      await assert.rejects(connectNats({ url, name: 'untrusting', log: silentLogger, nkeySeedFile: join(out, 'service.nk') }), /certificate/i);
      const client = api(koubou.url);
      await eventually(async () => ((await client.get('/workers')).body.workers as { worker_id: string }[]).some((w) => w.worker_id === 'remote:n1:0'), 15_000).catch((err) => {
        throw new Error(`${err.message}\nnode:\n${node.output()}`);
      });
      const done = (await client.delegate({ prompt: 'over TLS', sync: true })).body;
      assert.equal(done.status, 'completed', JSON.stringify(done) + node.output());
      assert.match((await client.status(done.task_id)).body.worker_id, /^remote:n1:/);
    } finally {
      node.child.kill('SIGKILL');
      await koubou.close();
      await fake.close();
      await nats.close();
      dir.remove();
    }
  });
});
