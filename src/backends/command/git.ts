/**
 * The git operations a worktree task needs, each run as `git` with an argv array (never a shell) and a minimal
 * environment, so the user's GIT_* settings and our secrets stay out.
 */
import { execFile } from 'node:child_process';
import { CommandWorkspaceError } from '../../errors.js';
import type { ChangedFile, TaskChanges } from '../../tasks/task.js';

const GIT_TIMEOUT_MS = 60_000;

/** Runs git in `cwd`; resolves with stdout; rejects with CommandWorkspaceError carrying git's stderr. */
export function git(cwd: string, args: readonly string[], env: Record<string, string>, maxBuffer = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env, maxBuffer, timeout: GIT_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new CommandWorkspaceError(`git ${args[0]} failed: ${(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/** The top of the repository holding `dir`, or null when it is in none. */
export async function repositoryRoot(dir: string, env: Record<string, string>): Promise<string | null> {
  try {
    return (await git(dir, ['rev-parse', '--show-toplevel'], env)).trim();
  } catch {
    return null;
  }
}

/** Adds a worktree at `path` on a new branch made from the repository's HEAD; returns the base commit. */
export async function addWorktree(repo: string, branch: string, path: string, env: Record<string, string>): Promise<string> {
  // -B: a branch left by an earlier attempt that failed holds nothing worth keeping, so a retry resets it to HEAD
  // (in the same git process: each one costs a spawn per task).
  await git(repo, ['worktree', 'add', '--quiet', '-B', branch, path, 'HEAD'], env);
  return headCommit(path, env);
}

/** The commit HEAD names in `dir` (a repository or one of its worktrees). */
export async function headCommit(dir: string, env: Record<string, string>): Promise<string> {
  return (await git(dir, ['rev-parse', 'HEAD'], env)).trim();
}

/** True when the worktree has no change, no untracked file and no ignored file: as `git worktree add` left it. */
export async function worktreeIsClean(worktree: string, env: Record<string, string>): Promise<boolean> {
  return (await git(worktree, ['status', '--porcelain', '--ignored', '--untracked-files=all', '-z'], env)) === '';
}

/**
 * Puts the worktree on `branch`, created or reset to `base`; git writes only the files that differ between the
 * worktree's commit and `base`. The worktree must be clean (see worktreeIsClean).
 */
export async function switchWorktree(worktree: string, branch: string, base: string, env: Record<string, string>): Promise<void> {
  await git(worktree, ['checkout', '--quiet', '-B', branch, base], env);
}

/** Detaches the worktree's HEAD at its commit, so its branch is checked out nowhere (and may be deleted) at once. */
export async function detachHead(wt: PinnedWorktree, env: Record<string, string>): Promise<void> {
  await git(wt.tree, pinned(wt, ['checkout', '--quiet', '--detach']), env);
}

/**
 * A worktree's files and its own git directory (`.git/worktrees/<name>` of the repository), the latter read before any
 * CLI ran in it. Git commands Koubou runs after a CLI name both, so a CLI that rewrites the worktree's `.git` file
 * cannot point them at the user's checkout.
 */
export interface PinnedWorktree {
  tree: string;
  gitDir: string;
}

/** The worktree's own git directory, as git reports it now (call it before a CLI runs there). */
export async function worktreeGitDir(worktree: string, env: Record<string, string>): Promise<string> {
  return (await git(worktree, ['rev-parse', '--absolute-git-dir'], env)).trim();
}

const pinned = (wt: PinnedWorktree, args: readonly string[]) => ['--git-dir', wt.gitDir, '--work-tree', wt.tree, ...args];

/**
 * Commits everything in the worktree's files on `branch` (new files included), whatever branch a CLI may have
 * switched its HEAD to: HEAD is put back on `branch` first, and the commit records the files as they are. False when
 * nothing changed.
 */
export async function commitAll(wt: PinnedWorktree, branch: string, message: string, env: Record<string, string>): Promise<boolean> {
  await git(wt.tree, pinned(wt, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]), env);
  await git(wt.tree, pinned(wt, ['add', '--all']), env);
  const staged = await git(wt.tree, pinned(wt, ['diff', '--cached', '--name-only', '-z']), env);
  if (staged === '') return false;
  // The repository's hooks are not ours to run, and the author is Koubou whatever the user's config says.
  await git(wt.tree, pinned(wt, ['-c', 'user.name=Koubou', '-c', 'user.email=koubou@localhost', '-c', 'commit.gpgsign=false', 'commit', '--quiet', '--no-verify', '-m', message]), env);
  return true;
}

/** What base..branch changed: the diff (cut at maxDiffBytes) and one entry per file. */
export async function describeChanges(wt: PinnedWorktree, branch: string, base: string, maxDiffBytes: number, env: Record<string, string>): Promise<TaskChanges> {
  const head = `refs/heads/${branch}`;
  const [nameStatus, numstat, diff] = await Promise.all([
    git(wt.tree, pinned(wt, ['diff', '--name-status', '-z', '-M', base, head]), env),
    git(wt.tree, pinned(wt, ['diff', '--numstat', '-z', '-M', base, head]), env),
    git(wt.tree, pinned(wt, ['diff', '--no-color', '--no-ext-diff', '-M', base, head]), env, maxDiffBytes * 2 + 1024 * 1024).catch(() => null),
  ]);
  const counts = parseNumstat(numstat);
  const files = parseNameStatus(nameStatus).map((f) => ({ ...f, ...(counts.get(f.path) ?? { additions: null, deletions: null }) }));
  const whole = diff ?? '';
  const bytes = Buffer.byteLength(whole);
  const truncated = diff === null || bytes > maxDiffBytes;
  return { branch, base, diff: truncated ? Buffer.from(whole).subarray(0, maxDiffBytes).toString('utf8') : whole, diff_truncated: truncated, files };
}

/** Removes the worktree directory and its registration; the branch stays. */
export async function removeWorktree(repo: string, path: string, env: Record<string, string>): Promise<void> {
  await git(repo, ['worktree', 'remove', '--force', path], env);
}

/** Deletes a branch (a failed attempt's). */
export async function deleteBranch(repo: string, branch: string, env: Record<string, string>): Promise<void> {
  await git(repo, ['branch', '-D', branch], env);
}

/** `git diff --name-status -z`: "M\0path\0", "R095\0old\0new\0". */
function parseNameStatus(out: string): Omit<ChangedFile, 'additions' | 'deletions'>[] {
  const parts = out.split('\0');
  const files: Omit<ChangedFile, 'additions' | 'deletions'>[] = [];
  for (let i = 0; i < parts.length - 1; ) {
    const code = parts[i++]!;
    if (code.startsWith('R') || code.startsWith('C')) {
      const from = parts[i++]!;
      const path = parts[i++]!;
      files.push(code.startsWith('R') ? { path, status: 'renamed', from } : { path, status: 'added' });
    } else {
      const path = parts[i++]!;
      files.push({ path, status: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified' });
    }
  }
  return files;
}

/** `git diff --numstat -z`: "add\tdel\tpath\0", or "add\tdel\t\0old\0new\0" for a rename; "-" for binary. */
function parseNumstat(out: string): Map<string, { additions: number | null; deletions: number | null }> {
  const parts = out.split('\0');
  const counts = new Map<string, { additions: number | null; deletions: number | null }>();
  for (let i = 0; i < parts.length - 1; ) {
    const [add, del, path] = parts[i++]!.split('\t');
    const target = path === '' ? (i++, parts[i++]!) : path!;
    counts.set(target, { additions: add === '-' ? null : Number(add), deletions: del === '-' ? null : Number(del) });
  }
  return counts;
}
