/**
 * How fast each worker has been lately, measured from the event stream for the dashboard: characters streamed per
 * second of running time, and tasks completed per minute, over a sliding window. Runs are keyed by lease, because a
 * worker's progress may arrive before its assignment is announced and retries carry only the lease.
 */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { endsRun } from '../tasks/states.js';

export interface WorkerSpeed {
  /** Streamed characters per second of running time; null before anything streamed. */
  charsPerS: number | null;
  /** Streamed pieces per second of running time (for most servers one piece is one token); null likewise. */
  chunksPerS: number | null;
  /** Tasks completed per minute over the window (or since counting began, when that is shorter). */
  tasksPerMin: number;
}

interface Run {
  workerId: string;
  start: number;
  chars: number;
  chunks: number;
}

interface EndedRun {
  end: number;
  ms: number;
  chars: number;
  chunks: number;
  completed: boolean;
}

/** Bounds memory whatever happens: a busy worker keeps at most this many ended runs, the pool this many open ones. */
const MAX_ENDED_PER_WORKER = 500;
const MAX_OPEN_RUNS = 10_000;

export class WorkerSpeeds {
  private readonly open = new Map<string, Run>();
  private readonly ended = new Map<string, EndedRun[]>();
  private readonly since: number;

  constructor(
    bus: EventBus,
    private readonly now: () => number,
    readonly windowMs = 5 * 60_000,
  ) {
    this.since = now();
    bus.subscribe((e) => this.record(e));
  }

  record(e: TaskEvent): void {
    const lease = e.lease;
    if (!lease) return;
    if (e.kind === 'assigned' || e.kind === 'progress') {
      if (!e.workerId) return;
      let run = this.open.get(lease);
      if (!run) {
        if (this.open.size >= MAX_OPEN_RUNS) this.open.delete(this.open.keys().next().value!);
        this.open.set(lease, (run = { workerId: e.workerId, start: e.at, chars: 0, chunks: 0 }));
      }
      run.start = Math.min(run.start, e.at);
      if (e.kind === 'progress') {
        const chunk = e.detail?.chunk;
        run.chars += typeof chunk === 'string' ? chunk.length : 0;
        run.chunks += 1;
      }
      return;
    }
    if (!endsRun(e.kind)) return;
    const run = this.open.get(lease);
    if (!run) return;
    this.open.delete(lease);
    let list = this.ended.get(run.workerId);
    if (!list) this.ended.set(run.workerId, (list = []));
    list.push({ end: e.at, ms: Math.max(0, e.at - run.start), chars: run.chars, chunks: run.chunks, completed: e.kind === 'completed' });
    if (list.length > MAX_ENDED_PER_WORKER) list.splice(0, list.length - MAX_ENDED_PER_WORKER);
  }

  /** The speed of one worker over the window, its running task included. */
  of(workerId: string): WorkerSpeed {
    const now = this.now();
    const cut = now - this.windowMs;
    const list = (this.ended.get(workerId) ?? []).filter((r) => r.end >= cut);
    if (list.length === 0) this.ended.delete(workerId);
    else this.ended.set(workerId, list);
    let ms = 0;
    let chars = 0;
    let chunks = 0;
    let completed = 0;
    for (const r of list) {
      ms += r.ms;
      chars += r.chars;
      chunks += r.chunks;
      if (r.completed) completed += 1;
    }
    for (const r of this.open.values()) {
      if (r.workerId !== workerId) continue;
      ms += Math.max(0, now - r.start);
      chars += r.chars;
      chunks += r.chunks;
    }
    const seconds = ms / 1000;
    // At least a minute: one task in the first seconds is not a rate of dozens a minute.
    const minutes = Math.max(60_000, Math.min(this.windowMs, now - this.since)) / 60_000;
    return {
      charsPerS: chars > 0 && seconds > 0 ? round1(chars / seconds) : null,
      chunksPerS: chunks > 0 && seconds > 0 ? round1(chunks / seconds) : null,
      tasksPerMin: round1(completed / minutes),
    };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;
