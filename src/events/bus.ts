/** In-process publish/subscribe of task events: sync waits, and later SSE, WebSocket and NATS, listen here. */
import type { TaskEvent } from './types.js';

export type TaskEventListener = (event: TaskEvent) => void;

export class EventBus {
  private readonly all = new Set<TaskEventListener>();
  private readonly byTask = new Map<string, Set<TaskEventListener>>();

  /** Delivers the event to every listener; a throwing listener never disturbs the publisher or the others. */
  publish(event: TaskEvent): void {
    for (const listener of this.all) safeCall(listener, event);
    const forTask = this.byTask.get(event.taskId);
    if (forTask) for (const listener of forTask) safeCall(listener, event);
  }

  /** Listens to every event; returns the unsubscribe function. */
  subscribe(listener: TaskEventListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  /** Listens to one task's events; returns the unsubscribe function. */
  subscribeTask(taskId: string, listener: TaskEventListener): () => void {
    let set = this.byTask.get(taskId);
    if (!set) this.byTask.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byTask.delete(taskId);
    };
  }
}

function safeCall(listener: TaskEventListener, event: TaskEvent): void {
  try {
    listener(event);
  } catch {
    // A listener's failure is its own business.
  }
}
