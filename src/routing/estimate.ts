/** Where a pending task stands: its position in the queue, when it may finish, and why it waits. */
import type { BackendGates } from '../supervision/backend-gate.js';
import type { QueuedTask } from '../tasks/task.js';
import type { LaneQueue } from './lanes.js';
import type { RoutingConfig } from './policy.js';
import type { Group, PoolView } from './pool-view.js';
import type { QueueEstimate } from './scheduler-views.js';
import { heldReason, queuedReason, type HeldTask, type WaitingContext } from './waiting.js';

/** The scheduler's state as the waiting-reason and estimate functions read it (read only, at `now`). */
export function waitingContext(lanes: LaneQueue, pool: PoolView, routing: RoutingConfig, gates: BackendGates, draining: boolean, now: number): WaitingContext {
  return {
    lanes,
    pool,
    rules: routing.rules,
    speedAware: routing.speed_aware,
    draining,
    now,
    admits: (g: Group) => gates.get(g.key).admits(g.running.size),
    blocked: (g: Group) => gates.get(g.key).blocked,
    gate: (g: Group) => gates.status(g.key),
    backendOf: (g: Group) => pool.backendOf(g.key),
  };
}

/**
 * Position by counting the queued tasks that go first (for a held task: those that would, were it back now); ETA in
 * ms from the pool's measured throughput, plus what is left of a held task's wait; and why it waits, worked out now.
 * Null when the task is neither queued nor held (it is running, finished, or unknown here).
 */
export function estimate(taskId: string, held: ReadonlyMap<string, HeldTask>, ctx: WaitingContext): QueueEstimate | null {
  const heldTask = held.get(taskId);
  const target: QueuedTask | undefined = heldTask?.task ?? ctx.lanes.find(taskId);
  if (!target) return null;
  const { now, pool } = ctx;
  const ahead = ctx.lanes.countBefore(target);
  const waitingFor = heldTask ? heldReason(heldTask, now) : queuedReason(target, ctx);
  const heldMs = heldTask ? Math.max(0, heldTask.until - now) : 0;
  const groups = [...pool.groups.values()];
  const meanMs = groups.reduce((sum, g) => sum + pool.speed(g), 0) / Math.max(1, groups.length);
  if (meanMs === 0) return { position: ahead + 1, etaMs: null, waitingFor };
  // Tasks per millisecond the whole pool finishes; groups not measured yet count as average ones.
  const throughput = groups.reduce((sum, g) => sum + g.members.size / Math.max(1, pool.speed(g)), 0);
  return { position: ahead + 1, etaMs: Math.round(heldMs + ahead / throughput + meanMs), waitingFor };
}
