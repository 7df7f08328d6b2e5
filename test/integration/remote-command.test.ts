/**
 * Agent CLIs on a koubou-node: a real node process serving command backends (test/helpers/fake-agent-cli.ts speaking
 * codex's JSONL) in its own workspace_root, over a real nats-server whose max_payload is small, for a coordinator that
 * has no command backend of its own. The result's branch and diff come back over NATS.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { tempDir } from '../helpers/temp.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-agent-cli.js', import.meta.url));
const POOL_TOKEN = 'pool-secret-for-remote-agents';
/** Small enough that a 200 KB diff cannot travel whole. */
const MAX_PAYLOAD = 64 * 1024;


describe('agent CLIs on a koubou-node', () => {
  const temp = tempDir();
  /** The node's machine: its workspace root and a repository in it. */
  const ws = join(temp.path, 'node-ws');
  const repo = join(ws, 'calc');
  let nats: NatsServer;
  let node: NodeProcess;
  let coord: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    makeRepo(repo);
    const natsConf = join(temp.path, 'nats.conf');
    writeFileSync(natsConf, `max_payload: ${MAX_PAYLOAD}\n`);
    nats = await startNatsServer(['-c', natsConf]);
    coord = await startTestCoordinator({ backends: [], extra: { nats: { url: nats.url, pool_token: POOL_TOKEN } } });
    client = api(coord.url);

    const cmd = (name: string, types: string[], command: string[], more: Record<string, unknown> = {}) => ({
      name,
      type: 'command',
      preset: command.includes('env') ? 'generic' : 'codex',
      command: [process.execPath, FAKE, ...command],
      model: 'fake-model',
      workspace_root: ws,
      types,
      max_workers: 2,
      ...more,
    });
    const nodeConfig = join(temp.path, 'node.yaml');
    writeFileSync(
      nodeConfig,
      YAML.stringify({
        store: { path: join(temp.path, 'node-data', 'koubou.db') },
        backends: [cmd('agent', ['code'], ['codex-edit']), cmd('big', ['refactoring'], ['codex-big', '200000']), cmd('env', ['analysis'], ['env'], { max_workers: 1 })],
      }),
    );
    // What the node's environment may hold: none of it may reach a CLI.
    node = startNodeProcess(['--config', nodeConfig, '--nats', nats.url, '--id', 'builder'], { KOUBOU_POOL_TOKEN: POOL_TOKEN, SNEAKY: POOL_TOKEN });
    await eventually(async () => ((await client.get('/workers')).body.workers as { location: string }[]).filter((w) => w.location === 'remote').length === 5, 15_000);
  });

  after(async () => {
    node?.child.kill('SIGTERM');
    await node?.exited;
    await coord?.close();
    await nats?.close();
    temp.remove();
  });

  it("runs a codex-format task in a worktree on the node; the diff and branch come back; the node's checkout is untouched", async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ type: 'code', prompt: 'Add unit tests', workdir: repo, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { result, task_id: id } = res.body;
    assert.equal(result.success, true, JSON.stringify(result));
    assert.equal(result.output, 'Done: Add unit tests');
    assert.equal((await client.status(id)).body.worker_id.startsWith('remote:builder:'), true);
    const { changes } = result;
    assert.equal(changes.branch, `koubou/${id}`);
    assert.equal(changes.base, head);
    assert.equal(changes.diff_truncated, false);
    assert.deepEqual(
      changes.files.map((f: any) => [f.path, f.status, f.additions, f.deletions]).sort(),
      [['README.md', 'modified', 1, 0], ['src/new.txt', 'added', 2, 0]],
    );
    assert.match(changes.diff, /\+\+\+ b\/src\/new\.txt/);
    // The branch is in the node's repository, with one commit; the checkout there is as it was.
    assert.equal(git(repo, 'rev-list', '--count', `${head}..${changes.branch}`), '1');
    assert.equal(git(repo, 'rev-parse', 'HEAD'), head);
    assert.equal(git(repo, 'status', '--porcelain'), '');
    assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), '# calc\n');
  });

  it('a diff larger than the NATS max_payload comes back cut and marked, the task completed; the branch holds all of it', async () => {
    const res = await client.delegate({ type: 'refactoring', prompt: 'Write a big file', workdir: repo, sync: true });
    const { result, task_id: id } = res.body;
    assert.equal(result.success, true, JSON.stringify(result).slice(0, 500));
    assert.equal(result.changes.diff_truncated, true);
    assert.ok(result.changes.diff.length > 0 && Buffer.byteLength(result.changes.diff) < MAX_PAYLOAD, `${Buffer.byteLength(result.changes.diff)} bytes of diff`);
    assert.deepEqual(result.changes.files.map((f: any) => [f.path, f.status]), [['big.txt', 'added']]);
    assert.ok(git(repo, 'show', `koubou/${id}:big.txt`).length >= 190_000);
    assert.match(node.output(), /the result's diff was cut to fit in one NATS message/);
  });

  it("a workdir under no workspace_root a node announced is a 400 naming workdir; one the node cannot find fails there, naming it", async () => {
    const outside = join(temp.path, 'elsewhere');
    mkdirSync(outside);
    for (const workdir of [outside, join(ws, '..', 'elsewhere'), 'relative/dir']) {
      const res = await client.delegate({ type: 'code', prompt: 'hi', workdir });
      assert.equal(res.status, 400, `${workdir}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.field, 'workdir');
    }
    // Only the node can look inside its root: the coordinator takes the path, the node refuses it when it runs.
    const missing = await client.delegate({ type: 'code', prompt: 'hi', workdir: join(ws, 'missing'), sync: true });
    assert.equal(missing.body.status, 'failed', JSON.stringify(missing.body));
    assert.match(missing.body.result.error, /workdir does not exist/);
  });

  it("the environment a CLI sees on the node has none of Koubou's secrets", async () => {
    const res = await client.delegate({ type: 'analysis', prompt: 'env', sync: true });
    assert.equal(res.body.result?.success, true, JSON.stringify(res.body));
    const env = JSON.parse(res.body.result.output) as Record<string, string>;
    assert.ok(env.PATH);
    assert.equal(Object.keys(env).some((k) => k.startsWith('KOUBOU_') || k.startsWith('NATS_')), false, Object.keys(env).join(','));
    assert.equal(Object.values(env).includes(POOL_TOKEN), false);
  });
});
