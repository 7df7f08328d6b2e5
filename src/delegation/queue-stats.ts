/** Live task counts by state, kept from the event stream so admission control and /health never scan the table. */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { StatusCounts } from '../store/task-repository.js';
import { moveOf } from '../tasks/states.js';

export class QueueStats {
  private readonly counts: StatusCounts;

  constructor(initial: StatusCounts, bus: EventBus) {
    this.counts = { ...initial };
    bus.subscribe((e) => this.apply(e));
  }

  get pending(): number {
    return this.counts.pending;
  }

  snapshot(): StatusCounts {
    return { ...this.counts };
  }

  private apply(e: TaskEvent): void {
    const move = moveOf(e.kind, e.detail?.from);
    if (!move) return;
    const [from, to] = move;
    if (from) this.counts[from] = Math.max(0, this.counts[from] - 1);
    this.counts[to] += 1;
  }
}
