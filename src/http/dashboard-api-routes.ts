/**
 * GET /api/dashboard: what the dashboard shows that the other routes do not give in one piece: pool health, open tasks
 * by priority, each worker with its recent speed, and finished tasks per bucket over the last minutes. Read-only.
 */
import { Hono } from 'hono';
import type { Core } from '../core.js';
import type { Throughput } from '../dashboard/throughput.js';
import type { WorkerSpeeds } from '../dashboard/worker-speed.js';
import { workerView } from '../store/worker-view.js';

export interface DashboardSources {
  throughput: Throughput;
  speeds: WorkerSpeeds;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** GET /api/dashboard, from the core and the dashboard's own measures. */
export function dashboardApiRoutes(core: Pick<Core, 'health' | 'workers' | 'config' | 'openByPriority'>, sources: DashboardSources, now: () => number): Hono {
  const app = new Hono();

  app.get('/api/dashboard', async (c) => {
    const [health, workers] = await Promise.all([core.health(), core.workers()]);
    const at = now();
    const throughput = sources.throughput.report();
    return c.json({
      now: iso(at),
      // Whether the page should offer its "API token" button.
      api_token_required: core.config.server.api_token !== null,
      health,
      queue_by_priority: core.openByPriority(),
      heartbeat: { interval_ms: core.config.pool.heartbeat_interval_ms, timeout_ms: core.config.pool.heartbeat_timeout_ms },
      workers: workers.map((w) => {
        const speed = sources.speeds.of(w.id);
        return { ...workerView(w, at), speed: { chars_per_s: speed.charsPerS, chunks_per_s: speed.chunksPerS, tasks_per_min: speed.tasksPerMin } };
      }),
      throughput: {
        bucket_s: throughput.bucketMs / 1000,
        since: iso(throughput.since),
        buckets: throughput.buckets.map((b) => ({ start: iso(b.start), completed: b.completed, failed: b.failed, cancelled: b.cancelled })),
      },
    });
  });

  return app;
}
