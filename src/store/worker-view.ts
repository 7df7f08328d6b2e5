import type { WorkerActivity } from '../routing/worker-protocol.js';
import type { WorkerRecord, WorkerStatus } from './worker-repository.js';

/** A worker as views show it: its record, with busy/idle and its task from the scheduler, which owns them. */
export interface WorkerInfo extends Omit<WorkerRecord, 'status'> {
  status: WorkerStatus;
  currentTask: string | null;
  /** Busy: since its run started; idle: since it became idle; null otherwise (epoch ms). */
  statusSince: number | null;
  /**
   * The models it serves to gateway requests, its default first (the scheduler's, see WorkerActivity.models; just the
   * record's model until the scheduler knows it).
   */
  models: readonly string[];
}

/**
 * Joins the workers table with what the scheduler says each worker does. A live slot the scheduler does not know yet
 * (its worker has just started) is idle: it has been given nothing.
 */
export function withActivity(records: WorkerRecord[], activity: WorkerActivity[]): WorkerInfo[] {
  const byId = new Map(activity.map((a) => [a.workerId, a]));
  return records.map((r) => {
    const a = r.status === 'live' ? byId.get(r.id) : undefined;
    const status: WorkerStatus = r.status !== 'live' ? r.status : a?.taskId ? 'busy' : 'idle';
    return { ...r, status, currentTask: a?.taskId ?? null, statusSince: a?.since ?? null, models: a?.models ?? [r.model] };
  });
}

/** One worker as clients see it. */
export function workerView(w: WorkerInfo, now: number) {
  return {
    worker_id: w.id,
    backend: w.backend,
    model: w.model,
    location: w.location,
    status: w.status,
    current_task: w.currentTask,
    status_since: w.statusSince === null ? null : new Date(w.statusSince).toISOString(),
    last_heartbeat: w.lastHeartbeat === null ? null : new Date(w.lastHeartbeat).toISOString(),
    heartbeat_age_ms: w.lastHeartbeat === null ? null : Math.max(0, now - w.lastHeartbeat),
    completed: w.completed,
    failed: w.failed,
    restarts: w.restarts,
    started_at: new Date(w.startedAt).toISOString(),
  };
}
