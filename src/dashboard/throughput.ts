/**
 * Finished tasks per time bucket over the last minutes, counted from the event stream for the dashboard's chart. Kept
 * in memory (a few dozen counters): the tasks table has no index on finish time, and a chart needs no history older
 * than its window.
 */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { isFinalStatus, statusAfter } from '../tasks/states.js';

export interface ThroughputBucket {
  /** Start of the bucket, epoch ms. */
  start: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface ThroughputReport {
  bucketMs: number;
  /** When counting began: buckets before it are unknown, not empty. */
  since: number;
  /** Oldest first; the last one is the bucket now running. */
  buckets: ThroughputBucket[];
}


export class Throughput {
  private readonly counts = new Map<number, ThroughputBucket>();
  private readonly since: number;

  constructor(
    bus: EventBus,
    private readonly now: () => number,
    readonly bucketMs = 30_000,
    readonly windowBuckets = 30,
  ) {
    this.since = now();
    bus.subscribe((e) => this.record(e));
  }

  record(e: TaskEvent): void {
    const outcome = statusAfter(e.kind);
    if (!isFinalStatus(outcome)) return;
    const start = e.at - (e.at % this.bucketMs);
    let bucket = this.counts.get(start);
    if (!bucket) {
      this.counts.set(start, (bucket = { start, completed: 0, failed: 0, cancelled: 0 }));
      this.forgetBefore(this.oldestStart(this.now()));
    }
    bucket[outcome] += 1;
  }

  /** The window ending with the current bucket, gaps filled with zeros. */
  report(): ThroughputReport {
    const oldest = this.oldestStart(this.now());
    this.forgetBefore(oldest);
    const buckets: ThroughputBucket[] = [];
    for (let i = 0; i < this.windowBuckets; i++) {
      const start = oldest + i * this.bucketMs;
      buckets.push({ ...(this.counts.get(start) ?? { start, completed: 0, failed: 0, cancelled: 0 }) });
    }
    return { bucketMs: this.bucketMs, since: this.since, buckets };
  }

  private oldestStart(now: number): number {
    return now - (now % this.bucketMs) - (this.windowBuckets - 1) * this.bucketMs;
  }

  private forgetBefore(start: number): void {
    for (const key of this.counts.keys()) if (key < start) this.counts.delete(key);
  }
}
