/** Dynamic scaling decisions, kept pure: the scheduler decides retirement, the pool manager growth. */

export interface BackendCapacity {
  name: string;
  /** Slots that exist now (running or about to restart). */
  slots: number;
  max: number;
  /** A backend whose pool gave up (restart intensity) gets no new workers. */
  failed: boolean;
}

/**
 * How many workers to add per backend so the local pool has `desired` slots in all (desired = the workers the
 * scheduler keeps busy + the tasks waiting; slots already started count, whether or not the scheduler has seen them
 * yet). Fills backends in configuration order up to their max; a failed backend gets none.
 */
export function workersToAdd(backends: BackendCapacity[], desired: number): Map<string, number> {
  let need = desired - backends.reduce((sum, b) => sum + b.slots, 0);
  const plan = new Map<string, number>();
  for (const b of backends) {
    if (need <= 0) break;
    if (b.failed) continue;
    const add = Math.min(need, Math.max(0, b.max - b.slots));
    if (add > 0) plan.set(b.name, add);
    need -= add;
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
