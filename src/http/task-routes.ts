/** /task/* and /tasks: submit, status, history, listing. */
import { Hono, type Context } from 'hono';
import { ValidationError } from '../errors.js';
import type { TaskService } from '../tasks/service.js';
import { TASK_STATUSES, type TaskStatus } from '../tasks/task.js';
import { parseDelegateInput, parseLimit } from '../tasks/validate.js';
import { eventView, resultView, statusView } from '../tasks/view.js';
import { readJson } from './json-body.js';

export function taskRoutes(service: TaskService, limits: { syncWaitMs: number; bodyLimitBytes: number }): Hono {
  const app = new Hono();

  app.post('/task/delegate', async (c) => {
    const input = parseDelegateInput(await readJson(c, limits.bodyLimitBytes));
    const submitted = await service.submit(input, input.sync ? limits.syncWaitMs : undefined);
    if (!submitted.waited) return c.json({ task_id: submitted.taskId, status: 'pending' }, 202);
    const { task, ended } = submitted;
    if (ended) return c.json({ task_id: task.id, status: task.status, result: resultView(task) }, 200);
    // The sync wait ran out: the task is safely queued and keeps going.
    return c.json({ task_id: task.id, status: task.status }, 202);
  });

  app.get('/task/:id/status', async (c) => c.json(statusView(await service.get(c.req.param('id')))));

  const cancel = async (c: Context) => {
    const task = await service.cancel(c.req.param('id') ?? '');
    return c.json({ task_id: task.id, status: task.status });
  };
  app.delete('/task/:id', cancel);
  app.post('/task/:id/cancel', cancel);

  app.get('/task/:id/events', async (c) => {
    const id = c.req.param('id');
    return c.json({ task_id: id, events: (await service.events(id)).map(eventView) });
  });

  app.get('/tasks', async (c) => {
    const status = c.req.query('status') || undefined;
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
      throw new ValidationError(`status must be one of ${TASK_STATUSES.join(', ')}, got ${JSON.stringify(status)}`, 'status');
    }
    const tasks = await service.list({ status: status as TaskStatus | undefined, limit: parseLimit(c.req.query('limit')) });
    return c.json({ tasks: tasks.map(statusView), count: tasks.length });
  });

  return app;
}
