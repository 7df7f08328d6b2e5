/** The `task` frame of a task event, as /events and the dashboard's task stream send it: built once per event, however many clients watch. */
import type { TaskEvent } from '../events/types.js';
import { eventView } from '../delegation/view.js';
import { sseFrame } from './sse-outlet.js';

const frames = new WeakMap<TaskEvent, string>();

/** `event: task` with {task_id, ...eventView}; the bus hands every listener the same event object, so this caches by it. */
export function taskEventFrame(e: TaskEvent): string {
  let frame = frames.get(e);
  if (frame === undefined) frames.set(e, (frame = sseFrame('task', JSON.stringify({ task_id: e.taskId, ...eventView(e) }))));
  return frame;
}
