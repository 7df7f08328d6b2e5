/**
 * The five MCP tools. Short descriptions keep the agent's context small; no call blocks past `wait_seconds`
 * (capped well under the usual 60 s tool timeout), and a task id always comes back, so work is never lost to a timeout.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import { describeError } from '../errors.js';
import { TASK_STATUSES, TASK_TYPES, FINAL_STATUSES, type TaskStatus } from '../tasks/task.js';
import type { KoubouApi, TaskView } from './api.js';

/** Longest a tool call waits; clients commonly give up on a tool after 60 s. */
export const MAX_WAIT_S = 45;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const waitSeconds = z.number().min(0).max(MAX_WAIT_S).optional().describe(`seconds to wait for the result (0-${MAX_WAIT_S}, default 0)`);

/** Registers delegate_task, get_task, cancel_task, list_tasks and pool_status. */
export function registerTools(server: McpServer, api: KoubouApi): void {
  server.registerTool(
    'delegate_task',
    {
      description: 'Hand a task (code, docs, translation, analysis…) to the local LLM pool. Returns the task id at once, or the result if it ends within wait_seconds.',
      inputSchema: {
        prompt: z.string().min(1),
        type: z.enum(TASK_TYPES).optional(),
        priority: z.number().int().min(1).max(10).optional().describe('1-10, higher first (default 5)'),
        files: z.array(z.string()).max(50).optional().describe('paths whose contents are attached'),
        model: z.string().optional(),
        workdir: z.string().min(1).optional().describe("absolute path of a directory under a command backend's workspace_root: an agent CLI works there, in a git worktree on branch koubou/<task-id> whose diff comes back in result.changes"),
        timeout: z.number().positive().optional().describe('seconds per attempt'),
        include_reasoning: z.boolean().optional().describe("return the model's reasoning in result.reasoning"),
        idempotency_key: z.string().min(1).max(255).optional().describe('repeat it on retries: the same task comes back'),
        wait_seconds: waitSeconds,
      },
    },
    (args, extra) =>
      answer(async () => {
        const { wait_seconds, ...task } = args;
        const queued = await api.delegate(task);
        return untilFinal(api, queued, wait_seconds ?? 0, extra);
      }),
  );

  server.registerTool(
    'get_task',
    {
      description: 'Status of a task with its queue position, output so far or result. Waits up to wait_seconds for it to end.',
      inputSchema: { task_id: z.string().min(1), wait_seconds: waitSeconds },
    },
    ({ task_id, wait_seconds }, extra) => answer(async () => untilFinal(api, await api.getTask(task_id, 0), wait_seconds ?? 0, extra)),
  );

  server.registerTool(
    'cancel_task',
    { description: 'Cancel a pending or running task (its LLM request is aborted).', inputSchema: { task_id: z.string().min(1) } },
    ({ task_id }) => answer(() => api.cancel(task_id)),
  );

  server.registerTool(
    'list_tasks',
    {
      description: 'Recent tasks, newest first.',
      inputSchema: { status: z.enum(TASK_STATUSES).optional(), limit: z.number().int().min(1).max(100).optional() },
    },
    ({ status, limit }) => answer(() => api.list(status, limit ?? 20)),
  );

  server.registerTool('pool_status', { description: 'Workers, backends and queue depth.', inputSchema: {} }, () => answer(() => api.poolStatus()));
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
