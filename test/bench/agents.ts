/**
 * `--suite agents` (issue #14): what running an agent CLI through Koubou costs beyond the CLI itself.
 *  (a) a task's git worktree on a repository of `repoFiles` files, with the backend's own PreparedWorktrees: set-up
 *      on the task's path (a prepared worktree checked and switched to `koubou/<id>` at HEAD) and teardown on it (the
 *      worktree detached; its removal and the next preparation run in the background, also measured), against a
 *      worktree made on the task's path (`git worktree add -B koubou/<id>` from HEAD, as when none is ready);
 *  (b) what a task's result costs when the CLI changed `diffFiles` files: commit, then name-status, numstat and diff;
 *  (c) a sync delegate of a codex-format task (test/helpers/fake-agent-cli.ts, no delay) to a real coordinator process,
 *      with `isolation: none`, in a worktree (prepared_worktrees 1, the default) and in a worktree made per task
 *      (prepared_worktrees 0), against spawning the same stand-in CLI directly.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addWorktree, commitAll, deleteBranch, describeChanges, git, removeWorktree, worktreeGitDir } from '../../src/backends/command/git.js';
import { PreparedWorktrees } from '../../src/backends/command/prepared-worktrees.js';
import { silentLogger } from '../../src/logger.js';
import { api } from '../helpers/api.js';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { childrenCpuSeconds } from './processes.js';
import { percentile } from './stats.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-agent-cli.js', import.meta.url));

export interface AgentsOptions {
  /** Tasks (and direct runs) per measure. */
  tasks: number;
  repoFiles: number;
  diffFiles: number;
}

/** One round's figures, ms. */
export interface AgentsRun {
  /** On the task's path, with a prepared worktree ready. */
  setupP50: number;
  setupP99: number;
  teardownP50: number;
  teardownP99: number;
  /** CPU time git used per set-up and per teardown on the task's path (mean; what they cost on an idle machine). */
  setupCpuMs: number;
  teardownCpuMs: number;
  /** Per task, off its path: removing its worktree and preparing the next one; wall ms (p50) and git CPU (mean). */
  backgroundP50: number;
  backgroundCpuMs: number;
  /** A worktree made on the task's path (none ready): set-up p50 and git CPU per set-up. */
  freshSetupP50: number;
  freshSetupCpuMs: number;
  /** Commit + describe of a change of diffFiles files, p50. */
  resultP50: number;
  directP50: number;
  noneP50: number;
  worktreeP50: number;
  /** In a worktree made per task (prepared_worktrees 0). */
  freshWorktreeP50: number;
  /** The files each worktree task's result listed (a check that the work happened). */
  filesChanged: number;
}

const GIT_ENV = { PATH: process.env.PATH ?? '', HOME: tmpdir(), GIT_TERMINAL_PROMPT: '0' };
const gitAs = (cwd: string, ...args: string[]) => git(cwd, ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', ...args], GIT_ENV);

/** A repository of `files` files of about 1 KiB in 20 folders, one commit. */
async function makeRepo(dir: string, files: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await gitAs(dir, 'init', '--quiet', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const folder = join(dir, `pkg${i % 20}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `file${i}.ts`), `export const value${i} = ${i};\n`.repeat(32));
  }
  writeFileSync(join(dir, 'README.md'), '# bench\n');
  await gitAs(dir, 'add', '--all');
  await gitAs(dir, 'commit', '--quiet', '-m', 'first');
}

/** One round on fresh repositories and a fresh coordinator. */
export async function runAgents(opts: AgentsOptions): Promise<AgentsRun> {
  const temp = tempDir('koubou-bench-agents-');
  const ws = join(temp.path, 'ws');
  const repo = join(ws, 'repo');
  const plain = join(ws, 'plain');
  try {
    await makeRepo(repo, opts.repoFiles);
    mkdirSync(plain);
    writeFileSync(join(plain, 'README.md'), '# plain\n');
    const worktree = await worktreeTimes(repo, opts.tasks);
    const resultMs = await resultTimes(repo, opts.diffFiles, Math.max(3, Math.ceil(opts.tasks / 4)));
    const direct: number[] = [];
    await runDirectly(plain, 'warm up');
    for (let i = 0; i < opts.tasks; i++) direct.push(await runDirectly(plain, `direct ${i}`));
    const through = await throughKoubou(temp.path, ws, repo, plain, opts.tasks);
    return {
      setupP50: percentile(worktree.setup, 50),
      setupP99: percentile(worktree.setup, 99),
      teardownP50: percentile(worktree.teardown, 50),
      teardownP99: percentile(worktree.teardown, 99),
      setupCpuMs: worktree.setupCpuMs,
      teardownCpuMs: worktree.teardownCpuMs,
      backgroundP50: percentile(worktree.background, 50),
      backgroundCpuMs: worktree.backgroundCpuMs,
      freshSetupP50: percentile(worktree.freshSetup, 50),
      freshSetupCpuMs: worktree.freshSetupCpuMs,
      resultP50: percentile(resultMs, 50),
      directP50: percentile(direct, 50),
      noneP50: percentile(through.none, 50),
      worktreeP50: percentile(through.worktree, 50),
      freshWorktreeP50: percentile(through.fresh, 50),
      filesChanged: through.filesChanged,
    };
  } finally {
    temp.remove();
  }
}

interface WorktreeTimes {
  setup: number[];
  teardown: number[];
  background: number[];
  freshSetup: number[];
  setupCpuMs: number;
  teardownCpuMs: number;
  backgroundCpuMs: number;
  freshSetupCpuMs: number;
}

/**
 * (a) as the backend does it per task. Before each task the pool has finished preparing, as a CLI's run (seconds at
 * least) gives it time to; the branches are deleted afterwards, untimed.
 */
async function worktreeTimes(repo: string, n: number): Promise<WorktreeTimes> {
  const t: WorktreeTimes = { setup: [], teardown: [], background: [], freshSetup: [], setupCpuMs: 0, teardownCpuMs: 0, backgroundCpuMs: 0, freshSetupCpuMs: 0 };
  const pool = new PreparedWorktrees({ perRepo: 1, env: GIT_ENV, log: silentLogger });
  const measure = async <T>(wall: number[], cpuKey: 'setupCpuMs' | 'teardownCpuMs' | 'backgroundCpuMs' | 'freshSetupCpuMs', fn: () => Promise<T>): Promise<T> => {
    const cpu = childrenCpuSeconds();
    const start = performance.now();
    const out = await fn();
    wall.push(performance.now() - start);
    t[cpuKey] += ((childrenCpuSeconds() - cpu) * 1000) / n;
    return out;
  };
  try {
    // The first task on a repository finds nothing prepared; it is what starts the preparing.
    await pool.removeLater(repo, await pool.checkout(repo, 'koubou/bench-first'));
    await deleteBranch(repo, 'koubou/bench-first', GIT_ENV);
    for (let i = 0; i < n; i++) {
      const branch = `koubou/bench-${i}`;
      await measure(t.background, 'backgroundCpuMs', () => pool.settled());
      const wt = await measure(t.setup, 'setupCpuMs', () => pool.checkout(repo, branch));
      await measure(t.teardown, 'teardownCpuMs', () => pool.removeLater(repo, wt));
      await deleteBranch(repo, branch, GIT_ENV);
    }
    await measure(t.background, 'backgroundCpuMs', () => pool.settled());
  } finally {
    await pool.close();
  }
  t.background.shift();
  for (let i = 0; i < n; i++) {
    const branch = `koubou/bench-fresh-${i}`;
    const holder = mkdtempSync(join(tmpdir(), 'koubou-wt-'));
    const tree = join(holder, 'repo');
    await measure(t.freshSetup, 'freshSetupCpuMs', () => addWorktree(repo, branch, tree, GIT_ENV));
    await removeWorktree(repo, tree, GIT_ENV);
    rmSync(holder, { recursive: true, force: true });
    await deleteBranch(repo, branch, GIT_ENV);
  }
  return t;
}

/** (b) commit + describe in a worktree whose CLI changed `files` files. */
async function resultTimes(repo: string, files: number, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const branch = `koubou/bench-diff-${i}`;
    const holder = mkdtempSync(join(tmpdir(), 'koubou-wt-'));
    const tree = join(holder, 'repo');
    const base = await addWorktree(repo, branch, tree, GIT_ENV);
    const wt = { tree, gitDir: await worktreeGitDir(tree, GIT_ENV) };
    for (let f = 0; f < files; f++) appendFileSync(join(tree, `pkg${f % 20}`, `file${f}.ts`), `export const changed${f} = ${i};\n`);
    const t = performance.now();
    await commitAll(wt, branch, 'koubou: bench', GIT_ENV);
    const changes = await describeChanges(wt, branch, base, 4 * 1024 * 1024, GIT_ENV);
    out.push(performance.now() - t);
    if (changes.files.length !== files) throw new Error(`expected ${files} changed files, got ${changes.files.length}`);
    await removeWorktree(repo, tree, GIT_ENV);
    rmSync(holder, { recursive: true, force: true });
    await deleteBranch(repo, branch, GIT_ENV);
  }
  return out;
}

/** The stand-in CLI with the argv the codex preset gives it, spawned directly: ms from spawn to exit. */
function runDirectly(cwd: string, prompt: string): Promise<number> {
  const argv = [FAKE, 'codex-edit', 'exec', '--json', '--oss', '--local-provider', 'ollama', '-m', 'bench-model', '--cd', cwd, '--sandbox', 'workspace-write', '--skip-git-repo-check', '--', prompt];
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env: { PATH: process.env.PATH ?? '', FAKE_DELAY_MS: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`the stand-in CLI exited with ${code}`))));
  });
}

/** (c) sync delegates, one at a time, to a coordinator process with one worker of each isolation. */
async function throughKoubou(dir: string, ws: string, repo: string, plain: string, n: number): Promise<{ none: number[]; worktree: number[]; fresh: number[]; filesChanged: number }> {
  const coordDir = join(dir, 'coord');
  mkdirSync(coordDir);
  const cli = (isolation: string, more: Record<string, unknown> = {}) => ({ preset: 'codex', command: [process.execPath, FAKE, 'codex-edit'], workspace_root: ws, isolation, env: { FAKE_DELAY_MS: '0' }, ...more });
  const { file } = writeTestConfig({
    dir: coordDir,
    backends: [
      { name: 'none', type: 'command', types: ['general'], settings: cli('none') },
      { name: 'worktree', type: 'command', types: ['code'], settings: cli('worktree') },
      { name: 'fresh', type: 'command', types: ['documentation'], settings: cli('worktree', { prepared_worktrees: 0 }) },
    ],
    extra: { log: { level: 'warn' } },
  });
  const proc = await startCoordinatorProcess(file);
  const client = api(proc.url);
  const timed = async (type: string, workdir: string, prompt: string) => {
    const t = performance.now();
    const res = await client.delegate({ type, prompt, workdir, sync: true });
    const ms = performance.now() - t;
    if (res.body?.result?.success !== true) throw new Error(`task failed: ${JSON.stringify(res.body)}`);
    return { ms, files: res.body.result.changes?.files?.length ?? 0 };
  };
  try {
    // One of each first, untimed: the coordinator's first task pays for warming up.
    await timed('general', plain, 'warm up');
    await timed('code', repo, 'warm up');
    await timed('documentation', repo, 'warm up');
    const none: number[] = [];
    const worktree: number[] = [];
    const fresh: number[] = [];
    let filesChanged = 0;
    for (let i = 0; i < n; i++) {
      none.push((await timed('general', plain, `none ${i}`)).ms);
      const w = await timed('code', repo, `worktree ${i}`);
      worktree.push(w.ms);
      filesChanged = w.files;
      fresh.push((await timed('documentation', repo, `fresh ${i}`)).ms);
    }
    return { none, worktree, fresh, filesChanged };
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
}
