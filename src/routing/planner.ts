/**
 * Who runs what next. Groups with idle workers are served fastest first. A group takes the most urgent task it may
 * run unless a faster group may run it too; then it takes the least urgent task, and only when the backlog is
 * deeper than what the faster groups will finish in the time it needs for one task. So a slow machine never holds
 * a task a fast one would finish sooner, yet keeps busy while there is more work than the fast ones can reach.
 */
import type { QueuedTask } from '../tasks/task.js';
import type { Lane, LaneQueue } from './lanes.js';
import type { Group, PoolView } from './pool-view.js';

/** A group counts as faster only when clearly so, so that noise in the measurements does not idle a worker. */
const FASTER_BY = 1.25;

export interface PlanOptions {
  speedAware: boolean;
  now: number;
  /** Starts the run; the worker leaves the idle set (and comes back to it if the task was no longer pending). */
  assign(workerId: string, task: QueuedTask): void;
  /** May the group's backend take one more task now (its circuit, pause and in-flight limit)? */
  admits(group: Group): boolean;
  /** Its backend takes nothing now (circuit open, paused): it cannot be counted on to take work soon. */
  blocked(group: Group): boolean;
}

export function plan(lanes: LaneQueue, pool: PoolView, opts: PlanOptions): void {
  if (pool.idleCount === 0 || lanes.size === 0) return;
  const active = lanes.active(pool);
  const withIdle = [...pool.groups.values()].filter((g) => g.idle.size > 0 && opts.admits(g));
  if (opts.speedAware && withIdle.length > 1) withIdle.sort((a, b) => pool.speed(a) - pool.speed(b));
  for (const group of withIdle) {
    const mine = active.filter((l) => l.eligible.includes(group));
    if (mine.length === 0) continue;
    const ms = pool.speed(group);
    const faster = new Set(opts.speedAware ? fasterGroups(group, pool, opts.blocked) : []);
    while (group.idle.size > 0 && opts.admits(group)) {
      // With no faster group in the pool (one machine, or this is the fastest) it is simply the most urgent task.
      const task = faster.size === 0 ? head(mine, lanes) : next(ms, faster, mine, lanes, pool, opts.now);
      if (!task) break;
      opts.assign(group.idle.values().next().value as string, task);
    }
  }
}

/** The groups clearly faster than `group` that can be counted on to take work soon (not blocked by their backend). */
export function fasterGroups(group: Group, pool: PoolView, blocked: (g: Group) => boolean): Group[] {
  const ms = pool.speed(group);
  return [...pool.groups.values()].filter((g) => pool.speed(g) * FASTER_BY < ms && !blocked(g));
}

function head(mine: Lane[], lanes: LaneQueue): QueuedTask | null {
  const live = mine.filter((l) => l.queue.size > 0);
  return live.length === 0 ? null : lanes.take(pick(live, 'head'), 'head');
}

/** The task an idle worker of a group taking `ms` per task should take now, given the groups faster than it. */
function next(ms: number, faster: Set<Group>, mine: Lane[], lanes: LaneQueue, pool: PoolView, now: number): QueuedTask | null {
  const live = mine.filter((l) => l.queue.size > 0);
  if (live.length === 0) return null;
  const onlyHere = live.filter((l) => !l.eligible.some((g) => faster.has(g)));
  if (onlyHere.length > 0) return lanes.take(pick(onlyHere, 'head'), 'head');
  let reachable = 0;
  for (const g of faster) if (live.some((l) => l.eligible.includes(g))) reachable += tasksFinishedBy(g, now + ms, now, pool);
  const pending = live.reduce((n, l) => n + l.queue.size, 0);
  return pending > reachable ? lanes.take(pick(live, 'tail'), 'tail') : null;
}

/** How many tasks a group's workers can finish by `deadline`, counting the runs they are in now. */
function tasksFinishedBy(g: Group, deadline: number, now: number, pool: PoolView): number {
  const ms = Math.max(pool.speed(g), 1);
  let n = g.idle.size * Math.floor((deadline - now) / ms);
  for (const run of g.running.values()) {
    const free = Math.max(now, run.startedAt + ms);
    // Runs started in order, so once one frees too late the later ones do too.
    if (free >= deadline) break;
    n += Math.floor((deadline - free) / ms);
  }
  return n;
}

/** The lane whose head should run first (highest priority, then oldest), or whose tail can wait longest. */
function pick(lanes: Lane[], end: 'head' | 'tail'): Lane {
  const at = (l: Lane) => (end === 'head' ? l.queue.peek()! : l.queue.peekLast()!);
  // Before: runs sooner. The tail end wants the lane whose last task runs latest.
  const before = (a: QueuedTask, b: QueuedTask) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
  let chosen = lanes[0]!;
  for (const l of lanes) {
    if (end === 'head' ? before(at(l), at(chosen)) : before(at(chosen), at(l))) chosen = l;
  }
  return chosen;
}
