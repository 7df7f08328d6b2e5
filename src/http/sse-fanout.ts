/**
 * Fans task events out to /events clients by filter: all clients with the same filter share one bus listener, one
 * joined batch of frames and one Buffer, written to each of them in one write. What a client costs per batch is a
 * single socket write of bytes already encoded, not a listener call, a JSON encoding and a copy per event.
 * A batch leaves on the next turn of the event loop, but at most one per gap: under a steady stream of events every
 * client gets one write per gap instead of one per turn (socket writes are what many watchers cost). The gap grows
 * with the group, so that a group costs at most WRITES_PER_SECOND socket writes however many watch: 100 dashboards
 * open on a busy pool must not take the CPU the submits need.
 */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent, TaskEventKind } from '../events/types.js';
import { taskEventFrame } from './sse-frames.js';
import type { SseOutlet } from './sse-outlet.js';

/** Least time between two batches of a group (as Nagle coalesces). */
const MIN_GAP_MS = 20;
/** Most time between two batches, whatever the group's size: the most an event waits behind others. */
const MAX_GAP_MS = 100;
/** Socket writes a group may cost per second under a steady stream of events (one per member per batch). */
const WRITES_PER_SECOND = 1000;

/** The time between a group's batches, ms: MIN_GAP_MS for a few members, growing with them up to MAX_GAP_MS. */
export function batchGapMs(members: number): number {
  return Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, (members * 1000) / WRITES_PER_SECOND));
}

/** What an /events client asked for: one task or all (null), some kinds or all (null). */
export interface EventFilter {
  task: string | null;
  kinds: ReadonlySet<TaskEventKind> | null;
}

export class SseFanout {
  private readonly groups = new Map<string, FilterGroup>();

  constructor(private readonly bus: EventBus) {}

  /** Sends `outlet` every event that passes `filter` from now on, in publish order; returns the leave function. */
  join(filter: EventFilter, outlet: SseOutlet): () => void {
    const key = `${filter.task ?? '*'} ${filter.kinds ? [...filter.kinds].sort().join(',') : '*'}`;
    let group = this.groups.get(key);
    if (!group) {
      const created = new FilterGroup(this.bus, filter, () => this.groups.delete(key));
      this.groups.set(key, (group = created));
    }
    return group.add(outlet);
  }
}

/** The clients of one filter, and the frames queued for them since the last batch. */
class FilterGroup {
  private readonly members = new Set<SseOutlet>();
  /** Members that joined while frames were queued: the index of the first frame that is theirs. */
  private joinedLate = new Map<SseOutlet, number>();
  private frames: string[] = [];
  private lastBatchAt = 0;
  private scheduled: { cancel(): void } | null = null;
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, filter: EventFilter, private readonly onEmpty: () => void) {
    const { task, kinds } = filter;
    const listener = (e: TaskEvent) => {
      if (kinds && !kinds.has(e.kind)) return;
      this.frames.push(taskEventFrame(e));
      this.schedule();
    };
    this.unsubscribe = task ? bus.subscribeTask(task, listener) : bus.subscribe(listener);
  }

  add(outlet: SseOutlet): () => void {
    this.members.add(outlet);
    if (this.frames.length > 0) this.joinedLate.set(outlet, this.frames.length);
    return () => {
      this.members.delete(outlet);
      this.joinedLate.delete(outlet);
      if (this.members.size > 0) return;
      this.scheduled?.cancel();
      this.unsubscribe();
      this.onEmpty();
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    const wait = this.lastBatchAt + batchGapMs(this.members.size) - performance.now();
    if (wait > 0) {
      const timer = setTimeout(() => this.sendBatch(), wait);
      this.scheduled = { cancel: () => clearTimeout(timer) };
    } else {
      const immediate = setImmediate(() => this.sendBatch());
      this.scheduled = { cancel: () => clearImmediate(immediate) };
    }
  }

  private sendBatch(): void {
    this.scheduled = null;
    this.lastBatchAt = performance.now();
    const frames = this.frames;
    this.frames = [];
    const late = this.joinedLate;
    if (late.size > 0) this.joinedLate = new Map();
    const batch = Buffer.from(frames.join(''));
    // A member may leave (be dropped) during this loop; a Set skips members deleted before they are reached.
    for (const outlet of this.members) {
      const from = late.get(outlet);
      if (from === undefined) outlet.sendBatch(batch);
      else if (from < frames.length) outlet.sendBatch(Buffer.from(frames.slice(from).join('')));
    }
  }
}
