/**
 * Pending tasks in lanes: tasks that ask the same of a worker (type, model, answer length, routing rule) share a
 * lane, and a lane remembers which worker groups may run its tasks. So a task no idle worker can take never blocks
 * the ones behind it, and eligibility is worked out per lane when the pool changes, not per task per dispatch.
 */
import { PendingQueue } from '../supervision/priority-queue.js';
import type { QueuedTask } from '../tasks/task.js';
import { ableToRun, modelKey, type Requirement } from './capabilities.js';
import { ruleFor, type RoutingRule } from './policy.js';
import type { Group, PoolView } from './pool-view.js';

export interface Lane {
  /** Its key in the queue's map of lanes. */
  readonly key: string;
  readonly req: Requirement;
  /** Index of the routing rule its tasks fall under, or -1. */
  readonly rule: number;
  readonly queue: PendingQueue;
  /** The groups that may run its tasks, as of `version` of the pool. */
  eligible: Group[];
  version: number;
}

export class LaneQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly laneById = new Map<string, Lane>();

  constructor(private readonly rules: readonly RoutingRule[]) {}

  get size(): number {
    return this.laneById.size;
  }

  push(task: QueuedTask): void {
    if (this.laneById.has(task.id)) return;
    const rule = ruleFor(this.rules, task.priority);
    const req = requirementOf(task);
    const key = `${req.type ?? '*'}\u0000${req.model === null ? '' : modelKey(req.model)}\u0000${req.chat}\u0000${req.maxTokens ?? ''}\u0000${rule}\u0000${req.workdir ?? ''}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, req, rule, queue: new PendingQueue(), eligible: [], version: -1 };
      this.lanes.set(key, lane);
    }
    lane.queue.push(task);
    this.laneById.set(task.id, lane);
  }

  remove(id: string): boolean {
    const lane = this.laneById.get(id);
    if (!lane) return false;
    lane.queue.remove(id);
    this.laneById.delete(id);
    this.dropIfEmpty(lane);
    return true;
  }

  find(id: string): QueuedTask | undefined {
    return this.laneById.get(id)?.queue.find(id);
  }

  /** Queued tasks, in every lane, that run before this one. */
  countBefore(task: QueuedTask): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queue.countBefore(task);
    return n;
  }

  /** Lanes holding tasks, their eligible groups brought up to date with the pool. */
  active(pool: PoolView): Lane[] {
    const out: Lane[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.queue.size === 0) continue;
      out.push(this.refreshed(lane, pool));
    }
    return out;
  }

  /** The lane a queued task is in, its eligible groups up to date; undefined when the task is not queued. */
  laneOf(id: string, pool: PoolView): Lane | undefined {
    const lane = this.laneById.get(id);
    return lane && this.refreshed(lane, pool);
  }

  private refreshed(lane: Lane, pool: PoolView): Lane {
    if (lane.version !== pool.version) {
      lane.eligible = eligibleGroups(lane, pool, this.rules);
      lane.version = pool.version;
    }
    return lane;
  }

  take(lane: Lane, end: 'head' | 'tail'): QueuedTask {
    const task = (end === 'head' ? lane.queue.pop() : lane.queue.popLast())!;
    this.laneById.delete(task.id);
    this.dropIfEmpty(lane);
    return task;
  }

  /** Lanes are keyed by workdir too, so an empty one goes: their number stays bounded by the pending tasks. */
  private dropIfEmpty(lane: Lane): void {
    if (lane.queue.size === 0 && this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
  }
}

/** What a queued task asks of its worker. */
export function requirementOf(task: QueuedTask): Requirement {
  return { type: task.anyType ? null : task.type, model: task.model, chat: task.chat, maxTokens: task.maxTokens, workdir: task.workdir };
}

/**
 * The groups able to run tasks asking `req`, before any routing rule (see ableToRun: a gateway request only on
 * groups serving its model; another task naming a model there too, unless no backend serving it could take it).
 */
export function capableGroups(req: Requirement, pool: PoolView): Group[] {
  return ableToRun(req, pool.groups.values(), pool.startable);
}

/** Capable groups (see capableGroups); of those, the rule's preferred side if it has workers, else all of them when the rule allows fallback. */
function eligibleGroups(lane: Lane, pool: PoolView, rules: readonly RoutingRule[]): Group[] {
  let groups = capableGroups(lane.req, pool);
  const rule = rules[lane.rule];
  if (rule) {
    const preferred = groups.filter((g) => g.location === rule.prefer);
    if (preferred.length > 0 || !rule.fallback) groups = preferred;
  }
  return groups;
}
