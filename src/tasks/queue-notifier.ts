/**
 * Coalesces "task queued" notices into one scheduler message per microtask turn: a group commit resolves many
 * submits at once, and nact handles one message per event-loop turn, so one message per task would be the bottleneck.
 */
import type { QueuedTask } from './task.js';

/** Returns notify(task); `send` receives each batch in queue order. */
export function coalescing(send: (tasks: QueuedTask[]) => void): (task: QueuedTask) => void {
  let batch: QueuedTask[] = [];
  return (task) => {
    batch.push(task);
    if (batch.length > 1) return;
    queueMicrotask(() => {
      const out = batch;
      batch = [];
      send(out);
    });
  };
}
