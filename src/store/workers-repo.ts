/** The workers table: one row per worker slot ever started, kept up to date by the pool manager. */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Schema, WorkerRow } from './schema.js';
import type { WriteBatcher } from './write-batcher.js';

export type WorkerStatus = 'idle' | 'busy' | 'restarting' | 'failed' | 'stopped' | 'gone';

export interface WorkerInfo {
  id: string;
  backend: string;
  model: string;
  location: 'local' | 'remote';
  status: WorkerStatus;
  currentTask: string | null;
  lastHeartbeat: number | null;
  completed: number;
  failed: number;
  restarts: number;
  startedAt: number;
  updatedAt: number;
}

/** What the pool manager reports about a live worker on each sweep. */
export interface WorkerBeat {
  id: string;
  status: WorkerStatus;
  currentTask: string | null;
  lastHeartbeat: number | null;
}

export class WorkerRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly writer: WriteBatcher,
    private readonly clock: Clock,
  ) {}

  /** Records a (re)started worker; a restart keeps its counters and bumps `restarts`. */
  started(w: { id: string; backend: string; model: string; location: 'local' | 'remote'; restart: boolean }): Promise<void> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      await trx
        .insertInto('workers')
        .values({
          id: w.id,
          backend: w.backend,
          model: w.model,
          location: w.location,
          status: 'idle',
          current_task: null,
          last_heartbeat: now,
          completed: 0,
          failed: 0,
          restarts: 0,
          started_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            backend: w.backend,
            model: w.model,
            location: w.location,
            status: 'idle',
            current_task: null,
            last_heartbeat: now,
            started_at: now,
            updated_at: now,
            restarts: w.restart ? eb('workers.restarts', '+', 1) : eb.ref('workers.restarts'),
          })),
        )
        .execute();
    });
  }

  /** Writes the live status of many workers in one transaction. */
  beats(beats: WorkerBeat[]): Promise<void> {
    if (beats.length === 0) return Promise.resolve();
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      for (const b of beats) {
        await trx
          .updateTable('workers')
          .set({ status: b.status, current_task: b.currentTask, last_heartbeat: b.lastHeartbeat, updated_at: now })
          .where('id', '=', b.id)
          .execute();
      }
    });
  }

  /** At start-up: workers recorded by a previous process are gone. */
  markAllGone(): Promise<void> {
    return this.writer.write(async (trx) => {
      await trx
        .updateTable('workers')
        .set({ status: 'gone', current_task: null, updated_at: this.clock.now() })
        .where('status', '!=', 'gone')
        .execute();
    });
  }

  async list(filter: { includeGone: boolean }): Promise<WorkerInfo[]> {
    let q = this.db.selectFrom('workers').selectAll();
    if (!filter.includeGone) q = q.where('status', '!=', 'gone');
    const rows = await q.orderBy('id').execute();
    return rows.map(rowToWorker);
  }
}

function rowToWorker(r: WorkerRow): WorkerInfo {
  return {
    id: r.id,
    backend: r.backend,
    model: r.model,
    location: r.location as 'local' | 'remote',
    status: r.status as WorkerStatus,
    currentTask: r.current_task,
    lastHeartbeat: r.last_heartbeat,
    completed: r.completed,
    failed: r.failed,
    restarts: r.restarts,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
  };
}
