/**
 * The pending index: tasks ordered by priority (high first), then by age (old first). Both ends are reachable in
 * O(1): fast workers take from the head, and a slow worker may take the least urgent task from the tail.
 * Priorities are few (1-10), so each has its own bucket kept sorted by seq; new tasks append, and only requeued
 * ones (which keep their old seq) are inserted in the middle.
 */
import type { QueuedTask } from '../tasks/task.js';

interface Bucket {
  priority: number;
  items: QueuedTask[];
  /** items[0..head) were popped from the front; cut off now and then rather than shifting on every pop. */
  head: number;
}

export class PendingQueue {
  /** Non-empty buckets, highest priority first. */
  private buckets: Bucket[] = [];
  private readonly byId = new Map<string, QueuedTask>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Adds a task unless it is already queued (a requeue can race a reload). */
  push(task: QueuedTask): void {
    if (this.byId.has(task.id)) return;
    this.byId.set(task.id, task);
    const bucket = this.bucketFor(task.priority);
    const { items } = bucket;
    if (items.length === bucket.head || items[items.length - 1]!.seq < task.seq) items.push(task);
    else items.splice(this.indexOf(bucket, task.seq), 0, task);
  }

  /** The task that should run next. */
  peek(): QueuedTask | undefined {
    const b = this.buckets[0];
    return b?.items[b.head];
  }

  /** The task that can wait longest: lowest priority, newest. */
  peekLast(): QueuedTask | undefined {
    return this.buckets.at(-1)?.items.at(-1);
  }

  /** Removes and returns the task that should run next. */
  pop(): QueuedTask | undefined {
    const b = this.buckets[0];
    if (!b) return undefined;
    const task = b.items[b.head++]!;
    if (b.head > 64 && b.head * 2 > b.items.length) {
      b.items = b.items.slice(b.head);
      b.head = 0;
    }
    this.taken(b, task);
    return task;
  }

  /** Removes and returns the task that can wait longest. */
  popLast(): QueuedTask | undefined {
    const b = this.buckets.at(-1);
    if (!b) return undefined;
    const task = b.items.pop()!;
    this.taken(b, task);
    return task;
  }

  /** Removes a task by id (cancelled or re-prioritised while pending). */
  remove(id: string): boolean {
    const task = this.byId.get(id);
    if (!task) return false;
    const b = this.buckets.find((x) => x.priority === task.priority)!;
    b.items.splice(this.indexOf(b, task.seq), 1);
    this.taken(b, task);
    return true;
  }

  find(id: string): QueuedTask | undefined {
    return this.byId.get(id);
  }

  /** How many queued tasks run before this one (its queue position minus one). */
  countBefore(task: QueuedTask): number {
    let n = 0;
    for (const b of this.buckets) {
      if (b.priority > task.priority) n += b.items.length - b.head;
      else if (b.priority === task.priority) n += this.indexOf(b, task.seq) - b.head;
    }
    return n;
  }

  private taken(b: Bucket, task: QueuedTask): void {
    this.byId.delete(task.id);
    if (b.items.length === b.head) this.buckets.splice(this.buckets.indexOf(b), 1);
  }

  private bucketFor(priority: number): Bucket {
    let i = 0;
    while (i < this.buckets.length && this.buckets[i]!.priority > priority) i++;
    const found = this.buckets[i];
    if (found?.priority === priority) return found;
    const bucket: Bucket = { priority, items: [], head: 0 };
    this.buckets.splice(i, 0, bucket);
    return bucket;
  }

  /** The first index in the bucket's live part whose seq is >= seq (binary search). */
  private indexOf(b: Bucket, seq: number): number {
    let lo = b.head;
    let hi = b.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b.items[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
