/**
 * Task worktrees without `git worktree add` on the task's path. That call writes every file of the checkout (a
 * thousand files cost 200-400 ms of git CPU alone), so each repository keeps a few worktrees prepared in the
 * background, detached at the HEAD of their time; a task takes one, checks that nobody changed it, and switches it to
 * its branch at the repository's current HEAD, which writes only the files that changed since it was prepared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandWorkspaceError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { addWorktree, deleteBranch, detachHead, git, headCommit, removeWorktree, switchWorktree, worktreeGitDir, worktreeIsClean } from './git.js';
import { RepoLock } from './repo-lock.js';

/**
 * A task's worktree: `tree` (named like the repository) inside the temp folder `holder`; `base` is its start commit;
 * `gitDir` its own git directory, read when it was made (see PinnedWorktree).
 */
export interface TaskWorktree {
  tree: string;
  holder: string;
  base: string;
  gitDir: string;
}

/** One preparation under way; `claimed` once a task waits for it, so it no longer counts as spare. */
interface Pending {
  ready: Promise<TaskWorktree | null>;
  claimed: boolean;
}

interface RepoPool {
  idle: TaskWorktree[];
  pending: Pending[];
}

/** Repositories with prepared worktrees at once; past it, the least recently used one's are removed. */
const MAX_REPOS = 16;

export interface PreparedWorktreesOptions {
  /** Prepared worktrees kept per repository (idle plus being made); 0 makes every task's worktree on its path. */
  perRepo: number;
  /** The environment git runs with. */
  env: Record<string, string>;
  log: Logger;
}

/**
 * The prepared worktrees of one command backend, per repository. A repository gets its first ones when a task first
 * names it, and more each time a task takes one or ends; close() removes them all and waits for work under way.
 */
export class PreparedWorktrees {
  private readonly repos = new Map<string, RepoPool>();
  /** Background preparations and removals; close() waits for them. */
  private readonly jobs = new Set<Promise<unknown>>();
  private readonly lock = new RepoLock();
  private closed = false;

  constructor(private readonly opts: PreparedWorktreesOptions) {}

  /**
   * A worktree of `repo` (its real top directory) on `branch`, created or reset to the repository's HEAD now: a
   * prepared one when one is ready (or about to be) and clean, otherwise one made here. Throws CommandWorkspaceError
   * when git cannot make one.
   */
  async checkout(repo: string, branch: string): Promise<TaskWorktree> {
    const pool = this.poolOf(repo);
    // Nothing to take: the preparation started now is this task's (rather than a second `worktree add` beside it).
    if (pool.idle.length === 0 && !pool.pending.some((p) => !p.claimed)) this.refill(repo, pool);
    const claimed = await (pool.idle.shift() ?? this.claimPending(pool));
    const switched = claimed && (await this.switchTo(repo, claimed, branch));
    // Replaces the one taken while the task runs; started after the switch, which would otherwise wait for it.
    this.refill(repo, pool);
    return switched || this.freshWorktree(repo, branch);
  }

  /**
   * Removes a task's worktree now and then, when named, deletes `branch` (a failed attempt's); then tops the
   * repository's pool up.
   */
  async remove(repo: string, wt: TaskWorktree, branch?: string): Promise<void> {
    await this.discard(repo, wt, true);
    if (branch !== undefined) await this.lock.run(repo, true, () => deleteBranch(repo, branch, this.opts.env)).catch(() => {});
    this.refill(repo, this.repos.get(repo));
  }

  /**
   * Frees the task's branch at once (detaches the worktree from it) and removes the worktree in the background,
   * off the task's path; close() waits for it.
   */
  async removeLater(repo: string, wt: TaskWorktree): Promise<void> {
    try {
      if (this.closed) throw new Error('closing');
      await detachHead(wt, this.opts.env);
    } catch {
      return this.remove(repo, wt);
    }
    this.track(this.discard(repo, wt).then(() => this.refill(repo, this.repos.get(repo))));
  }

  /** Resolves once no preparation or removal is under way (tests and the benchmark wait for a full pool). */
  async settled(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs]);
  }

  /** Stops preparing, waits for work under way and removes every prepared worktree. Never throws. */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    const idle = [...this.repos].flatMap(([repo, pool]) => pool.idle.splice(0).map((wt) => ({ repo, wt })));
    this.repos.clear();
    await Promise.all(idle.map(({ repo, wt }) => this.discard(repo, wt)));
  }

  /** The pool of `repo`, marked most recently used; a new one may evict the least recently used. */
  private poolOf(repo: string): RepoPool {
    const pool = this.repos.get(repo) ?? { idle: [], pending: [] };
    this.repos.delete(repo);
    this.repos.set(repo, pool);
    for (const [oldRepo, old] of this.repos) {
      if (this.repos.size <= MAX_REPOS) break;
      this.repos.delete(oldRepo);
      // Preparations under way see that their pool is gone and remove what they made.
      for (const wt of old.idle.splice(0)) this.track(this.discard(oldRepo, wt));
    }
    return pool;
  }

  /** A preparation nobody else waits for (resolving to null when it fails); null when there is none. */
  private claimPending(pool: RepoPool): Promise<TaskWorktree | null> | null {
    const pending = pool.pending.find((p) => !p.claimed);
    if (!pending) return null;
    pending.claimed = true;
    return pending.ready;
  }

  /** Starts preparations until `repo` has perRepo spare worktrees (ready or being made); they wait behind task work. */
  private refill(repo: string, pool: RepoPool | undefined): void {
    if (!pool || this.closed || this.repos.get(repo) !== pool) return;
    const spare = () => pool.idle.length + pool.pending.filter((p) => !p.claimed).length;
    while (spare() < this.opts.perRepo) {
      const pending: Pending = { ready: this.prepare(repo), claimed: false };
      pool.pending.push(pending);
      this.track(
        pending.ready.then((wt) => {
          pool.pending.splice(pool.pending.indexOf(pending), 1);
          if (wt === null || pending.claimed) return;
          if (this.closed || this.repos.get(repo) !== pool) return this.discard(repo, wt);
          pool.idle.push(wt);
        }),
      );
    }
  }

  /** A new worktree of `repo`, detached at its HEAD; null (and a warning) when git fails. */
  private async prepare(repo: string): Promise<TaskWorktree | null> {
    let made: TaskWorktree | null = null;
    try {
      made = { ...newTempTree(repo), base: '', gitDir: '' };
      const tree = made.tree;
      await this.lock.run(repo, false, () => git(repo, ['worktree', 'add', '--quiet', '--detach', tree, 'HEAD'], this.opts.env));
      const [base, gitDir] = await Promise.all([headCommit(made.tree, this.opts.env), worktreeGitDir(made.tree, this.opts.env)]);
      return { ...made, base, gitDir };
    } catch (err) {
      this.opts.log.warn('could not prepare a worktree; tasks make their own meanwhile', { repo, error: (err as Error).message });
      if (made !== null) await this.discard(repo, made);
      return null;
    }
  }

  /** The prepared worktree on `branch` at the repository's HEAD; null (it is removed) when it was changed or git fails. */
  private async switchTo(repo: string, wt: TaskWorktree, branch: string): Promise<TaskWorktree | null> {
    try {
      const [clean, base] = await Promise.all([worktreeIsClean(wt.tree, this.opts.env), headCommit(repo, this.opts.env)]);
      if (!clean) throw new Error('it has changes or files nobody committed');
      await this.lock.run(repo, true, () => switchWorktree(wt.tree, branch, base, this.opts.env));
      return { ...wt, base };
    } catch (err) {
      this.opts.log.warn('a prepared worktree cannot be used; removing it', { repo, worktree: wt.tree, branch, error: (err as Error).message });
      await this.discard(repo, wt, true);
      return null;
    }
  }

  /**
   * Removes the worktree and its registration (when its directory is already gone, forgets the registration), before
   * background work when a task waits for it. Never throws.
   */
  private async discard(repo: string, wt: TaskWorktree, urgent = false): Promise<void> {
    const { env } = this.opts;
    await this.lock.run(repo, urgent, () => removeWorktree(repo, wt.tree, env).catch(() => git(repo, ['worktree', 'prune'], env))).catch(() => {});
    rmSync(wt.holder, { recursive: true, force: true });
  }

  /** A worktree made on the task's path: `git worktree add -B branch` from HEAD in a new temp folder. */
  private async freshWorktree(repo: string, branch: string): Promise<TaskWorktree> {
    const { tree, holder } = newTempTree(repo);
    try {
      const base = await this.lock.run(repo, true, () => addWorktree(repo, branch, tree, this.opts.env));
      return { tree, holder, base, gitDir: await worktreeGitDir(tree, this.opts.env) };
    } catch (err) {
      rmSync(holder, { recursive: true, force: true });
      if (/not a valid object name: 'HEAD'|invalid reference: HEAD/.test((err as Error).message)) {
        throw new CommandWorkspaceError(`the repository ${repo} has no commit yet: commit once, so a task's worktree has a base`, { cause: err });
      }
      throw err;
    }
  }

  private track(job: Promise<unknown>): void {
    const settled = job.catch(() => {}).finally(() => this.jobs.delete(settled));
    this.jobs.add(settled);
  }
}

/** A new temp folder, and the path in it for a worktree named like the repository (so the CLI sees a familiar name). */
function newTempTree(repo: string): { tree: string; holder: string } {
  const holder = mkdtempSync(path.join(tmpdir(), 'koubou-wt-'));
  return { tree: path.join(holder, path.basename(repo)), holder };
}
