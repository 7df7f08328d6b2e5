/** Waiting on a task's events without polling: a subscription on the event bus, bounded by a timeout. */
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { endsTask, isStateEventKind } from '../tasks/states.js';

/** Any change of state (streamed output is not one). */
export const isStateChange = (e: TaskEvent) => isStateEventKind(e.kind);
export const isFinal = (e: TaskEvent) => endsTask(e.kind);

export interface TaskWait {
  /** True when an accepted event arrived within the time, false when the wait ran out or was cancelled. */
  done: Promise<boolean>;
  cancel(): void;
}

/**
 * Subscribe before the awaited event can happen (before the insert, before reading the current state). The timeout
 * runs on `clock` (the system clock's timers never keep a stopping process alive).
 */
export function waitForTaskEvent(bus: EventBus, clock: Clock, taskId: string, timeoutMs: number, accept: (e: TaskEvent) => boolean): TaskWait {
  let settle!: (arrived: boolean) => void;
  const done = new Promise<boolean>((resolve) => (settle = resolve));
  const unsubscribe = bus.subscribeTask(taskId, (e) => {
    if (accept(e)) finish(true);
  });
  const timer = clock.setTimeout(() => finish(false), timeoutMs);
  function finish(arrived: boolean) {
    clock.clearTimeout(timer);
    unsubscribe();
    settle(arrived);
  }
  return { done, cancel: () => finish(false) };
}
