/**
 * The scheduler's picture of the pool: workers in groups that share a backend on one machine (so share a speed and
 * capabilities), which of them are idle and since when, what each runs and since when, and each group's measured run
 * time. This is the one record of whether a worker is busy or idle (see actors/scheduler.ts for why it lives here).
 */
import { chatModels, type Capabilities } from './capabilities.js';
import type { Location } from './policy.js';
import { workersToRetire } from '../supervision/scaling.js';
import type { IdleWorker, WorkerActivity, WorkerHandle } from './worker-protocol.js';

export interface Assignment {
  taskId: string;
  lease: string;
  startedAt: number;
  /** Which attempt of the task this run is (for the log when it is requeued). */
  attempt?: number;
  /** Heartbeats of its node in a row that did not list this run (remote workers only). */
  missedBeats?: number;
}

export interface Group {
  readonly key: string;
  readonly location: Location;
  readonly caps: Capabilities;
  readonly members: Set<string>;
  /** Insertion-ordered, so the longest-idle worker is offered work first. */
  readonly idle: Set<string>;
  /** Insertion-ordered by start time, so the first entries are the first to finish. */
  readonly running: Map<string, Assignment>;
  /** Running average of milliseconds per task (an EWMA); undefined before the first run ends. */
  runMs: number | undefined;
}

/** Weight of the newest run in a group's running average. */
const SPEED_WEIGHT = 0.3;

/**
 * How long the models of a node's workers that left the pool are waited for by default (pool.node_return_ms): a node
 * restarting, paused or cut off for a moment comes back within it, and a task naming its model must not meanwhile go
 * to a backend that does not serve it (which fails it for good: "model not found").
 */
export const NODE_RETURN_MS = 60_000;

export class PoolView {
  private readonly workers = new Map<string, { handle: WorkerHandle; group: Group; idleSince: number | null }>();
  readonly groups = new Map<string, Group>();
  /** Bumped when a group appears or disappears, so eligibility worked out from the groups is worked out again. */
  version = 0;
  idleCount = 0;
  runningCount = 0;

  /** Remote groups gone from the pool, by key, with when they stop being waited for (`returnMs` after). */
  private readonly away = new Map<string, { caps: Capabilities; until: number }>();

  /**
   * `local`: the capabilities of this machine's backends, whose workers the pool manager starts on demand; `awaited`:
   * nodes to wait for from `now` on as if they had just left; `returnMs`: how long a node that left is waited for.
   */
  constructor(private readonly local: readonly Capabilities[] = [], awaited: readonly { key: string; caps: Capabilities }[] = [], now = 0, private readonly returnMs = NODE_RETURN_MS) {
    for (const node of awaited) this.away.set(node.key, { caps: node.caps, until: now + returnMs });
  }

  /**
   * What a task naming a model waits for rather than go to a backend not serving it (see ableToRun): this machine's
   * backends, started on demand, and the nodes that left less than NODE_RETURN_MS ago.
   */
  get startable(): readonly Capabilities[] {
    if (this.away.size === 0) return this.local;
    return [...this.local, ...[...this.away.values()].map((a) => a.caps)];
  }

  /** Stops waiting for the nodes gone `returnMs` or longer; returns their group keys. */
  expireAway(now: number): string[] {
    const expired: string[] = [];
    for (const [key, a] of this.away) if (a.until <= now) expired.push(key);
    for (const key of expired) this.away.delete(key);
    if (expired.length > 0) this.version++;
    return expired;
  }

  get size(): number {
    return this.workers.size;
  }

  /** Workers on this machine (the ones the pool manager can add to or retire). */
  get localCount(): number {
    let n = 0;
    for (const g of this.groups.values()) if (g.location === 'local') n += g.members.size;
    return n;
  }

  handle(id: string): WorkerHandle | undefined {
    return this.workers.get(id)?.handle;
  }

  isCurrent(id: string, incarnation: number): boolean {
    return this.workers.get(id)?.handle.incarnation === incarnation;
  }

  isIdle(id: string): boolean {
    return this.workers.get(id)?.group.idle.has(id) ?? false;
  }

  /** Since when the worker has been idle (epoch ms); null while it runs a task or when it is not in the pool. */
  idleSince(id: string): number | null {
    return this.workers.get(id)?.idleSince ?? null;
  }

  /** Every worker with what it runs now (null: idle). */
  *activity(): IterableIterator<{ handle: WorkerHandle; running: Assignment | null; idleSince: number | null }> {
    for (const { handle, group, idleSince } of this.workers.values()) yield { handle, running: group.running.get(handle.id) ?? null, idleSince };
  }

  /** Every worker with its task (null: idle) and since when it runs it or has been idle: the one busy/idle record. */
  workerActivity(): WorkerActivity[] {
    return [...this.activity()].map(({ handle, running, idleSince }) => ({
      workerId: handle.id,
      incarnation: handle.incarnation,
      taskId: running?.taskId ?? null,
      since: running?.startedAt ?? idleSince,
      models: chatModels(handle.caps),
    }));
  }

  /** Busy workers on this machine, by backend name. */
  busyLocal(): Map<string, number> {
    const busy = new Map<string, number>();
    for (const g of this.groups.values()) if (g.location === 'local' && g.running.size > 0) busy.set(this.backendOf(g.key), g.running.size);
    return busy;
  }

  /** The backend a worker group calls (for messages); the group key itself once the group is gone. */
  backendOf(groupKey: string): string {
    const member = this.groups.get(groupKey)?.members.values().next().value;
    return (member !== undefined && this.handle(member)?.backend) || groupKey;
  }

  /**
   * Runs of the groups whose key starts with `groupPrefix` (one node's) that a heartbeat listing `leases` did not
   * list for the second time in a row: they never reached the node (one miss could have crossed the run in flight).
   */
  unconfirmedRuns(groupPrefix: string, leases: ReadonlySet<string>): [string, Assignment][] {
    const lost: [string, Assignment][] = [];
    for (const group of this.groups.values()) {
      if (!group.key.startsWith(groupPrefix)) continue;
      for (const [workerId, run] of group.running) {
        if (leases.has(run.lease)) run.missedBeats = 0;
        else if ((run.missedBeats = (run.missedBeats ?? 0) + 1) >= 2) lost.push([workerId, run]);
      }
    }
    return lost;
  }

  /**
   * Takes local workers idle for at least idleMs out of the view (longest idle first, keeping `min` of each backend)
   * and returns them, for the pool manager to stop. Remote slots belong to their node: only local ones scale.
   */
  retireIdleLocal(min: ReadonlyMap<string, number>, idleMs: number, now: number): IdleWorker[] {
    const local = [...this.activity()].filter((w) => w.handle.location === 'local');
    const live = new Map<string, number>();
    for (const w of local) live.set(w.handle.backend, (live.get(w.handle.backend) ?? 0) + 1);
    const idle = local.map((w) => ({ id: w.handle.id, backend: w.handle.backend, idleSince: w.idleSince }));
    return workersToRetire(idle, live, new Map(min), now, idleMs).map((id) => {
      const incarnation = this.handle(id)!.incarnation;
      this.remove(id);
      return { workerId: id, incarnation };
    });
  }

  /** A new worker (or a new incarnation of one): idle since `now`, in its group. */
  add(handle: WorkerHandle, now: number): void {
    if (this.workers.has(handle.id)) this.remove(handle.id);
    let group = this.groups.get(handle.group);
    if (!group) {
      group = { key: handle.group, location: handle.location, caps: handle.caps, members: new Set(), idle: new Set(), running: new Map(), runMs: undefined };
      this.groups.set(handle.group, group);
      this.away.delete(handle.group);
      this.version++;
    }
    group.members.add(handle.id);
    this.workers.set(handle.id, { handle, group, idleSince: now });
    this.setIdle(group, handle.id);
  }

  /** Takes a worker out (`now`: when, for a node's last worker: see NODE_RETURN_MS); returns what it was running. */
  remove(id: string, now?: number): Assignment | undefined {
    const entry = this.workers.get(id);
    if (!entry) return undefined;
    const { group } = entry;
    const running = group.running.get(id);
    this.clear(group, id);
    group.members.delete(id);
    this.workers.delete(id);
    if (group.members.size === 0) {
      // Its measured speed goes with it: a node that comes back may come back on other hardware.
      this.groups.delete(group.key);
      if (group.location === 'remote' && now !== undefined) this.away.set(group.key, { caps: group.caps, until: now + this.returnMs });
      this.version++;
    }
    return running;
  }

  assign(id: string, a: Assignment): void {
    const entry = this.workers.get(id)!;
    const { group } = entry;
    this.clear(group, id);
    entry.idleSince = null;
    group.running.set(id, a);
    this.runningCount++;
  }

  /** The worker finished (or never started) its run; a finished run's duration feeds its group's speed. */
  release(id: string, now: number, measured: boolean): void {
    const entry = this.workers.get(id)!;
    const { group } = entry;
    const run = group.running.get(id);
    if (run && measured) {
      const ms = now - run.startedAt;
      group.runMs = group.runMs === undefined ? ms : group.runMs + SPEED_WEIGHT * (ms - group.runMs);
    }
    // A worker reported idle twice (a duplicate notice) keeps its first idle time.
    if (!group.idle.has(id)) entry.idleSince = now;
    this.clear(group, id);
    this.setIdle(group, id);
  }

  /** What the worker runs now, if anything. */
  running(id: string): Assignment | undefined {
    return this.workers.get(id)?.group.running.get(id);
  }

  *assignments(): IterableIterator<[string, Assignment]> {
    for (const group of this.groups.values()) yield* group.running;
  }

  /** A group's expected milliseconds per task: measured, else the mean of the measured groups, else 0 (unknown). */
  speed(group: Group): number {
    if (group.runMs !== undefined) return group.runMs;
    let sum = 0;
    let n = 0;
    for (const g of this.groups.values()) {
      if (g.runMs !== undefined) {
        sum += g.runMs;
        n++;
      }
    }
    return n === 0 ? 0 : sum / n;
  }

  private setIdle(group: Group, id: string): void {
    group.idle.add(id);
    this.idleCount++;
  }

  private clear(group: Group, id: string): void {
    if (group.idle.delete(id)) this.idleCount--;
    if (group.running.delete(id)) this.runningCount--;
  }
}
