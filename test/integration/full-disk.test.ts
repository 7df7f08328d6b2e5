/**
 * A full disk (issue 10 part 5): the store and the log file live on a small tmpfs that fills up during submits. The
 * coordinator keeps answering (503 for submits, /health `degraded` with the reason), comes back by itself once space
 * is freed, loses no accepted task, and still exits on SIGTERM. Needs permission to mount (root, as in CI).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

const PROMPT = 'fill the disk '.repeat(600); // ~8 KB per task

/** Mounts a tmpfs of `size` at dir; the reason it cannot when mounting is not permitted here. */
function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}); run as root to test a full disk`;
  }
}

/** Writes a file until the file system is full (ENOSPC), leaving about `leave` bytes. */
function fillUp(file: string, leave: number): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  execFileSync('truncate', ['-s', `-${leave}`, file]);
}

describe('a full disk under the store and the log', () => {
  let fake: FakeLlm;
  let dir: ReturnType<typeof tempDir>;
  let mnt: string;
  let skip: string | null = null;
  let koubou: CoordinatorProcess;

  before(async () => {
    dir = tempDir();
    mnt = join(dir.path, 'disk');
    mkdirSync(mnt);
    skip = mountTmpfs(mnt, '16m');
    if (skip) return;
    fake = await startFakeLlm({ recordRequests: false });
    const { file } = writeTestConfig({
      dir: dir.path,
      backends: [{ url: fake.url, min_workers: 2, max_workers: 2 }],
      extra: { log: { level: 'info' } },
    });
    // The store (and so logs/koubou.log beside it) on the small disk.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/path: .*koubou\.db/, `path: ${join(mnt, 'koubou.db')}`));
    koubou = await startCoordinatorProcess(file);
  });
  after(async () => {
    if (!skip) {
      if (koubou.child.exitCode === null) koubou.child.kill('SIGKILL');
      await fake.close();
      execFileSync('umount', ['-l', mnt]);
    }
    dir.remove();
  });

  const health = async () => (await fetch(`${koubou.url}/health`)).json() as Promise<{ status: string; store: { writable: boolean; error: string | null } }>;
  const submit = (prompt: string) => fetch(`${koubou.url}/task/delegate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) });

  it('answers 503 and degraded while full, recovers once space is freed, loses nothing accepted, and exits on SIGTERM', async (t) => {
    if (skip) return t.skip(skip);
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) accepted.push(((await (await submit(PROMPT)).json()) as { task_id: string }).task_id);
    fillUp(join(mnt, 'filler'), 256 * 1024);

    let refused = 0;
    for (let i = 0; i < 2000 && refused < 20; i++) {
      const res = await submit(PROMPT);
      const body = (await res.json()) as { task_id?: string; error?: { code: string } };
      if (res.status === 202) accepted.push(body.task_id!);
      else {
        assert.equal(res.status, 503, JSON.stringify(body));
        assert.equal(body.error?.code, 'store_error');
        refused++;
      }
    }
    assert.equal(refused, 20, 'submits were refused once the disk was full');
    const full = await health();
    assert.equal(full.status, 'degraded');
    assert.equal(full.store.writable, false);
    assert.match(full.store.error ?? '', /SQLITE_FULL|SQLITE_IOERR/);
    // Reads still answer.
    assert.equal((await fetch(`${koubou.url}/tasks?limit=5`)).status, 200);

    rmSync(join(mnt, 'filler'));
    await eventually(async () => (await health()).store.writable, 20_000, 100);
    assert.equal((await health()).status, 'ok');
    assert.equal((await submit('after the disk had room again')).status, 202);
    for (const id of accepted) {
      await eventually(async () => ((await (await fetch(`${koubou.url}/task/${id}/status`)).json()) as { status: string }).status === 'completed', 30_000, 50);
    }

    koubou.child.kill('SIGTERM');
    assert.equal(await koubou.exited, 0);
    // The log dropped lines while the disk was full, and said so once it could write again.
    assert.match(readFileSync(join(mnt, 'logs', 'koubou.log'), 'utf8'), /log lines were lost while the log could not be written/);
  });
});
