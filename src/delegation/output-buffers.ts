/**
 * The output a running task has streamed so far, kept in memory for status readers (CLI --watch, MCP get_task).
 * Each attempt starts afresh; the buffer goes when the attempt ends (the final output is in the store by then).
 */
import type { EventBus } from '../events/bus.js';

/** Per task; longer answers keep counting their length but stop growing the buffer. */
const MAX_CHARS = 1 << 20;
/** Leases whose attempt ended, remembered so that a chunk still in flight after the end cannot start a buffer that nothing would free. */
const ENDED_LEASES_KEPT = 10_000;

export interface PartialOutput {
  text: string;
  /** Characters streamed so far (text may stop short of it past the cap). */
  length: number;
}

export class OutputBuffers {
  private readonly buffers = new Map<string, { lease: string | null; chunks: string[]; stored: number; length: number }>();
  private readonly endedLeases = new Set<string>();

  constructor(bus: EventBus) {
    bus.subscribe((e) => {
      if (e.kind === 'progress') {
        const chunk = typeof e.detail?.chunk === 'string' ? e.detail.chunk : '';
        const lease = e.lease ?? null;
        if (lease !== null && this.endedLeases.has(lease)) return;
        let b = this.buffers.get(e.taskId);
        // A chunk under a new lease is a new attempt: its text starts afresh.
        if (!b || b.lease !== lease) this.buffers.set(e.taskId, (b = { lease, chunks: [], stored: 0, length: 0 }));
        b.length += chunk.length;
        if (b.stored < MAX_CHARS) {
          const kept = chunk.slice(0, MAX_CHARS - b.stored);
          b.chunks.push(kept);
          b.stored += kept.length;
        }
      } else if (e.kind !== 'assigned' && e.kind !== 'queued') {
        // The attempt ended (finished, retried, requeued, cancelled). `assigned` is not one: a run may stream
        // before its assignment's commit is announced.
        this.buffers.delete(e.taskId);
        if (e.lease) this.rememberEnded(e.lease);
      }
    });
  }

  /** The streamed text of the current attempt from character `from` on, or null when nothing has streamed. */
  read(taskId: string, from = 0): PartialOutput | null {
    const b = this.buffers.get(taskId);
    if (!b) return null;
    if (b.chunks.length > 1) b.chunks = [b.chunks.join('')];
    return { text: (b.chunks[0] ?? '').slice(from), length: b.length };
  }

  /** How many tasks have a buffer now (running tasks that have streamed). */
  get size(): number {
    return this.buffers.size;
  }

  private rememberEnded(lease: string): void {
    this.endedLeases.add(lease);
    if (this.endedLeases.size > ENDED_LEASES_KEPT) this.endedLeases.delete(this.endedLeases.values().next().value!);
  }

  length(taskId: string): number {
    return this.buffers.get(taskId)?.length ?? 0;
  }
}
