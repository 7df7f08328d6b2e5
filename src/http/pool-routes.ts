/** /workers and /health. */
import { Hono, type Context } from 'hono';
import type { Core } from '../core.js';
import { workerView } from '../store/worker-view.js';

/** `detailed` says whether a /health caller may see backend names, models and counts (with a token set: only with it). */
export function poolRoutes(core: Pick<Core, 'workers' | 'health' | 'metrics' | 'backendGates' | 'remoteBackendGates'>, now: () => number, detailed: (c: Context) => boolean): Hono {
  const app = new Hono();

  app.get('/workers', async (c) => {
    const workers = (await core.workers()).map((w) => workerView(w, now()));
    // Which backends take work now: a worker whose backend's circuit is open sits idle on purpose.
    return c.json({ workers, count: workers.length, backends: core.backendGates(), remote_backends: core.remoteBackendGates() });
  });

  app.get('/health', async (c) => {
    const health = await core.health();
    return c.json(detailed(c) ? health : { status: health.status });
  });

  app.get('/metrics', async (c) => {
    const { body, contentType } = await core.metrics.scrape();
    return c.body(body, 200, { 'content-type': contentType });
  });

  return app;
}
