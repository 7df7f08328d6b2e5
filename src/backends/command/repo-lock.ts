/**
 * One worktree-changing git command per repository at a time. While `git worktree add` creates a worktree, its files
 * under .git/worktrees/ exist before they are written, and a git command that lists the worktrees meanwhile (another
 * add, a remove, `checkout -B` or `branch -D`, which check where a branch is checked out) dies with "failed to read
 * .../commondir". Commands a task waits for go before background ones that have not started.
 */
export class RepoLock {
  private readonly repos = new Map<string, { urgent: (() => void)[]; later: (() => void)[] }>();

  /** Runs `fn` once no other holder of `repo` runs; `urgent` ones are served first. Releases however `fn` ends. */
  async run<T>(repo: string, urgent: boolean, fn: () => Promise<T>): Promise<T> {
    const queues = this.repos.get(repo);
    if (queues) await new Promise<void>((resolve) => (urgent ? queues.urgent : queues.later).push(resolve));
    else this.repos.set(repo, { urgent: [], later: [] });
    try {
      return await fn();
    } finally {
      const q = this.repos.get(repo)!;
      const next = q.urgent.shift() ?? q.later.shift();
      if (next) next();
      else this.repos.delete(repo);
    }
  }
}
