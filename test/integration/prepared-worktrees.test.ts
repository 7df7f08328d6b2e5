/**
 * Prepared worktrees with real git in temp repositories: a task gets its branch at the current HEAD from a worktree
 * made before it, never one another task holds, never one somebody changed, and close() leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PreparedWorktrees, type TaskWorktree } from '../../src/backends/command/prepared-worktrees.js';
import { createLogger } from '../../src/logger.js';
import { tempDir } from '../helpers/temp.js';

const ENV = { PATH: process.env.PATH ?? '', HOME: tmpdir(), GIT_TERMINAL_PROMPT: '0' };
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@localhost', ...args], { cwd, encoding: 'utf8', env: ENV }).trim();

/** The repository's worktrees other than its own checkout: path, and branch (null when detached). */
function otherWorktrees(repo: string): { path: string; branch: string | null }[] {
  return git(repo, 'worktree', 'list', '--porcelain')
    .split('\n\n')
    .slice(1)
    .map((block) => {
      const lines = block.split('\n');
      const branch = lines.find((l) => l.startsWith('branch '));
      return { path: lines[0]!.slice('worktree '.length), branch: branch ? branch.slice('branch refs/heads/'.length) : null };
    });
}

describe('prepared worktrees', () => {
  const temp = tempDir();
  const pools: PreparedWorktrees[] = [];
  let repoCount = 0;
  const warnings: Record<string, unknown>[] = [];
  const log = createLogger('warn', (line) => warnings.push(JSON.parse(line)));

  function makeRepo(): string {
    const dir = join(temp.path, `repo${repoCount++}`);
    mkdirSync(dir);
    git(dir, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(dir, 'README.md'), 'first\n');
    writeFileSync(join(dir, '.gitignore'), 'build/\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '--quiet', '-m', 'first');
    return dir;
  }

  function pool(perRepo: number): PreparedWorktrees {
    const p = new PreparedWorktrees({ perRepo, env: ENV, log });
    pools.push(p);
    return p;
  }

  /** A repository whose pool holds `perRepo` prepared worktrees, made after one task came and went. */
  async function warmed(perRepo: number): Promise<{ repo: string; worktrees: PreparedWorktrees; prepared: string[] }> {
    const repo = makeRepo();
    const worktrees = pool(perRepo);
    const first = await worktrees.checkout(repo, 'koubou/first');
    await worktrees.removeLater(repo, first);
    await worktrees.settled();
    const prepared = otherWorktrees(repo);
    assert.equal(prepared.length, perRepo);
    assert.ok(prepared.every((w) => w.branch === null), 'prepared worktrees are detached');
    return { repo, worktrees, prepared: prepared.map((w) => w.path) };
  }

  const branchOf = (wt: TaskWorktree) => git(wt.tree, 'rev-parse', '--abbrev-ref', 'HEAD');

  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    temp.remove();
  });

  it('a task takes the prepared worktree, on its branch at the current HEAD, though HEAD moved after preparing', async () => {
    const { repo, worktrees, prepared } = await warmed(1);
    writeFileSync(join(repo, 'README.md'), 'second\n');
    git(repo, 'commit', '--quiet', '-am', 'second');
    const head = git(repo, 'rev-parse', 'HEAD');
    const wt = await worktrees.checkout(repo, 'koubou/task');
    assert.equal(wt.tree, prepared[0], 'the prepared worktree was used');
    assert.equal(wt.base, head);
    assert.equal(branchOf(wt), 'koubou/task');
    assert.equal(git(wt.tree, 'rev-parse', 'HEAD'), head);
    assert.equal(readFileSync(join(wt.tree, 'README.md'), 'utf8'), 'second\n');
    assert.equal(git(wt.tree, 'status', '--porcelain'), '');
    await worktrees.remove(repo, wt);
  });

  it('tasks at once never share a worktree, whether it was prepared or is still being prepared', async () => {
    const { repo, worktrees } = await warmed(2);
    // Two take the prepared ones; each of the others waits for one being made (each taking starts another).
    const wts = await Promise.all([0, 1, 2, 3, 4].map((i) => worktrees.checkout(repo, `koubou/t${i}`)));
    assert.equal(new Set(wts.map((w) => w.tree)).size, 5);
    wts.forEach((wt, i) => assert.equal(branchOf(wt), `koubou/t${i}`));
    for (const wt of wts) writeFileSync(join(wt.tree, 'mine.txt'), wt.tree);
    for (const wt of wts) assert.equal(readFileSync(join(wt.tree, 'mine.txt'), 'utf8'), wt.tree);
    await Promise.all(wts.map((wt) => worktrees.remove(repo, wt)));
  });

  it('a prepared worktree somebody changed is removed, not used; so is one whose directory is gone', async () => {
    for (const spoil of [
      (tree: string) => writeFileSync(join(tree, 'README.md'), 'edited\n'),
      (tree: string) => writeFileSync(join(tree, 'stray.txt'), 'x'),
      (tree: string) => (mkdirSync(join(tree, 'build')), writeFileSync(join(tree, 'build', 'out.js'), 'ignored but there')),
      (tree: string) => rmSync(join(tree, '..'), { recursive: true, force: true }),
    ]) {
      const { repo, worktrees, prepared } = await warmed(1);
      spoil(prepared[0]!);
      warnings.length = 0;
      const wt = await worktrees.checkout(repo, 'koubou/after-spoil');
      assert.notEqual(wt.tree, prepared[0]);
      assert.equal(existsSync(prepared[0]!), false, 'the spoilt one is deleted');
      assert.equal(otherWorktrees(repo).some((w) => w.path === prepared[0]), false, 'and no longer registered');
      assert.equal(branchOf(wt), 'koubou/after-spoil');
      assert.equal(git(wt.tree, 'status', '--porcelain', '--ignored'), '');
      assert.equal(readFileSync(join(wt.tree, 'README.md'), 'utf8'), 'first\n');
      assert.ok(warnings.some((w) => w.level === 'warn' && w.worktree === prepared[0]), JSON.stringify(warnings));
      await worktrees.remove(repo, wt);
    }
  });

  it('close removes every worktree it made and keeps the branches of finished tasks', async () => {
    const { repo, worktrees } = await warmed(2);
    const kept = await worktrees.checkout(repo, 'koubou/kept');
    writeFileSync(join(kept.tree, 'README.md'), 'work\n');
    git(kept.tree, 'commit', '--quiet', '-am', 'work');
    await worktrees.removeLater(repo, kept);
    // A finished task's branch is free at once: the user may delete it while its directory is still being removed
    // (git may die listing the worktrees while one is half removed: that alone is tried again).
    const dropped = await worktrees.checkout(repo, 'koubou/dropped');
    await worktrees.removeLater(repo, dropped);
    for (let tries = 0; ; tries++) {
      try {
        git(repo, 'branch', '--quiet', '-D', 'koubou/dropped');
        break;
      } catch (err) {
        if (!/failed to read/.test(String(err)) || tries === 20) throw err;
      }
    }
    await worktrees.close();
    assert.deepEqual(otherWorktrees(repo), []);
    assert.equal(existsSync(kept.holder), false);
    assert.deepEqual(git(repo, 'branch', '--list', '--format=%(refname:short)').split('\n').sort(), ['koubou/first', 'koubou/kept', 'main']);
    assert.equal(git(repo, 'show', 'koubou/kept:README.md'), 'work');
    assert.equal(git(repo, 'status', '--porcelain'), '');
    // Closed: a late task still gets a worktree, but nothing is prepared after it.
    const late = await worktrees.checkout(repo, 'koubou/late');
    await worktrees.removeLater(repo, late);
    await worktrees.settled();
    assert.deepEqual(otherWorktrees(repo), []);
  });

  it('prepared_worktrees 0 prepares nothing', async () => {
    const repo = makeRepo();
    const worktrees = pool(0);
    const wt = await worktrees.checkout(repo, 'koubou/plain');
    assert.equal(branchOf(wt), 'koubou/plain');
    await worktrees.removeLater(repo, wt);
    await worktrees.settled();
    assert.deepEqual(otherWorktrees(repo), []);
  });
});
