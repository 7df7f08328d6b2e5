/** The seeds' log API on the main server: GET /api/logs and GET /api/workers/status. */
import { Hono } from 'hono';
import type { Core } from '../core.js';
import { ValidationError } from '../errors.js';
import { LEVELS } from '../logging/log-ring.js';
import { parseLimit } from '../tasks/validate.js';
import { workerView } from '../store/worker-view.js';

export function logRoutes(core: Pick<Core, 'logs' | 'workers'>, now: () => number): Hono {
  const app = new Hono();

  app.get('/api/logs', (c) => {
    const levelName = c.req.query('level');
    if (levelName !== undefined && !(levelName in LEVELS)) {
      throw new ValidationError(`level must be one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(levelName)}`, 'level');
    }
    const logs = core.logs.query({ level: levelName ? LEVELS[levelName] : undefined, worker: c.req.query('worker') || undefined, limit: parseLimit(c.req.query('limit')) });
    return c.json({ logs, count: logs.length });
  });

  app.get('/api/workers/status', async (c) => {
    const workers = (await core.workers()).map((w) => workerView(w, now()));
    return c.json({ workers, count: workers.length });
  });

  return app;
}
