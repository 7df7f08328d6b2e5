/**
 * The five MCP tools, each checking its arguments with a strict schema (delegate_task's fields are those of the one
 * submission schema, tasks/submission-schema.ts). Short descriptions keep the agent's context small; no call blocks
 * past `wait_seconds` (capped well under the usual 60 s tool timeout), and a task id always comes back, so work is
 * never lost to a timeout.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import { describeError } from '../errors.js';
import { must, strictObject, TASK_ID } from '../tasks/submission-schema.js';
import { TASK_STATUSES, FINAL_STATUSES, type TaskStatus } from '../tasks/task.js';
import { DELEGATE_ARGS, type KoubouApi, type TaskView } from './api.js';
import { taskForAgent } from './changes-summary.js';

/** Longest a tool call waits; clients commonly give up on a tool after 60 s. */
const MAX_WAIT_S = 45;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const waitSeconds = z.number(must(`a number of seconds from 0 to ${MAX_WAIT_S}`)).min(0).max(MAX_WAIT_S).optional().describe(`seconds to wait for the result (0-${MAX_WAIT_S}, default 0)`);

/** Registers delegate_task, get_task, cancel_task, list_tasks and pool_status. */
export function registerTools(server: McpServer, api: KoubouApi): void {
  server.registerTool(
    'delegate_task',
    {
      description: 'Hand a task (code, docs, translation, analysis…) to the local LLM pool. Returns the task id at once, or the result if it ends within wait_seconds.',
      inputSchema: strictObject({ ...DELEGATE_ARGS, wait_seconds: waitSeconds }, 'an object'),
    },
    (args, extra) =>
      answer(async () => {
        const { wait_seconds, ...task } = args;
        const queued = await api.delegate(task);
        return taskForAgent(await untilFinal(api, queued, wait_seconds ?? 0, extra), false);
      }),
  );

  server.registerTool(
    'get_task',
    {
      description: 'Status of a task with its queue position, output so far or result. Waits up to wait_seconds for it to end.',
      inputSchema: strictObject(
        {
          task_id: TASK_ID,
          wait_seconds: waitSeconds,
          include_diff: z.boolean(must('true or false')).optional().describe('agent CLI tasks: also return the whole diff in result.changes.diff (default: summary and files only)'),
        },
        'an object',
      ),
    },
    ({ task_id, wait_seconds, include_diff }, extra) =>
      answer(async () => taskForAgent(await untilFinal(api, await api.getTask(task_id, 0), wait_seconds ?? 0, extra), include_diff ?? false)),
  );

  server.registerTool(
    'cancel_task',
    { description: 'Cancel a pending or running task (its LLM request is aborted).', inputSchema: strictObject({ task_id: TASK_ID }, 'an object') },
    ({ task_id }) => answer(() => api.cancel(task_id)),
  );

  server.registerTool(
    'list_tasks',
    {
      description: 'Recent tasks, newest first.',
      inputSchema: strictObject(
        {
          status: z.enum(TASK_STATUSES, must(`one of ${TASK_STATUSES.join(', ')}`)).optional(),
          limit: z.number(must('an integer from 1 to 100')).int().min(1).max(100).optional(),
        },
        'an object',
      ),
    },
    ({ status, limit }) => answer(() => api.list(status, limit ?? 20)),
  );

  server.registerTool('pool_status', { description: 'Workers, backends and queue depth.', inputSchema: strictObject({}, 'an object') }, () => answer(() => api.poolStatus()));
}

/** Runs a tool body; errors become tool errors with their stable code, never protocol failures. */
async function answer(body: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return { content: [{ type: 'text', text: JSON.stringify(await body(), null, 2) }] };
  } catch (err) {
    const { code, message } = err instanceof Error && 'code' in err && typeof err.code === 'string' ? { code: err.code, message: err.message } : describeError(err);
    return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] };
  }
}

/**
 * Long-polls until the task ends or waitS runs out, and returns its latest status. When the client sent a progress
 * token, each change of state and each piece of streamed output is reported as a progress notification.
 */
async function untilFinal(api: KoubouApi, start: TaskView, waitS: number, extra: Extra): Promise<TaskView> {
  const deadline = Date.now() + waitS * 1000;
  const token = extra._meta?.progressToken;
  let progress = 0;
  /** The tail of the output that each notification shows; only the tail is kept, however long the answer. */
  let output = '';
  const notify = (message: string) => {
    if (token === undefined) return;
    progress += 1;
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } }).catch(() => {});
  };
  const unsubscribe = token !== undefined && api.onOutput ? api.onOutput(start.task_id, (chunk) => notify((output = (output + chunk).slice(-200)))) : () => {};
  try {
    let view = start;
    let status: TaskStatus = view.status;
    while (!FINAL_STATUSES.has(view.status) && !extra.signal.aborted) {
      const remaining = Math.ceil((deadline - Date.now()) / 1000);
      if (remaining <= 0) break;
      view = await api.getTask(view.task_id, remaining);
      if (view.status !== status) notify(`task ${view.status}`);
      status = view.status;
    }
    return view;
  } finally {
    unsubscribe();
  }
}
