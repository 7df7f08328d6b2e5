/** Waiting on a task's events without polling: a subscription on the event bus, bounded by a timeout. */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';

const FINAL_KINDS = new Set(['completed', 'failed', 'cancelled']);

/** Any change of state (streamed output is not one). */
export const isStateChange = (e: TaskEvent) => e.kind !== 'progress';
export const isFinal = (e: TaskEvent) => FINAL_KINDS.has(e.kind);

export interface TaskWait {
  /** True when an accepted event arrived within the time, false when the wait ran out or was cancelled. */
  done: Promise<boolean>;
  cancel(): void;
}

/** Subscribe before the awaited event can happen (before the insert, before reading the current state). */
export function waitForTaskEvent(bus: EventBus, taskId: string, timeoutMs: number, accept: (e: TaskEvent) => boolean): TaskWait {
  let settle!: (arrived: boolean) => void;
  const done = new Promise<boolean>((resolve) => (settle = resolve));
  const unsubscribe = bus.subscribeTask(taskId, (e) => {
    if (accept(e)) finish(true);
  });
  const timer = setTimeout(() => finish(false), timeoutMs);
  // A pending wait must never keep a stopping process alive.
  timer.unref();
  function finish(arrived: boolean) {
    clearTimeout(timer);
    unsubscribe();
    settle(arrived);
  }
  return { done, cancel: () => finish(false) };
}
