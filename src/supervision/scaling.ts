/** Dynamic scaling decisions, kept pure: the scheduler decides retirement, the pool manager growth. */

export interface BackendCapacity {
  name: string;
  /** Slots that exist now (running, idle or about to (re)start). */
  slots: number;
  max: number;
  /** A backend whose pool gave up (restart intensity) gets no new workers. */
  failed: boolean;
  /** Its workers the scheduler counts busy now. */
  busy: number;
  /** Whether its workers could take a task of this lane (see routing/capabilities: accepts, serves). */
  takes(lane: number): boolean;
}

/**
 * How many workers to add per backend. Each lane's waiting tasks go, in config order, to the backends that can take
 * them and have room (up to max); a backend should then have `busy + tasks given to it` slots, and slots already
 * started count (whether or not the scheduler has seen them yet). `waiting[i]` is lane i's task count.
 */
export function workersToAdd(backends: BackendCapacity[], waiting: readonly number[]): Map<string, number> {
  const wanted = new Map<string, number>(backends.map((b) => [b.name, b.busy]));
  waiting.forEach((count, lane) => {
    for (const b of backends) {
      if (count <= 0) break;
      if (b.failed || !b.takes(lane)) continue;
      const give = Math.min(count, b.max - wanted.get(b.name)!);
      if (give <= 0) continue;
      wanted.set(b.name, wanted.get(b.name)! + give);
      count -= give;
    }
  });
  const plan = new Map<string, number>();
  for (const b of backends) {
    const add = Math.min(b.max, wanted.get(b.name)!) - b.slots;
    if (add > 0 && !b.failed) plan.set(b.name, add);
  }
  return plan;
}

export interface IdleSlot {
  id: string;
  backend: string;
  idleSince: number | null;
}

/** Workers idle for at least idleMs that can go while keeping each backend at its min (longest idle first). */
export function workersToRetire(slots: IdleSlot[], live: Map<string, number>, min: Map<string, number>, now: number, idleMs: number): string[] {
  const spare = new Map([...live].map(([name, count]) => [name, count - (min.get(name) ?? 0)]));
  return slots
    .filter((s) => s.idleSince !== null && now - s.idleSince >= idleMs)
    .sort((a, b) => a.idleSince! - b.idleSince!)
    .filter((s) => {
      const left = spare.get(s.backend) ?? 0;
      if (left <= 0) return false;
      spare.set(s.backend, left - 1);
      return true;
    })
    .map((s) => s.id);
}
