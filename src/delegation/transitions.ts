/** Task state changes as the actors need them: each one is committed to the store, then published on the bus. */
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import { storageFailure } from '../store/store-health.js';
import type { TaskRepository } from '../store/task-repository.js';
import type { Task } from '../tasks/task.js';
import type { TaskTransitions } from '../tasks/task-transitions.js';
import type { ChatDelta } from '../tasks/chat.js';

/** A result waits this long at most for the disk to take it; then it is left for the next start's recovery. */
const STORED_WITHIN_MS = 10 * 60_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Runs a write that ends an attempt, and, while it fails for a storage reason (a full disk), runs it again with backoff:
 * the worker holds its result (and its slot) until the disk takes it, so a full disk loses no finished work. A write
 * that no longer applies (stale lease) simply answers null again.
 */
async function untilStored<T>(write: () => Promise<T>, what: string, taskId: string, clock: Clock, log: Logger): Promise<T> {
  const giveUpAt = clock.now() + STORED_WITHIN_MS;
  for (let delay = RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
    try {
      return await write();
    } catch (err) {
      const reason = storageFailure(err);
      if (reason === null || clock.now() + delay > giveUpAt) throw err;
      if (delay === RETRY_FIRST_MS) log.warn(`recording ${what} failed; retrying until the store takes it`, { task: taskId, error: reason });
      await new Promise<void>((r) => clock.setTimeout(r, delay));
    }
  }
}

/**
 * Binds transitions to the real repository and bus. `limits`: attempts per task (a lost worker's requeue fails the task
 * past them) and the longest a task may be deferred in all (tasks.max_defer_ms).
 */
export function storeTransitions(tasks: TaskRepository, bus: EventBus, clock: Clock, limits: { max_attempts: number; max_defer_ms: number }, log: Logger): TaskTransitions {
  const { max_attempts: maxAttempts, max_defer_ms: maxDeferMs } = limits;
  // The scheduler commits an assignment a turn after the run starts, so a run refused at once (a request the backend
  // protocol cannot carry) can end first: each write that ends a run waits for its lease's assignment to be written,
  // or it would find the task still pending and be dropped, leaving the task in progress for ever.
  const assigning = new Map<string, Promise<void>>();
  const assigned = async (lease: string): Promise<void> => {
    await assigning.get(lease);
  };
  return {
    assign(id, workerId, lease) {
      const current = tasks.get(id);
      if (!current || current.status !== 'pending') return null;
      let written!: () => void;
      assigning.set(lease, new Promise<void>((resolve) => (written = resolve)));
      const commit = () =>
        tasks
          .assign(id, workerId, lease)
          .then((result) => {
            if (result) bus.publish(result.event);
            return result !== null;
          })
          .finally(() => {
            assigning.delete(lease);
            written();
          });
      const startedAt = clock.now();
      const task: Task = { ...current, status: 'in_progress', attempts: current.attempts + 1, workerId, lease, startedAt, updatedAt: startedAt };
      return { task, commit };
    },
    async finish(id, lease, outcome) {
      await assigned(lease);
      const event = await untilStored(() => tasks.finish(id, lease, outcome), 'a result', id, clock, log);
      if (!event) return false;
      bus.publish(event);
      return true;
    },
    async requeue(id, lease, reason) {
      await assigned(lease);
      const result = await untilStored(() => tasks.requeue(id, lease, reason, maxAttempts), 'a requeue', id, clock, log);
      if (!result) return null;
      bus.publish(result.event);
      return result.queued;
    },
    async retry(id, lease, error, retryInMs) {
      await assigned(lease);
      const result = await untilStored(() => tasks.retry(id, lease, error, retryInMs), 'a retry', id, clock, log);
      if (!result) return null;
      bus.publish(result.event);
      return result.queued;
    },
    async defer(id, lease, reason, waitMs, backend) {
      await assigned(lease);
      const result = await tasks.defer(id, lease, reason, waitMs, backend, maxDeferMs);
      if (!result) return null;
      bus.publish(result.event);
      if (result.queued === null) {
        const { error, deferredMs } = result;
        log.warn('task failed: its backend kept pushing back for longer than tasks.max_defer_ms', { task: id, backend, code: error.code, deferred_ms: deferredMs, max_defer_ms: maxDeferMs, error: error.message });
      }
      return result.queued;
    },
    progress(id, workerId, lease, chunk, delta) {
      bus.publish({ taskId: id, kind: 'progress', at: clock.now(), workerId, lease, detail: delta ? { chunk, delta } : { chunk } });
    },
  };
}
