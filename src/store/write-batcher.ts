/**
 * Group commit: writes issued in the same turn of the event loop share one transaction. With hundreds of
 * submits a second this turns hundreds of commits into a few, and each caller still learns its own outcome.
 */
import type { Kysely, Transaction } from 'kysely';
import { StoreError } from '../errors.js';
import type { Schema } from './schema.js';

export type WriteOp<T> = (trx: Transaction<Schema>) => Promise<T>;

interface Pending {
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly maxBatch = 512,
  ) {}

  /** Runs op inside a transaction shared with the other writes of this tick; resolves after the commit. */
  write<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Waits until every write issued so far is committed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) {
      await (this.flushing ?? new Promise((r) => setImmediate(r)));
    }
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flush().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const item of batch) out.push(await item.op(trx));
        return out;
      });
      batch.forEach((item, i) => item.resolve(results[i]));
    } catch {
      // One bad write must not fail its neighbours: replay each alone so only the culprit rejects.
      for (const item of batch) {
        try {
          item.resolve(await this.db.transaction().execute(item.op));
        } catch (err) {
          item.reject(err instanceof StoreError ? err : new StoreError(`store write failed: ${(err as Error).message}`, { cause: err }));
        }
      }
    }
  }
}
