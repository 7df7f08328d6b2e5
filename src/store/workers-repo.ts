/** The workers table: one row per worker slot ever started, kept up to date by the pool manager. */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Schema, WorkerRow } from './schema.js';
import * as q from './worker-queries.js';
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
          sql.all(q.updateWorkerBeat, { id: b.id, status: b.status, current_task: b.currentTask, last_heartbeat: b.lastHeartbeat, now });
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
