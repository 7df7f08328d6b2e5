/** One task at a time per workdir for `isolation: none`: a second task for the same directory waits its turn. */
export class WorkdirLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `dir` is done; the lock is released however `fn` ends. */
  async hold<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(dir) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(dir, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(dir) === tail) this.tails.delete(dir);
    }
  }
}
