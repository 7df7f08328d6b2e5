/**
 * What a CLI does to git inside its worktree cannot reach the user's checkout or move the task's result elsewhere:
 * Koubou's own git commands name the worktree's git directory (read before the CLI ran) and put HEAD back on the
 * task's branch. Real git, real processes, a real coordinator.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { tempDir } from '../helpers/temp.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-agent-cli.js', import.meta.url));

describe('git safety of agent CLI tasks', () => {
  const temp = tempDir();
  const ws = join(temp.path, 'ws');
  const repo = join(ws, 'calc');
  let coord: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    makeRepo(repo);
    mkdirSync(join(temp.path, 'coord'));
    coord = await startTestCoordinator({
      dir: join(temp.path, 'coord'),
      backends: [{ name: 'tricks', type: 'command', settings: { preset: 'generic', command: [process.execPath, FAKE, 'git-trick', '{prompt}'], workspace_root: ws, prepared_worktrees: 0 } }],
    });
    client = api(coord.url);
  });

  after(async () => {
    await coord?.close();
    temp.remove();
  });

  it("a CLI that points its worktree's .git at the repository changes neither the user's branch nor their checkout", async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ prompt: 'hijack', workdir: repo, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body.result));
    assert.equal(git(repo, 'rev-parse', 'main'), head, 'main did not move');
    assert.equal(git(repo, 'symbolic-ref', 'HEAD'), 'refs/heads/main', 'the checkout is still on main');
    assert.equal(git(repo, 'status', '--porcelain'), '');
    const branch = `koubou/${res.body.task_id}`;
    assert.equal(git(repo, 'show', `${branch}:hijack.txt`), 'x', 'the change is on the task branch');
  });

  it('a prompt too long for one argument fails with a clear, permanent error instead of spawn E2BIG', async () => {
    const res = await client.delegate({ prompt: 'x'.repeat(200_000), sync: true });
    assert.equal(res.body.status, 'failed');
    assert.equal(res.body.result.error_code, 'command_failed');
    assert.match(res.body.result.error, /reads the prompt on stdin/);
    assert.equal((await client.status(res.body.task_id)).body.attempts, 1, 'not retried');
  });

  it('a workdir inside .git is refused; an untracked folder and a repository without commits fail saying why', async () => {
    const inGit = await client.delegate({ prompt: 'switch', workdir: join(repo, '.git') });
    assert.equal(inGit.status, 400);
    assert.equal(inGit.body.error.field, 'workdir');
    assert.match(inGit.body.error.message, /inside a \.git directory/);

    mkdirSync(join(repo, 'scratch'));
    const untracked = await client.delegate({ prompt: 'switch', workdir: join(repo, 'scratch'), sync: true });
    assert.equal(untracked.body.status, 'failed');
    assert.equal(untracked.body.result.error_code, 'workspace_error');
    assert.match(untracked.body.result.error, /scratch holds nothing git tracks/);

    const empty = join(ws, 'empty');
    mkdirSync(empty);
    git(empty, 'init', '--quiet', '-b', 'main');
    const noCommit = await client.delegate({ prompt: 'switch', workdir: empty, sync: true });
    assert.equal(noCommit.body.status, 'failed');
    assert.match(noCommit.body.result.error, /has no commit yet: commit once/);
  });

  it("a CLI that switches to a branch of its own still leaves its work on the task's branch", async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ prompt: 'switch', workdir: repo, sync: true });
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body.result));
    const branch = `koubou/${res.body.task_id}`;
    assert.equal(res.body.result.changes.branch, branch);
    assert.deepEqual(res.body.result.changes.files.map((f: { path: string }) => f.path), ['sw.txt']);
    assert.equal(git(repo, 'show', `${branch}:sw.txt`), 'switched');
    assert.equal(git(repo, 'rev-parse', `${branch}~1`), head, 'one commit on top of the base');
    assert.equal(git(repo, 'rev-parse', 'main'), head);
  });

  it("a coordinator stopped while an agent CLI runs leaves neither the run's worktree nor its branch", async () => {
    const dir = join(temp.path, 'coord-stop');
    mkdirSync(dir);
    // A repository of its own: the other tests' worktrees are removed in the background, and may still be listed.
    const own = makeRepo(join(ws, 'own'));
    const gate = join(temp.path, 'never');
    const runLog = join(temp.path, 'run.log');
    const stopping = await startTestCoordinator({
      dir,
      extra: { pool: { shutdown_grace_ms: 200 } },
      backends: [{ name: 'gated', type: 'command', settings: { preset: 'codex', command: [process.execPath, FAKE, 'codex-gated', gate, runLog], workspace_root: ws, kill_grace_ms: 200, prepared_worktrees: 0 } }],
    });
    const res = await api(stopping.url).delegate({ prompt: 'wait for the gate', workdir: own });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await eventually(() => existsSync(runLog) && readFileSync(runLog, 'utf8').includes('start'), 10_000);
    await stopping.coordinator.stop();
    assert.deepEqual(git(own, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')), [`worktree ${own}`]);
    assert.equal(git(own, 'branch', '--list', `koubou/${res.body.task_id}`), '', "the interrupted run's branch is gone");
    assert.equal(git(own, 'status', '--porcelain'), '');
  });
});
