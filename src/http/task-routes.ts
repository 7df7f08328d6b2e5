/** /task/* and /tasks: submit, status, history, listing. */
import { Hono, type Context } from 'hono';
import { ValidationError } from '../errors.js';
import type { TaskService } from '../delegation/service.js';
import { TASK_STATUSES, type TaskStatus } from '../tasks/task.js';
import { parseDelegateInput, parseIdempotencyKey, parseLimit, parseOutputFrom, parseWaitSeconds, type DelegateInput } from '../tasks/validate.js';
import { delegateAnswer, eventView, statusView } from '../delegation/view.js';
import { readJson } from './json-body.js';

export function taskRoutes(service: TaskService, limits: { syncWaitMs: number; bodyLimitBytes: number }): Hono {
  const app = new Hono();

  app.post('/task/delegate', async (c) => {
    const input = withHeaderKey(parseDelegateInput(await readJson(c, limits.bodyLimitBytes)), c.req.header('idempotency-key'));
    const submitted = await service.submit(input, input.sync ? limits.syncWaitMs : undefined);
    if (submitted.replayed) c.header('idempotent-replayed', 'true');
    const { ended, body } = delegateAnswer(submitted);
    return c.json(body, ended ? 200 : 202);
  });

  app.get('/task/:id/status', async (c) => {
    const waitMs = parseWaitSeconds(c.req.query('wait')) * 1000;
    const from = parseOutputFrom(c.req.query('output_from'));
    const task = await service.watch(c.req.param('id'), waitMs, from);
    const partial = service.partialOutput(task, from ?? 0);
    return c.json(statusView(task, await service.estimate(task), partial && { ...partial, from: from ?? 0 }));
  });

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
    // Said twice, one of the two would be dropped unsaid: a list of statuses is not a filter this route has.
    if ((c.req.queries('status') ?? []).length > 1) throw new ValidationError('status must be given once (one status per listing)', 'status');
    if ((c.req.queries('limit') ?? []).length > 1) throw new ValidationError('limit must be given once', 'limit');
    const status = c.req.query('status') || undefined;
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
      throw new ValidationError(`status must be one of ${TASK_STATUSES.join(', ')}, got ${JSON.stringify(status)}`, 'status');
    }
    const tasks = await service.list({ status: status as TaskStatus | undefined, limit: parseLimit(c.req.query('limit')) });
    return c.json({ tasks: tasks.map((t) => statusView(t)), count: tasks.length });
  });

  return app;
}

/** The `Idempotency-Key` header and the body's `idempotency_key` are one setting; sent both, they must agree. */
function withHeaderKey(input: DelegateInput, header: string | undefined): DelegateInput {
  if (header === undefined) return input;
  const key = parseIdempotencyKey(header, 'Idempotency-Key');
  if (input.idempotencyKey !== null && input.idempotencyKey !== key) {
    throw new ValidationError('the Idempotency-Key header and idempotency_key in the body differ; send one', 'idempotency_key');
  }
  return { ...input, idempotencyKey: key };
}
