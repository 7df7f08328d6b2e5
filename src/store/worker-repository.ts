/**
 * The workers table: one row per worker slot ever started, kept up to date by the pool manager: who it is, whether
 * it has a live worker, its last heartbeat and its counters. Whether a live worker is busy or idle is not kept here:
 * the scheduler owns it, and views join the two (see store/worker-view.ts).
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Schema, WorkerRow } from './schema.js';
import * as q from './worker-queries.js';
import type { WriteBatcher } from './write-batcher.js';

/** A slot's life as the pool manager records it; `live`: it has a worker (busy or idle, as the scheduler says). */
export type SlotState = 'live' | 'restarting' | 'failed' | 'stopped' | 'gone';

/** A worker's status as views show it: a live slot is busy or idle. */
export type WorkerStatus = 'idle' | 'busy' | Exclude<SlotState, 'live'>;

/** A row of the workers table. */
export interface WorkerRecord {
  id: string;
  backend: string;
  model: string;
  location: 'local' | 'remote';
  status: SlotState;
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
  status: SlotState;
  lastHeartbeat: number | null;
}

const BEATS_PER_WRITE = 250;

export class WorkerRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly writer: WriteBatcher,
    private readonly clock: Clock,
  ) {}

  /** Records a (re)started worker; a restart keeps its counters and bumps `restarts`. */
  started(w: { id: string; backend: string; model: string; location: 'local' | 'remote'; restart: boolean }): Promise<void> {
    return this.writer.write((sql) => {
      sql.all(q.upsertStartedWorker, { ...w, now: this.clock.now(), restart: w.restart ? 1 : 0 });
    });
  }

  /**
   * Writes the live status of many workers, a few hundred rows per transaction with a turn of the event loop between
   * them: thousands of rows in one go would hold up task dispatch for milliseconds.
   */
  async beats(beats: WorkerBeat[]): Promise<void> {
    for (let i = 0; i < beats.length; i += BEATS_PER_WRITE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = beats.slice(i, i + BEATS_PER_WRITE);
      await this.writer.write((sql) => {
        const now = this.clock.now();
        for (const b of chunk) {
          sql.all(q.updateWorkerBeat, { id: b.id, status: b.status, last_heartbeat: b.lastHeartbeat, now });
        }
      });
    }
  }

  /** At start-up: workers recorded by a previous process are gone. */
  markAllGone(): Promise<void> {
    return this.writer.write((sql) => {
      sql.all(q.markWorkersGone, { now: this.clock.now() });
    });
  }

  async list(filter: { includeGone: boolean }): Promise<WorkerRecord[]> {
    let q = this.db.selectFrom('workers').selectAll();
    if (!filter.includeGone) q = q.where('status', '!=', 'gone');
    const rows = await q.orderBy('id').execute();
    return rows.map(rowToWorker);
  }
}

function rowToWorker(r: WorkerRow): WorkerRecord {
  return {
    id: r.id,
    backend: r.backend,
    model: r.model,
    location: r.location as 'local' | 'remote',
    status: r.status as SlotState,
    lastHeartbeat: r.last_heartbeat,
    completed: r.completed,
    failed: r.failed,
    restarts: r.restarts,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
  };
}
