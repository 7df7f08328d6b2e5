/** /workers and /health. */
import { Hono } from 'hono';
import type { Core } from '../core.js';
import type { WorkerInfo } from '../store/workers-repo.js';

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

export function poolRoutes(core: Pick<Core, 'workers' | 'health' | 'metrics'>, now: () => number): Hono {
  const app = new Hono();

  app.get('/workers', async (c) => {
    const workers = (await core.workers()).map((w) => workerView(w, now()));
    return c.json({ workers, count: workers.length });
  });

  app.get('/health', async (c) => c.json(await core.health()));

  app.get('/metrics', async (c) => {
    const { body, contentType } = await core.metrics.scrape();
    return c.body(body, 200, { 'content-type': contentType });
  });

  return app;
}
