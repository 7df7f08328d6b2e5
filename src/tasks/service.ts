/** The task operations every adapter calls: submit (optionally waiting), read, list, history. */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { QueueFull, ShuttingDown, TaskAlreadyFinished, TaskNotFound } from '../errors.js';
import type { TaskRepository } from '../store/tasks-repo.js';
import { readTaskFiles, type FileRules } from './files.js';
import { newTaskId } from './ids.js';
import type { QueueStats } from './queue-stats.js';
import type { QueuedTask, Task, TaskStatus } from './task.js';
import type { DelegateInput } from './validate.js';
import { waitForFinal, type FinalWait } from './wait.js';

export interface TaskServiceDeps {
  tasks: TaskRepository;
  bus: EventBus;
  stats: QueueStats;
  files: FileRules;
  maxPending: number;
  /** Hands committed tasks to the scheduler. */
  notifyQueued(task: QueuedTask): void;
  /** Tells the scheduler a task was cancelled; `lease` is set when it was running (its worker must stop). */
  notifyCancelled(taskId: string, lease: string | null): void;
}

export type SubmitResult =
  /** Queued without waiting: nothing to read back, the answer is known. */
  | { taskId: string; waited: false }
  /** Waited: the task as it stands; `ended` is false when the wait ran out and the task keeps running. */
  | { taskId: string; waited: true; task: Task; ended: boolean };

export class TaskService {
  private accepting = true;
  /** Submits between the admission check and the commit, so a burst cannot overshoot max_pending. */
  private reserved = 0;
  private readonly waits = new Set<FinalWait>();

  constructor(private readonly deps: TaskServiceDeps) {}

  /** Refuse new work from now on (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Writes the task to disk, queues it, and (when waitMs is given) waits for it to end. */
  async submit(input: DelegateInput, waitMs?: number): Promise<SubmitResult> {
    if (!this.accepting) throw new ShuttingDown('the server is shutting down and takes no new tasks');
    if (this.deps.stats.pending + this.reserved >= this.deps.maxPending) {
      throw new QueueFull(`the queue is full (${this.deps.maxPending} pending tasks); retry later`);
    }
    const id = newTaskId();
    let wait: FinalWait | null = null;
    this.reserved++;
    try {
      const files = await readTaskFiles(input.files, this.deps.files);
      // Subscribe before the insert: a fast backend can finish the task before insert() even returns.
      if (waitMs !== undefined) wait = this.track(waitForFinal(this.deps.bus, id, waitMs));
      const inserted = await this.deps.tasks.insert({ id, type: input.type, prompt: input.prompt, files, options: input.options, priority: input.priority });
      this.deps.bus.publish(inserted.event);
      this.deps.notifyQueued(inserted.queued);
    } catch (err) {
      wait?.cancel();
      throw err;
    } finally {
      // From here on the task is counted as pending by the stats, running or not.
      this.reserved--;
    }
    if (!wait) return { taskId: id, waited: false };
    const ended = await wait.done;
    return { taskId: id, waited: true, task: await this.get(id), ended };
  }

  /** Ends every sync wait now (shutdown): their clients get the task id and can ask again after the restart. */
  releaseWaits(): void {
    for (const wait of this.waits) wait.cancel();
  }

  private track(wait: FinalWait): FinalWait {
    this.waits.add(wait);
    wait.done.finally(() => this.waits.delete(wait));
    return wait;
  }

  /** Cancels a pending or running task (a running one has its backend call aborted). Cancelling twice is fine. */
  async cancel(id: string): Promise<Task> {
    const result = await this.deps.tasks.cancel(id);
    if (!result) throw new TaskNotFound(id);
    if (result.cancelled) {
      this.deps.bus.publish(result.event);
      this.deps.notifyCancelled(id, result.from === 'in_progress' ? result.lease : null);
    } else if (result.status !== 'cancelled') {
      throw new TaskAlreadyFinished(id, result.status);
    }
    return this.get(id);
  }

  async get(id: string): Promise<Task> {
    const task = await this.deps.tasks.get(id);
    if (!task) throw new TaskNotFound(id);
    return task;
  }

  list(filter: { status?: TaskStatus | undefined; limit: number }): Promise<Task[]> {
    return this.deps.tasks.list(filter);
  }

  async events(id: string): Promise<TaskEvent[]> {
    await this.get(id);
    return this.deps.tasks.events(id);
  }
}
