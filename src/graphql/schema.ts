/**
 * The GraphQL schema (the seeds' contract) and its resolvers over the task service and the pool. Validation and
 * error codes are the REST API's: the same parse* functions, the same KoubouErrors.
 */
import { buildSchema, type GraphQLSchema } from 'graphql';
import type { Core } from '../core.js';
import { TaskNotFound, ValidationError } from '../errors.js';
import type { WorkerInfo } from '../store/worker-view.js';
import type { TaskService } from '../delegation/service.js';
import type { Task, TaskStatus } from '../tasks/task.js';
import { outputBytes, type ViewedTask } from '../delegation/view.js';
import { parseDelegateInput, parseLimit, parsePriority, type DelegateInput } from '../tasks/validate.js';
import { resultView } from '../delegation/view.js';
import { takeTasks, type RequestBudget } from './limits.js';

const TYPE_DEFS = /* GraphQL */ `
  type Query {
    "Queue counts by state, live workers, and ok | degraded (as GET /health)."
    systemStatus: SystemStatus!
    "The task, or null when no task has this id."
    task(id: ID!): Task
    "Newest first; limit 1-1000, default 50. Each output is an excerpt (its first 1000 characters): read task(id) for the whole."
    tasks(status: TaskStatus, limit: Int): [Task!]!
    "The live workers of every backend."
    workers: [Worker!]!
  }

  type Mutation {
    "Queues a task (type defaults to general, priority 1-10 to 5); includeReasoning keeps the model's reasoning in result."
    submitTask(type: String, prompt: String!, priority: Int, includeReasoning: Boolean): Task!
    "Cancels a pending or running task; cancelling twice is fine."
    cancelTask(id: ID!): Task!
    "Submits a failed or cancelled task again as a new task; returns the new task."
    retryTask(id: ID!): Task!
    "Changes a pending task's priority (task_not_pending otherwise)."
    updateTaskPriority(id: ID!, priority: Int!): Task!
  }

  type SystemStatus {
    activeWorkers: Int!
    pendingTasks: Int!
    completedTasks: Int!
    failedTasks: Int!
    inProgressTasks: Int!
    status: String!
  }

  "Any JSON value; Task.result holds {success, output, error, error_code, ...} as GET /task/:id/status's result."
  scalar JSON

  type Task {
    id: ID!
    "The same as id, under the name the original system's clients select after submitTask."
    taskId: ID!
    status: TaskStatus!
    type: String!
    priority: Int!
    prompt: String
    "The whole output, or its first 1000 characters in the tasks list."
    output: String
    "The whole output's size in UTF-8 bytes."
    outputBytes: Int
    error: String
    errorCode: String
    workerId: String
    attempts: Int!
    createdAt: String!
    updatedAt: String!
    "1 = next; null unless the task is pending."
    queuePosition: Int
    "Null until the task ends; then {success, output, error, ...} as in the REST API."
    result: JSON
  }

  enum TaskStatus {
    pending
    in_progress
    completed
    failed
    cancelled
  }

  type Worker {
    id: ID!
    backend: String!
    model: String!
    location: String!
    status: String!
    currentTask: String
    lastHeartbeat: String
    completed: Int!
    failed: Int!
    restarts: Int!
  }
`;

export const schema: GraphQLSchema = buildSchema(TYPE_DEFS);

/** What the resolvers need from the coordinator. */
export type GraphqlCore = Pick<Core, 'service' | 'health' | 'workers'>;

const iso = (ms: number) => new Date(ms).toISOString();

/** A task as the schema's Task; queuePosition asks the scheduler only when the field is selected. */
function taskObject(task: ViewedTask, service: TaskService) {
  return {
    id: task.id,
    taskId: task.id,
    status: task.status,
    type: task.type,
    priority: task.priority,
    prompt: task.prompt,
    output: task.output,
    outputBytes: outputBytes(task),
    error: task.error?.message ?? null,
    errorCode: task.error?.code ?? null,
    workerId: task.workerId,
    attempts: task.attempts,
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    queuePosition: async () => (await service.estimate(task))?.position ?? null,
    result: resultView(task),
  };
}

function workerObject(w: WorkerInfo) {
  return {
    id: w.id,
    backend: w.backend,
    model: w.model,
    location: w.location,
    status: w.status,
    currentTask: w.currentTask,
    lastHeartbeat: w.lastHeartbeat === null ? null : iso(w.lastHeartbeat),
    completed: w.completed,
    failed: w.failed,
    restarts: w.restarts,
  };
}

/** GraphQL passes an omitted nullable argument as undefined and an explicit null as null: both mean "not given". */
const given = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** Only failed and cancelled tasks can be retried. */

/** The root value: one resolver per Query and Mutation field. */
export function rootValue(core: GraphqlCore) {
  const { service } = core;

  async function submit(input: DelegateInput) {
    const submitted = await service.submit(input);
    return taskObject(await service.get(submitted.taskId), service);
  }

  return {
    async systemStatus() {
      const health = await core.health();
      return {
        activeWorkers: health.workers.total,
        pendingTasks: health.queue.pending,
        completedTasks: health.queue.completed,
        failedTasks: health.queue.failed,
        inProgressTasks: health.queue.in_progress,
        status: health.status,
      };
    },

    async task({ id }: { id: string }) {
      try {
        return taskObject(await service.get(id), service);
      } catch (err) {
        if (err instanceof TaskNotFound) return null;
        throw err;
      }
    },

    async tasks({ status, limit }: { status?: TaskStatus | null; limit?: number | null }, budget: RequestBudget) {
      const n = given(limit) === undefined ? parseLimit(undefined) : parseLimit(String(limit));
      takeTasks(budget, n);
      const tasks = await service.list({ status: given(status), limit: n });
      return tasks.map((t) => taskObject(t, service));
    },

    async workers() {
      return (await core.workers()).map(workerObject);
    },

    submitTask({ type, prompt, priority, includeReasoning }: { type?: string | null; prompt: string; priority?: number | null; includeReasoning?: boolean | null }) {
      const options = given(includeReasoning) === undefined ? undefined : { include_reasoning: includeReasoning };
      return submit(parseDelegateInput({ prompt, type: given(type), priority: given(priority), options }));
    },

    async cancelTask({ id }: { id: string }) {
      return taskObject(await service.cancel(id), service);
    },

    async retryTask({ id }: { id: string }) {
      return taskObject(await service.retry(id), service);
    },

    async updateTaskPriority({ id, priority }: { id: string; priority: number }) {
      return taskObject(await service.setPriority(id, parsePriority(priority)), service);
    },
  };
}
