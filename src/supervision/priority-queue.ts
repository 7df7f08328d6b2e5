/** The pending index: a binary heap ordered by priority (high first), then by insertion order (old first). */
import type { QueuedTask } from '../tasks/task.js';

function before(a: QueuedTask, b: QueuedTask): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

export class PendingQueue {
  private heap: QueuedTask[] = [];
  private readonly ids = new Set<string>();

  get size(): number {
    return this.heap.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds a task unless it is already queued (a requeue can race a reload). */
  push(task: QueuedTask): void {
    if (this.ids.has(task.id)) return;
    this.ids.add(task.id);
    this.heap.push(task);
    this.siftUp(this.heap.length - 1);
  }

  peek(): QueuedTask | undefined {
    return this.heap[0];
  }

  /** Removes and returns the task that should run next. */
  pop(): QueuedTask | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.siftDown(0);
    }
    this.ids.delete(top.id);
    return top;
  }

  /** Removes a task by id (cancelled while pending). O(n), which is fine for a rare operation. */
  remove(id: string): boolean {
    if (!this.ids.has(id)) return false;
    const i = this.heap.findIndex((t) => t.id === id);
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      this.siftDown(i);
      this.siftUp(i);
    }
    this.ids.delete(id);
    return true;
  }

  find(id: string): QueuedTask | undefined {
    return this.ids.has(id) ? this.heap.find((t) => t.id === id) : undefined;
  }

  /** How many queued tasks run before this one (its queue position minus one), in O(n). */
  countBefore(task: QueuedTask): number {
    let n = 0;
    for (const t of this.heap) if (t !== task && before(t, task)) n++;
    return n;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && before(h[l]!, h[best]!)) best = l;
      if (r < h.length && before(h[r]!, h[best]!)) best = r;
      if (best === i) return;
      [h[i], h[best]] = [h[best]!, h[i]!];
      i = best;
    }
  }
}
