/**
 * Group commit: writes issued close together share one synchronous transaction; each caller still learns its own
 * outcome, and a write is on disk (in the WAL) before its promise resolves. A commit costs tens of microseconds of
 * syscalls whatever its size. At a low write rate each batch commits on the next turn of the event loop (no added
 * latency); above `busyRate` writes per millisecond the batcher waits up to `windowMs` to gather more per commit.
 */
import { StoreError } from '../errors.js';
import type { SqlRunner } from './prepared.js';
import type { StoreHealth } from './store-health.js';

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
  /** Writes counted since `rateSince`, to estimate the current write rate. */
  private written = 0;
  private rateSince = performance.now();
  private busy = false;

  constructor(
    private readonly sql: SqlRunner,
    /** Told of every failed write, so /health can say when the disk is full. */
    private readonly health: StoreHealth | null = null,
    /** Called after each commit (the checkpointer counts them). */
    private readonly onCommit: () => void = () => {},
    private readonly windowMs = 1,
    private readonly busyRate = 4,
  ) {}

  /** Runs op inside a transaction shared with the other writes of this tick; resolves after the commit. */
  write<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.busy) setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** Re-estimates the write rate every ~10 ms of activity. */
  private measureRate(ops: number): void {
    this.written += ops;
    const now = performance.now();
    const elapsed = now - this.rateSince;
    if (elapsed < 10) return;
    this.busy = this.written / elapsed >= this.busyRate;
    this.written = 0;
    this.rateSince = now;
  }

  /** Commits what is queued now and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.measureRate(batch.length);
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
          this.health?.failed(err);
          item.reject(err instanceof StoreError ? err : new StoreError(`store write failed: ${(err as Error).message}`, { cause: err }));
        }
      }
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
    this.onCommit();
  }
}
