/** Waiting for a task to reach a final state, without polling: a subscription on the event bus. */
import type { EventBus } from '../events/bus.js';

const FINAL_KINDS = new Set(['completed', 'failed', 'cancelled']);

export interface FinalWait {
  /** True when the task ended within the time, false when the wait ran out or was cancelled. */
  done: Promise<boolean>;
  cancel(): void;
}

/** Subscribe before the task can finish (before its insert), then await `done`. */
export function waitForFinal(bus: EventBus, taskId: string, timeoutMs: number): FinalWait {
  let settle!: (ended: boolean) => void;
  const done = new Promise<boolean>((resolve) => (settle = resolve));
  const unsubscribe = bus.subscribeTask(taskId, (e) => {
    if (FINAL_KINDS.has(e.kind)) finish(true);
  });
  const timer = setTimeout(() => finish(false), timeoutMs);
  // A pending wait must never keep a stopping process alive.
  timer.unref();
  function finish(ended: boolean) {
    clearTimeout(timer);
    unsubscribe();
    settle(ended);
  }
  return { done, cancel: () => finish(false) };
}
