/** A scheduler's PoolView filled with idle workers, for tests of routing decisions. */
import type { WorkerHandle } from '../../src/routing/worker-protocol.js';
import { capabilities, type Capabilities } from '../../src/routing/capabilities.js';
import { PoolView } from '../../src/routing/pool-view.js';

/** One worker group: `workers` idle workers with ids `key#0`, `key#1`…, their backend named `key`. */
export interface GroupSpec {
  key: string;
  workers: number;
  location?: 'local' | 'remote';
  /** Its measured milliseconds per task; unmeasured when absent. */
  runMs?: number;
  caps?: Parameters<typeof capabilities>[1];
  model?: string;
}

/** A pool of workers idle since `now` in the given groups; `startable`: local backends without workers yet. */
export function poolOf(specs: GroupSpec[], now = 0, startable: Capabilities[] = []): PoolView {
  const pool = new PoolView(startable);
  for (const g of specs) {
    for (let i = 0; i < g.workers; i++) {
      const model = g.model ?? 'm';
      const handle: WorkerHandle = { id: `${g.key}#${i}`, incarnation: 1, ref: null as never, backend: g.key, model, location: g.location ?? 'local', group: g.key, caps: capabilities(model, g.caps ?? {}) };
      pool.add(handle, now);
    }
    if (g.runMs !== undefined) pool.groups.get(g.key)!.runMs = g.runMs;
  }
  return pool;
}
