/**
 * Delegation over NATS for other services, beside HTTP and calling the same application functions:
 * `<prefix>.task.delegate` and `<prefix>.task.status` (request/reply), every task event on
 * `<prefix>.events.task.<task_id>` and every worker event on `<prefix>.events.worker.<worker_id>`.
 */
import type { Core } from '../core.js';
import { parseWith, strictObject, TASK_ID } from '../tasks/submission-schema.js';
import { parseDelegateInput } from '../tasks/validate.js';
import { delegateAnswer, eventView, statusView } from '../delegation/view.js';
import type { NatsLink } from './connection.js';
import type { Subjects } from './subjects.js';

const statusRequest = strictObject({ task_id: TASK_ID }, 'a JSON object');

/** Starts serving; returns the function that stops publishing events. */
export function serveTasksOverNats(core: Pick<Core, 'service' | 'bus' | 'workerEvents'>, link: NatsLink, subjects: Subjects, syncWaitMs: number): () => void {
  const { service } = core;

  link.serve(subjects.delegate, async (payload) => {
    const input = parseDelegateInput(payload);
    return delegateAnswer(await service.submit(input, input.sync ? syncWaitMs : undefined)).body;
  });

  link.serve(subjects.status, async (payload) => {
    const { task_id } = parseWith(statusRequest, payload);
    const task = await service.get(task_id);
    const partial = service.partialOutput(task);
    return statusView(task, await service.estimate(task), partial && { ...partial, from: 0 });
  });

  const stopTasks = core.bus.subscribe((e) => link.publish(subjects.taskEvents(e.taskId), { task_id: e.taskId, ...eventView(e) }));
  const stopWorkers = core.workerEvents.subscribe((e) =>
    link.publish(subjects.workerEvents(e.workerId), { worker_id: e.workerId, kind: e.kind, at: new Date(e.at).toISOString(), ...(e.detail ?? {}) }),
  );
  return () => {
    stopTasks();
    stopWorkers();
  };
}
