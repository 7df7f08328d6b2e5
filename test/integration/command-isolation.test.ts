/**
 * Command backends: streaming while the CLI runs, `isolation: none` (one task per workdir at a time), timeouts that
 * kill the whole process group, and routing (a task naming a workdir never goes to an LLM server).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { openSse } from '../helpers/sse.js';
import { alive, hangPids } from '../helpers/pids.js';
import { tempDir } from '../helpers/temp.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-agent-cli.js', import.meta.url));

describe('command backends: streaming, isolation none, timeouts, routing', () => {
  const temp = tempDir();
  const ws = join(temp.path, 'ws');
  const shared = join(ws, 'shared');
  const gate = join(temp.path, 'gate');
  const log = join(temp.path, 'order.log');
  const pidfile = join(temp.path, 'hang.pids');
  let coord: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    mkdirSync(shared, { recursive: true });
    mkdirSync(join(ws, 'other'));
    execFileSync('git', ['init', '--quiet'], { cwd: shared });
    mkdirSync(join(temp.path, 'coord'));
    const node = process.execPath;
    coord = await startTestCoordinator({
      dir: join(temp.path, 'coord'),
      backends: [
        // An LLM server that takes code tasks too; nothing listens there, so a task sent to it would never finish.
        { name: 'llm', type: 'ollama', url: 'http://127.0.0.1:9', types: ['code'], min_workers: 2, max_workers: 2 },
        {
          name: 'none', type: 'command', types: ['code'], min_workers: 3, max_workers: 3,
          settings: { preset: 'codex', command: [node, FAKE, 'codex-gated', gate, log], workspace_root: ws, isolation: 'none' },
        },
        { name: 'hang', type: 'command', types: ['refactoring'], timeout_s: 1, settings: { preset: 'generic', command: [node, FAKE, 'hang', pidfile], kill_grace_ms: 200 } },
      ],
    });
    client = api(coord.url);
  });

  after(async () => {
    writeFileSync(gate, '');
    await coord?.close();
    temp.remove();
  });

  it('streams the agent message to /events while the CLI runs; the answer is the message, not the JSON lines', async () => {
    const events = await openSse(`${coord.url}/events`);
    const id = (await client.delegate({ type: 'code', prompt: 'stream please', workdir: shared })).body.task_id;
    await eventually(() => events.messages.some((m) => m.data.task_id === id && m.data.kind === 'progress'), 10_000);
    // The CLI is still waiting for the gate: the chunk came while it ran.
    assert.equal((await client.status(id)).body.status, 'in_progress');
    writeFileSync(gate, '');
    await eventually(async () => (await client.status(id)).body.status === 'completed', 10_000);
    const done = (await client.status(id)).body;
    assert.equal(done.result.output, 'Half and whole');
    assert.equal(done.worker_id.includes('none'), true, done.worker_id);
    const chunks = events.messages.filter((m) => m.data.task_id === id && m.data.kind === 'progress').map((m) => m.data.chunk);
    assert.equal(chunks.join(''), 'Half and whole');
    events.close();
    rmSync(gate);
  });

  it('isolation none runs one task per workdir at a time: the second waits for the first', async () => {
    writeFileSync(log, '');
    const first = (await client.delegate({ type: 'code', prompt: 'one', workdir: shared })).body.task_id;
    const second = (await client.delegate({ type: 'code', prompt: 'two', workdir: shared })).body.task_id;
    // Both are assigned (two workers), but only one CLI has started.
    await eventually(async () => (await client.status(first)).body.status === 'in_progress' && (await client.status(second)).body.status === 'in_progress', 10_000);
    await eventually(() => readFileSync(log, 'utf8') === 'start\n', 10_000);
    writeFileSync(gate, '');
    for (const id of [first, second]) await eventually(async () => (await client.status(id)).body.status === 'completed', 10_000);
    assert.equal(readFileSync(log, 'utf8'), 'start\nend\nstart\nend\n');
    assert.equal((await client.status(first)).body.result.changes, undefined, 'isolation none reports no diff');
    rmSync(gate);
  });

  it('a task cancelled while it waits for its workdir stops waiting and frees its worker', async () => {
    writeFileSync(log, '');
    const first = (await client.delegate({ type: 'code', prompt: 'one', workdir: shared })).body.task_id;
    await eventually(() => readFileSync(log, 'utf8') === 'start\n', 10_000);
    const second = (await client.delegate({ type: 'code', prompt: 'two', workdir: shared })).body.task_id;
    const third = (await client.delegate({ type: 'code', prompt: 'three', workdir: shared })).body.task_id;
    await eventually(async () => (await client.status(third)).body.status === 'in_progress', 10_000);
    assert.equal((await client.post(`/task/${third}/cancel`)).status, 200);
    // All three workers were taken; the one freed by the cancel runs a task in another workdir while the gate is shut.
    const other = (await client.delegate({ type: 'code', prompt: 'elsewhere', workdir: join(ws, 'other') })).body.task_id;
    await eventually(() => readFileSync(log, 'utf8') === 'start\nstart\n', 10_000);
    writeFileSync(gate, '');
    for (const id of [first, second, other]) await eventually(async () => (await client.status(id)).body.status === 'completed', 10_000);
    assert.equal((await client.status(third)).body.status, 'cancelled');
    assert.equal(readFileSync(log, 'utf8').split('start').length - 1, 3, 'the cancelled task never ran');
    rmSync(gate);
  });

  it('a timeout kills the whole process group and is not retried', async () => {
    const id = (await client.delegate({ type: 'refactoring', prompt: 'hang' })).body.task_id;
    await eventually(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').includes(' '), 10_000);
    const [child, grandchild] = hangPids(readFileSync(pidfile, 'utf8'));
    await eventually(async () => (await client.status(id)).body.status === 'failed', 10_000);
    const st = (await client.status(id)).body;
    assert.equal(st.result.error_code, 'timeout');
    assert.equal(st.attempts, 1);
    await eventually(() => !alive(child) && !alive(grandchild), 5_000);
  });

  it('a coordinator that shuts down leaves no CLI process behind', async () => {
    const dir = join(temp.path, 'coord2');
    mkdirSync(dir);
    const pids = join(temp.path, 'shutdown.pids');
    const second = await startTestCoordinator({
      dir,
      extra: { pool: { shutdown_grace_ms: 100 } },
      backends: [{ name: 'hang', type: 'command', settings: { preset: 'generic', command: [process.execPath, FAKE, 'hang', pids], kill_grace_ms: 200 } }],
    });
    await api(second.url).delegate({ prompt: 'hang' });
    await eventually(() => existsSync(pids) && readFileSync(pids, 'utf8').includes(' '), 10_000);
    const [child, grandchild] = hangPids(readFileSync(pids, 'utf8'));
    await second.close();
    await eventually(() => !alive(child) && !alive(grandchild), 5_000);
  });
});
