/** Live task counts by state, kept from the event stream so admission control and /health never scan the table. */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { StatusCounts } from '../store/tasks-repo.js';
import type { TaskStatus } from '../tasks/task.js';

/** Which count an event moves a task out of and into. */
const MOVES: Partial<Record<TaskEvent['kind'], [TaskStatus | null, TaskStatus]>> = {
  queued: [null, 'pending'],
  assigned: ['pending', 'in_progress'],
  requeued: ['in_progress', 'pending'],
  retried: ['in_progress', 'pending'],
  deferred: ['in_progress', 'pending'],
  completed: ['in_progress', 'completed'],
  failed: ['in_progress', 'failed'],
};

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
    const move = e.kind === 'cancelled' || (e.kind === 'failed' && e.detail?.from) ? fromDetail(e) : MOVES[e.kind];
    if (!move) return;
    const [from, to] = move;
    if (from) this.counts[from] = Math.max(0, this.counts[from] - 1);
    this.counts[to] += 1;
  }
}

/** Cancellation (and failing a pending task) can start from more than one state; the event says which. */
function fromDetail(e: TaskEvent): [TaskStatus | null, TaskStatus] {
  const from = (e.detail?.from as TaskStatus | undefined) ?? 'pending';
  return [from, e.kind as TaskStatus];
}
