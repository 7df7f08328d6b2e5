/**
 * One store, one coordinator: real `koubou start` and `koubou mcp` processes on one SQLite file. A second one refuses
 * (start) or forwards to the first (mcp) without touching the store; a SIGKILLed holder's lock is taken over; a start
 * whose port is taken runs nothing; `koubou stop` finds the holder through the lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StoreInUse } from '../../src/errors.js';
import { isAlive, processStartTime } from '../../src/processes.js';
import { liveHolder, lockFilePath, readLockInfo, writeLockInfo } from '../../src/store/lock-file.js';
import { openStore } from '../../src/store/store.js';
import { systemClock } from '../../src/clock.js';
import { api } from '../helpers/api.js';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { mcpOverStdio, type McpTestClient } from '../helpers/mcp-client.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const CLI = KOUBOU_CLI;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `koubou ARGS` to its end; only PATH and `env` reach it. */
function koubou(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('the store lock', () => {
  let fake: FakeLlm;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 20 });
  });
  after(async () => {
    await fake.close();
  });

  /**
   * Waits until the store says the task is in progress. The scheduler sends a call before it commits the assignment,
   * so a holder killed the moment the backend sees the call may leave the task pending (it then simply runs again).
   */
  async function assignmentCommitted(url: string, id: string): Promise<void> {
    await eventually(async () => (await api(url).status(id)).body.status === 'in_progress');
  }

  /** A config on a fresh store; the caller removes dir. */
  function project(extra: Record<string, unknown> = {}) {
    const dir = tempDir();
    const { file, config } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url }], extra: { pool: { shutdown_grace_ms: 500 }, ...extra } });
    return { dir, file, store: config.store.path };
  }

  it('a second koubou start refuses while a task runs on the first, and the task is not run again', async () => {
    const { dir, file, store } = project();
    let first: CoordinatorProcess | null = null;
    try {
      first = await startCoordinatorProcess(file);
      const client = api(first.url);
      const tag = randomUUID();
      const id = (await client.delegate({ prompt: `[[mode:hang]] ${tag}` })).body.task_id as string;
      await eventually(() => posts(tag).length === 1);
      await eventually(() => readLockInfo(lockFilePath(store))?.url === first!.url);

      const second = await koubou(['start', '--config', file, '--log-level', 'info']);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`store in use \\(koubou at ${first.url.replace(/[.]/g, '\\.')}\\)`));
      assert.doesNotMatch(second.stdout, /supervision tree started|requeued/, 'the second process ran nothing');

      const status = (await client.status(id)).body;
      assert.equal(status.status, 'in_progress');
      assert.equal(status.attempts, 1);
      const kinds = ((await client.get(`/task/${id}/events`)).body.events as { kind: string }[]).map((e) => e.kind);
      assert.ok(!kinds.includes('requeued'), `not treated as an orphan: ${kinds.join(',')}`);
      assert.equal(posts(tag).length, 1, 'the model got the task once');
      assert.equal(readLockInfo(lockFilePath(store))?.pid, first.child.pid, 'the lock file still names the first');
      await client.call('DELETE', `/task/${id}`);
    } finally {
      first?.child.kill('SIGTERM');
      if (first) await first.exited;
      dir.remove();
    }
  });

  it('a second start through a symlink to the store names the holder too', async () => {
    const { dir, file, store } = project();
    let first: CoordinatorProcess | null = null;
    try {
      first = await startCoordinatorProcess(file);
      await eventually(() => readLockInfo(lockFilePath(store))?.url === first!.url);
      // Another project folder whose store is a symlink to the first one's.
      const other = tempDir();
      symlinkSync(store, join(other.path, 'koubou.db'));
      const second = await koubou(['start', '--config', writeTestConfig({ dir: other.path, backends: [{ url: fake.url }] }).file]);
      other.remove();
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`store in use \\(koubou at ${first.url.replace(/[.]/g, '\\.')}\\)`));
    } finally {
      first?.child.kill('SIGTERM');
      if (first) await first.exited;
      dir.remove();
    }
  });

  it('a SIGKILLed holder leaves a stale lock that the next start takes over, running its orphan once more', async () => {
    const { dir, file, store } = project();
    let second: CoordinatorProcess | null = null;
    try {
      const first = await startCoordinatorProcess(file);
      const tag = randomUUID();
      const id = (await api(first.url).delegate({ prompt: `orphan ${tag} [[delay:60000]]` })).body.task_id as string;
      await eventually(() => posts(tag).length === 1);
      await assignmentCommitted(first.url, id);
      first.child.kill('SIGKILL');
      await first.exited;
      assert.equal(readLockInfo(lockFilePath(store))?.pid, first.child.pid, 'the killed holder left its lock file');
      assert.equal(liveHolder(store), null, 'and nobody holds the store');

      second = await startCoordinatorProcess(file);
      const lock = readLockInfo(lockFilePath(store));
      assert.equal(lock?.pid, second.child.pid);
      await eventually(() => readLockInfo(lockFilePath(store))?.url === second!.url);
      const client = api(second.url);
      const kinds = ((await client.get(`/task/${id}/events`)).body.events as { kind: string }[]).map((e) => e.kind);
      assert.ok(kinds.includes('requeued'), `the orphan went back to the queue: ${kinds.join(',')}`);
      await eventually(() => posts(tag).length === 2);
      await client.call('DELETE', `/task/${id}`);
    } finally {
      second?.child.kill('SIGTERM');
      if (second) await second.exited;
      dir.remove();
    }
  });

  it('a start whose port is taken recovers nothing and runs nothing; the next start does, once', async () => {
    const { dir, file, store } = project();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    let next: CoordinatorProcess | null = null;
    try {
      // A task left in progress by a coordinator that was killed.
      const first = await startCoordinatorProcess(file);
      const tag = randomUUID();
      const id = (await api(first.url).delegate({ prompt: `left running ${tag} [[delay:60000]]` })).body.task_id as string;
      await eventually(() => posts(tag).length === 1);
      await assignmentCommitted(first.url, id);
      first.child.kill('SIGKILL');
      await first.exited;

      const failed = await koubou(['start', '--config', file, '--port', String(taken)]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /EADDRINUSE/);
      assert.equal(existsSync(lockFilePath(store)), false, 'the failed start let go of the store and removed its lock file');
      const seen = await openStore(store, systemClock);
      try {
        assert.equal(seen.tasks.get(id)?.status, 'in_progress', 'the failed start did not recover the task');
        assert.ok(!seen.tasks.events(id).some((e) => e.kind === 'requeued'));
      } finally {
        await seen.close();
      }
      assert.equal(posts(tag).length, 1, 'nor run it');

      next = await startCoordinatorProcess(file);
      const kinds = ((await api(next.url).get(`/task/${id}/events`)).body.events as { kind: string }[]).map((e) => e.kind);
      assert.equal(kinds.filter((k) => k === 'requeued').length, 1, kinds.join(','));
      await eventually(() => posts(tag).length === 2);
      await api(next.url).call('DELETE', `/task/${id}`);
    } finally {
      next?.child.kill('SIGTERM');
      if (next) await next.exited;
      blocker.close();
      dir.remove();
    }
  });

  it('in one process too: a second open of a held store is refused, and allowed once the first closes', async () => {
    const { dir, store } = project();
    try {
      const first = await openStore(store, systemClock);
      first.advertise('http://127.0.0.1:1');
      await assert.rejects(openStore(store, systemClock), (err: unknown) => err instanceof StoreInUse && /store in use \(koubou at http:\/\/127\.0\.0\.1:1\)/.test(err.message));
      await first.close();
      const again = await openStore(store, systemClock);
      await again.close();
    } finally {
      dir.remove();
    }
  });

  it('a lock file whose pid now names another process (reused) or no process does not count as a holder', async () => {
    const { dir, store } = project();
    try {
      const file = lockFilePath(store);
      const info = { pid: process.pid, started_at: new Date().toISOString(), command: 'start', url: 'http://127.0.0.1:1' };
      writeLockInfo(file, { ...info, process_start: processStartTime(process.pid) });
      assert.equal(liveHolder(store)?.pid, process.pid, 'this very process, started when the file says');
      writeLockInfo(file, { ...info, process_start: '1' });
      assert.equal(liveHolder(store), null, 'same pid, another start time: a reused pid');
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((resolve) => gone.once('exit', resolve));
      writeLockInfo(file, { ...info, pid: gone.pid!, process_start: null });
      assert.equal(liveHolder(store), null, 'an exited process');
    } finally {
      dir.remove();
    }
  });

  it('koubou stop stops a foreground koubou start, which has no pid file', async () => {
    const { dir, file, store } = project();
    try {
      const running = await startCoordinatorProcess(file);
      await eventually(() => liveHolder(store)?.url === running.url);
      const stopped = await koubou(['stop', '--config', file]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(stopped.stdout, `koubou stopped (pid ${running.child.pid})\n`);
      assert.equal(await running.exited, 0, 'it drained and exited cleanly');
      assert.equal(existsSync(lockFilePath(store)), false);
      const again = await koubou(['stop', '--config', file]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not running/);
    } finally {
      dir.remove();
    }
  });

  describe('koubou mcp', () => {
    it('forwards to the running koubou start of its store instead of opening it', async () => {
      const { dir, file, store } = project();
      let coordinator: CoordinatorProcess | null = null;
      let mcp: McpTestClient | null = null;
      try {
        coordinator = await startCoordinatorProcess(file);
        await eventually(() => liveHolder(store)?.url === coordinator!.url);
        mcp = await mcpOverStdio({ KOUBOU_CONFIG: file, KOUBOU_URL: `http://127.0.0.1:${await closedPort()}` }, dir.path);
        const tag = randomUUID();
        const done = await mcp.call('delegate_task', { prompt: `through the lock ${tag}`, wait_seconds: 20 });
        assert.equal(done.status, 'completed');
        const seen = (await api(coordinator.url).status(done.task_id)).body;
        assert.equal(seen.status, 'completed', 'the task went to the running coordinator');
        assert.equal(liveHolder(store)?.pid, coordinator.child.pid);
      } finally {
        await mcp?.close();
        coordinator?.child.kill('SIGTERM');
        if (coordinator) await coordinator.exited;
        dir.remove();
      }
    });

    it('answers the handshake and tools/list while its own coordinator waits for the store; tool calls go through once it has it', async () => {
      const { dir, file, store } = project();
      // Held without a URL: the embedded coordinator can neither open the store nor forward, so it keeps trying.
      const held = await openStore(store, systemClock);
      let mcp: McpTestClient | null = null;
      try {
        mcp = await mcpOverStdio({ KOUBOU_CONFIG: file, KOUBOU_URL: `http://127.0.0.1:${await closedPort()}` }, dir.path);
        const { tools } = await mcp.client.listTools();
        assert.ok(tools.some((t) => t.name === 'delegate_task'));
        assert.equal(liveHolder(store)?.pid, process.pid, 'the store is still held here');
        const status = mcp.call('pool_status');
        await held.close();
        assert.ok(Array.isArray((await status).workers), 'the call waited for the coordinator and was answered by it');
        assert.equal(liveHolder(store)?.command, 'mcp');
      } finally {
        await mcp?.close().catch(() => {});
        await held.close().catch(() => {});
        dir.remove();
      }
    });

    it('when the koubou mcp holding the store goes, those forwarding to it take over: one opens the store, the other forwards to it; no call is lost or run twice', async () => {
      const { dir, file, store } = project();
      const env = { KOUBOU_CONFIG: file, KOUBOU_URL: `http://127.0.0.1:${await closedPort()}` };
      const sessions: McpTestClient[] = [];
      try {
        const first = await mcpOverStdio(env, dir.path);
        sessions.push(first);
        await first.call('pool_status');
        await eventually(() => liveHolder(store)?.url != null);
        assert.equal(liveHolder(store)?.pid, first.pid, 'the first runs the embedded coordinator');
        const second = await mcpOverStdio(env, dir.path);
        const third = await mcpOverStdio(env, dir.path);
        sessions.push(second, third);
        // Both forward to the first from now on.
        await Promise.all([second.call('pool_status'), third.call('pool_status')]);
        assert.equal(liveHolder(store)?.pid, first.pid);

        // The first session ends (its client closes stdin): its coordinator drains and lets go of the store, while
        // both others already have a call on the way.
        const tag = randomUUID();
        await first.close();
        const [a, b] = await Promise.all([
          second.call('delegate_task', { prompt: `second after ${tag}`, wait_seconds: 20 }),
          third.call('delegate_task', { prompt: `third after ${tag}`, wait_seconds: 20 }),
        ]);
        assert.deepEqual([a.status, b.status], ['completed', 'completed']);
        assert.equal(posts(`second after ${tag}`).length, 1, 'the model got each task once');
        assert.equal(posts(`third after ${tag}`).length, 1);
        const taker = liveHolder(store)!;
        assert.ok(taker.pid === second.pid || taker.pid === third.pid, `the store was taken over by one of them, not ${taker.pid}`);
        assert.equal(taker.command, 'mcp');
        // One coordinator for both: each one's task is in the other's list.
        const ids = (await Promise.all([second.call('list_tasks', { limit: 10 }), third.call('list_tasks', { limit: 10 })])).map((l: { task_id: string }[]) => l.map((t) => t.task_id));
        for (const listed of ids) assert.ok(listed.includes(a.task_id) && listed.includes(b.task_id), JSON.stringify(ids));

        // The one that took over is killed while the other waits on a task it runs: the other takes over in turn,
        // and the waiting call still answers, for the one task it submitted.
        const [killed, survivor] = taker.pid === second.pid ? [second, third] : [third, second];
        const slow = `slow ${tag}`;
        const waiting = survivor.call('delegate_task', { prompt: `${slow} [[delay:1500]]`, wait_seconds: 30 });
        await eventually(() => posts(slow).length === 1);
        process.kill(killed.pid!, 'SIGKILL');
        const done = await waiting;
        assert.equal(done.status, 'completed');
        assert.equal(liveHolder(store)?.pid, survivor.pid, 'the survivor holds the store now');
        const listed = (await survivor.call('list_tasks', { limit: 20 })) as { prompt_excerpt: string }[];
        assert.equal(listed.filter((t) => t.prompt_excerpt.includes(slow)).length, 1, 'one task: the waiting call was not submitted again as a new one');
      } finally {
        for (const s of sessions.reverse()) await s.close().catch(() => {});
        dir.remove();
      }
    });

    it('two koubou mcp on one project: the second forwards to the first one\'s embedded coordinator; koubou start refuses; koubou stop stops it', async () => {
      const { dir, file, store } = project();
      const env = { KOUBOU_CONFIG: file, KOUBOU_URL: `http://127.0.0.1:${await closedPort()}` };
      let first: McpTestClient | null = null;
      let second: McpTestClient | null = null;
      try {
        first = await mcpOverStdio(env, dir.path);
        const queued = await first.call('delegate_task', { prompt: 'wake the embedded one' });
        await eventually(() => liveHolder(store)?.url != null);
        const holder = liveHolder(store)!;
        assert.equal(holder.command, 'mcp');
        assert.match(holder.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(holder.url, 'http://127.0.0.1:8765', 'no port configured: any free one');

        second = await mcpOverStdio(env, dir.path);
        const tag = randomUUID();
        const hanging = await second.call('delegate_task', { prompt: `[[mode:hang]] ${tag}` });
        await eventually(() => posts(tag).length === 1);
        const listed = await first.call('list_tasks', { limit: 10 });
        assert.ok(listed.some((t: { task_id: string }) => t.task_id === hanging.task_id), 'the second one\'s task is in the first one\'s coordinator');
        assert.ok(listed.some((t: { task_id: string }) => t.task_id === queued.task_id));
        assert.equal(liveHolder(store)?.pid, holder.pid, 'the first still holds the store');

        const refused = await koubou(['start', '--config', file]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, new RegExp(`store in use \\(koubou at ${holder.url!.replace(/[.]/g, '\\.')}\\)`));
        assert.equal(posts(tag).length, 1, 'the refused start ran nothing');
        await second.call('cancel_task', { task_id: hanging.task_id });

        const stopped = await koubou(['stop', '--config', file]);
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.match(stopped.stdout, /koubou stopped \(pid \d+, the coordinator inside koubou mcp\)/);
        assert.equal(isAlive(holder.pid), false);
        assert.equal(existsSync(lockFilePath(store)), false);
      } finally {
        await second?.close().catch(() => {});
        await first?.close().catch(() => {});
        dir.remove();
      }
    });
  });
});
