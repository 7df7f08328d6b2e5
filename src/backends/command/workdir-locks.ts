/** One task at a time per workdir for `isolation: none`: a second task for the same directory waits its turn. */
export class WorkdirLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `fn` once every earlier holder of `dir` is done; the lock is released however `fn` ends. A task cancelled
   * (or timed out) while it waits stops waiting: rejects with signal.reason and never runs.
   */
  async hold<T>(dir: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(dir) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(dir, tail);
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        void before.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
      return await fn();
    } finally {
      // Whoever queued behind us still waits for `before` too, so releasing early on abort keeps the order.
      release();
      if (this.tails.get(dir) === tail) this.tails.delete(dir);
    }
  }
}
