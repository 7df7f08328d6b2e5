/**
 * Agent CLIs as workers: real processes (test/helpers/fake-agent-cli.ts speaking each preset's format), real git
 * repositories in temp dirs, a real coordinator over HTTP.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { mcpOverHttp } from '../helpers/mcp-client.js';
import { alive, hangPids } from '../helpers/pids.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { tempDir } from '../helpers/temp.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-agent-cli.js', import.meta.url));
const CLI = KOUBOU_CLI;
const TOKEN = 'secret-token-for-command-tests';


/**
 * `git worktree list --porcelain`, one block per worktree. While Koubou prepares or removes a worktree in the
 * background, git may die listing them (a half-written worktree); that is git's race, so the listing is tried again.
 */
async function worktreeList(repo: string): Promise<string[]> {
  let out = '';
  await eventually(() => {
    try {
      out = git(repo, 'worktree', 'list', '--porcelain');
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  return out.split('\n\n');
}

describe('command backends (agent CLIs)', () => {
  const temp = tempDir();
  const ws = join(temp.path, 'ws');
  const outside = join(temp.path, 'outside');
  const pidfile = join(temp.path, 'hang.pids');
  let repo: string;
  let plain: string;
  let coord: TestCoordinator;
  let client: ReturnType<typeof api>;
  const saved = { ...process.env };

  before(async () => {
    mkdirSync(outside, { recursive: true });
    mkdirSync(join(temp.path, 'coord'));
    repo = makeRepo(join(ws, 'calc'));
    plain = join(ws, 'plain');
    mkdirSync(plain);
    symlinkSync(outside, join(ws, 'link-out'));
    writeFileSync(join(ws, 'a-file.txt'), 'x');
    // What a coordinator's environment may hold: none of it may reach a CLI.
    process.env.KOUBOU_API_TOKEN = TOKEN;
    process.env.NATS_CREDS = '/secret/creds';
    process.env.SNEAKY = TOKEN;
    const node = process.execPath;
    const cmd = (preset: string, command: string[], more: Record<string, unknown> = {}) => ({ preset, command, workspace_root: ws, ...more });
    coord = await startTestCoordinator({
      dir: join(temp.path, 'coord'),
      extra: { server: { api_token: TOKEN } },
      backends: [
        { name: 'codex', type: 'command', types: ['code'], max_workers: 2, min_workers: 2, settings: cmd('codex', [node, FAKE, 'codex-edit']) },
        { name: 'gemini', type: 'command', types: ['documentation'], settings: cmd('gemini', [node, FAKE, 'gemini']) },
        { name: 'argv', type: 'command', types: ['general'], settings: cmd('generic', [node, FAKE, 'argv', '{model}', '{prompt}']) },
        { name: 'env', type: 'command', types: ['analysis'], settings: cmd('generic', [node, FAKE, 'env'], { env: ['SNEAKY', 'LC_ALL'] }) },
        { name: 'flood', type: 'command', types: ['translation'], settings: cmd('generic', [node, FAKE, 'flood'], { max_output_bytes: 65_536 }) },
        { name: 'hang', type: 'command', types: ['refactoring'], settings: cmd('generic', [node, FAKE, 'hang', pidfile], { kill_grace_ms: 200 }) },
        { name: 'fail', type: 'command', types: ['code_generation'], settings: cmd('generic', [node, FAKE, 'fail']) },
      ],
    });
    client = api(coord.url, TOKEN);
  });

  after(async () => {
    await coord?.close();
    for (const k of ['KOUBOU_API_TOKEN', 'NATS_CREDS', 'SNEAKY']) if (saved[k] === undefined) delete process.env[k];
    temp.remove();
  });

  it('a codex-format task edits two files on its own branch; the answer is the last agent message; the checkout is untouched', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ type: 'code', prompt: 'Add unit tests\nwith detail', workdir: repo, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const result = res.body.result;
    assert.equal(result.success, true, JSON.stringify(result));
    assert.equal(result.output, 'Done: Add unit tests\nwith detail');
    // Usage from codex's turn.completed, as LLM backends report theirs.
    assert.deepEqual(result.usage, { prompt_tokens: 1200, completion_tokens: 345 });
    assert.equal(result.finish_reason, 'stop');
    const { changes } = result;
    const id = res.body.task_id;
    assert.equal(changes.branch, `koubou/${id}`);
    assert.equal(changes.base, head);
    assert.deepEqual(
      changes.files.map((f: any) => [f.path, f.status, f.additions, f.deletions]).sort(),
      [['README.md', 'modified', 1, 0], ['src/new.txt', 'added', 2, 0]],
    );
    assert.match(changes.diff, /\+\+\+ b\/README\.md/);
    assert.match(changes.diff, /\+\+\+ b\/src\/new\.txt/);
    assert.equal(git(repo, 'rev-list', '--count', `${head}..${changes.branch}`), '1');
    assert.equal(git(repo, 'log', '-1', '--format=%s', changes.branch), 'koubou: Add unit tests');
    // The user's checkout: same HEAD, nothing changed; the task's branch is checked out nowhere (its worktree is gone
    // or going), and any other worktree is one prepared for the next task, detached.
    assert.equal(git(repo, 'rev-parse', 'HEAD'), head);
    assert.equal(git(repo, 'status', '--porcelain'), '');
    assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), '# calc\n');
    const others = (await worktreeList(repo)).slice(1);
    assert.ok(others.length <= 2 && others.every((w) => w.split('\n').includes('detached')), others.join('\n\n'));
  });

  it('a coordinator that stops removes the worktrees it prepared; the branches of finished tasks stay', async () => {
    const own = makeRepo(join(ws, 'own'));
    const dir = join(temp.path, 'coord-own');
    mkdirSync(dir);
    const second = await startTestCoordinator({
      dir,
      backends: [{ name: 'codex', type: 'command', types: ['code'], settings: { preset: 'codex', command: [process.execPath, FAKE, 'codex-edit'], workspace_root: ws, prepared_worktrees: 2 } }],
    });
    const worktrees = async () => (await worktreeList(own)).length;
    let ids: string[];
    try {
      ids = [];
      for (const prompt of ['one', 'two']) {
        const res = await api(second.url).delegate({ type: 'code', prompt, workdir: own, sync: true });
        assert.equal(res.body.result?.success, true, JSON.stringify(res.body));
        ids.push(res.body.task_id);
      }
      // Two prepared for the next tasks (the second task took one of those the first left).
      await eventually(async () => (await worktrees()) === 3, 10_000);
    } finally {
      await second.close();
    }
    assert.equal(await worktrees(), 1);
    assert.deepEqual(git(own, 'branch', '--list', '--format=%(refname:short)').split('\n').sort(), [...ids.map((id) => `koubou/${id}`), 'main'].sort());
    assert.equal(git(own, 'status', '--porcelain'), '');
  });

  it('koubou submit --workdir . --wait runs the agent in the shell\'s directory and prints its answer', async () => {
    const submit = (...flags: string[]) =>
      new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(process.execPath, [CLI, 'submit', '--type', 'code', '--workdir', '.', '--wait', ...flags, 'From the CLI'], {
          cwd: repo,
          env: { PATH: process.env.PATH ?? '', KOUBOU_URL: coord.url, KOUBOU_API_TOKEN: TOKEN },
        }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }))),
      );
    const task = JSON.parse((await submit('--json')).stdout);
    assert.equal(task.result.output, 'Done: From the CLI');
    assert.equal(task.result.changes.branch, `koubou/${task.task_id}`);
    // In text mode the answer goes to stdout and the branch to merge to stderr.
    const text = await submit();
    assert.equal(text.stdout, 'Done: From the CLI\n');
    assert.match(text.stderr, /^koubou: 2 files changed, \+\d+ -\d+ on branch koubou\/\S+; merge with: git merge koubou\/\S+\n$/);
  });

  it('the MCP delegate_task tool takes a workdir; its result summarises the changes and leaves the diff to get_task include_diff', async () => {
    const mcp = await mcpOverHttp(coord.url, TOKEN);
    try {
      const task = await mcp.call('delegate_task', { type: 'code', prompt: 'From MCP', workdir: repo, wait_seconds: 30 });
      assert.equal(task.result.output, 'Done: From MCP');
      const branch = `koubou/${task.task_id}`;
      const { changes } = task.result;
      assert.equal(changes.summary, `2 files changed, +3 -0 lines, on branch ${branch}; merge: git merge ${branch}`);
      assert.equal(changes.branch, branch);
      assert.deepEqual([changes.additions, changes.deletions, changes.files_total], [3, 0, 2]);
      assert.deepEqual(changes.files.map((f: any) => [f.path, f.status, f.additions, f.deletions]).sort(), [['README.md', 'modified', 1, 0], ['src/new.txt', 'added', 2, 0]]);
      assert.equal(changes.diff, undefined, 'the diff is left out unless asked for');
      assert.ok(changes.diff_bytes > 0);
      const whole = await mcp.call('get_task', { task_id: task.task_id, include_diff: true });
      assert.match(whole.result.changes.diff, /\+\+\+ b\/src\/new\.txt/);
      assert.equal(Buffer.byteLength(whole.result.changes.diff), changes.diff_bytes);
      assert.equal((await mcp.call('get_task', { task_id: task.task_id })).result.changes.diff, undefined);
    } finally {
      await mcp.close();
    }
  });

  it('two tasks on one repository run at once on two branches without touching each other', async () => {
    const [a, b] = await Promise.all([
      client.delegate({ type: 'code', prompt: 'first change', workdir: repo, sync: true }),
      client.delegate({ type: 'code', prompt: 'second change', workdir: repo, sync: true }),
    ]);
    assert.equal(a.body.result?.success, true, JSON.stringify(a.body));
    assert.equal(b.body.result?.success, true, JSON.stringify(b.body));
    assert.notEqual(a.body.result.changes.branch, b.body.result.changes.branch);
    for (const r of [a, b]) {
      const { branch, base } = r.body.result.changes;
      assert.equal(git(repo, 'rev-list', '--count', `${base}..${branch}`), '1');
      assert.equal(git(repo, 'show', `${branch}:README.md`), '# calc\nEdited by the agent.');
    }
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });

  it('a gemini-format task answers with the text after its last tool call, and its file is on the branch', async () => {
    const res = await client.delegate({ type: 'documentation', prompt: 'Write notes', workdir: repo, sync: true });
    assert.equal(res.body.result?.success, true, JSON.stringify(res.body));
    assert.equal(res.body.result.output, 'Wrote notes.md.');
    assert.deepEqual(res.body.result.changes.files.map((f: any) => [f.path, f.status]), [['notes.md', 'added']]);
  });

  it('hostile prompts reach the CLI as one literal argument and create nothing', async () => {
    const before = readdirSync(plain);
    for (const prompt of ['$(touch pwned)', '`touch pwned2`', 'x; rm -rf . ; touch pwned3', 'line one\ntouch pwned4', '--help', '-m other', '{model}']) {
      const res = await client.delegate({ type: 'general', prompt, workdir: plain, sync: true });
      assert.equal(res.body.result?.success, true, JSON.stringify(res.body));
      assert.deepEqual(JSON.parse(res.body.result.output), ['fake-model', prompt]);
    }
    assert.deepEqual(readdirSync(plain), before);
    assert.equal(existsSync(join(coord.dir, 'pwned')), false);
  });

  it('a workdir outside the workspace root, through .., through a symlink out, or naming a file is a 400 naming workdir', async () => {
    for (const workdir of [outside, join(ws, '..', 'outside'), join(ws, 'link-out'), join(ws, 'a-file.txt'), join(ws, 'missing'), 'relative/dir']) {
      const res = await client.delegate({ type: 'general', prompt: 'hi', workdir });
      assert.equal(res.status, 400, `${workdir}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.field, 'workdir');
      assert.match(res.body.error.message, /workdir/);
    }
  });

  it('a CLI writing past max_output_bytes fails output_too_large, once', async () => {
    const res = await client.delegate({ type: 'translation', prompt: 'go', workdir: plain, sync: true });
    assert.equal(res.body.result?.error_code, 'output_too_large', JSON.stringify(res.body.result));
    assert.equal((await client.status(res.body.task_id)).body.attempts, 1, 'not retried');
  });

  it('a non-zero exit fails with the last stderr lines and is not retried', async () => {
    const res = await client.delegate({ type: 'code_generation', prompt: 'go', sync: true });
    assert.equal(res.body.result?.error_code, 'command_failed', JSON.stringify(res.body.result));
    assert.match(res.body.result.error, /exited with code 3.*error: model not found/s);
    assert.equal((await client.status(res.body.task_id)).body.attempts, 1, 'not retried');
  });

  it('the environment a CLI sees has none of Koubou\'s secrets', async () => {
    const res = await client.delegate({ type: 'analysis', prompt: 'env', sync: true });
    assert.equal(res.body.result?.success, true, JSON.stringify(res.body));
    const env = JSON.parse(res.body.result.output) as Record<string, string>;
    assert.ok(env.PATH, 'PATH is passed');
    assert.equal(Object.keys(env).some((k) => k.startsWith('KOUBOU_') || k.startsWith('NATS_')), false, Object.keys(env).join(','));
    assert.equal(Object.values(env).includes(TOKEN), false, 'a variable holding the API token is dropped even when listed in env:');
  });

  it('cancel kills the whole process group, a grandchild that ignores SIGTERM included', async () => {
    const res = await client.delegate({ type: 'refactoring', prompt: 'hang' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await eventually(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').includes(' '), 10_000);
    const [child, grandchild] = hangPids(readFileSync(pidfile, 'utf8'));
    assert.ok(alive(child) && alive(grandchild));
    const cancelled = await client.post(`/task/${res.body.task_id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await eventually(() => !alive(child) && !alive(grandchild), 10_000);
  });
});
