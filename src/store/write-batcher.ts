/**
 * Group commit: writes issued close together share one synchronous transaction; each caller still learns its own
 * outcome, and a write is on disk (in the WAL) before its promise resolves. A commit costs tens of microseconds of
 * syscalls whatever its size, so when writes keep coming (the last commit was under `windowMs` ago) the batcher waits
 * out the window to gather more; an isolated write is committed on the next turn of the event loop.
 */
import { StoreError } from '../errors.js';
import type { SqlRunner } from './prepared.js';

export type WriteOp<T> = (sql: SqlRunner) => T;

interface Pending {
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private lastFlush = -Infinity;

  constructor(
    private readonly sql: SqlRunner,
    private readonly windowMs = 1,
  ) {}

  /** Runs op inside a transaction shared with the other writes of this tick; resolves after the commit. */
  write<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        const busy = performance.now() - this.lastFlush < this.windowMs;
        if (busy) setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    this.lastFlush = performance.now();
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const raw = this.sql.raw;
    let results: unknown[];
    try {
      results = raw.transaction(() => batch.map((item) => item.op(this.sql)))();
    } catch {
      // One bad write must not fail its neighbours: replay each alone so only the culprit rejects.
      for (const item of batch) {
        try {
          item.resolve(raw.transaction(() => item.op(this.sql))());
        } catch (err) {
          item.reject(err instanceof StoreError ? err : new StoreError(`store write failed: ${(err as Error).message}`, { cause: err }));
        }
      }
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
  }
}
