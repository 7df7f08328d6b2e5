import type { WorkerInfo } from './workers-repo.js';

/** One worker as clients see it. */
export function workerView(w: WorkerInfo, now: number) {
  return {
    worker_id: w.id,
    backend: w.backend,
    model: w.model,
    location: w.location,
    status: w.status,
    current_task: w.currentTask,
    last_heartbeat: w.lastHeartbeat === null ? null : new Date(w.lastHeartbeat).toISOString(),
    heartbeat_age_ms: w.lastHeartbeat === null ? null : Math.max(0, now - w.lastHeartbeat),
    completed: w.completed,
    failed: w.failed,
    restarts: w.restarts,
    started_at: new Date(w.startedAt).toISOString(),
  };
}
