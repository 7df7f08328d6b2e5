/** The task operations every adapter calls: submit (optionally waiting), read, list, history. */
import type { Clock } from '../clock.js';
import type { QueueEstimate } from '../routing/scheduler-views.js';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { IdempotencyKeyReused, QueueFull, ShuttingDown, TaskAlreadyFinished, TaskNotFound, TaskNotPending, TaskNotRetryable } from '../errors.js';
import type { TaskRepository } from '../store/task-repository.js';
import { taskWorkdir } from '../backends/command/workdir.js';
import { readTaskFiles, type FileRules } from '../tasks/files.js';
import { submissionFingerprint } from '../tasks/fingerprint.js';
import { newTaskId } from '../tasks/ids.js';
import type { OutputBuffers, PartialOutput } from './output-buffers.js';
import type { QueueStats } from './queue-stats.js';
import { FINAL_STATUSES, type ListedTask, type QueuedTask, type Task, type TaskError, type TaskFile, type TaskStatus } from '../tasks/task.js';
import type { DelegateInput } from '../tasks/validate.js';
import { isFinal, isStateChange, waitForTaskEvent, type TaskWait } from './wait.js';

export interface TaskServiceDeps {
  tasks: TaskRepository;
  bus: EventBus;
  /** Stamps new ids and times waits. */
  clock: Clock;
  stats: QueueStats;
  files: FileRules;
  /** Where task workdirs may be: every command backend's workspace_root, as configured and as real paths. */
  workspaceRoots: readonly string[];
  /** The workspace roots koubou-nodes announced (absent: none); a workdir under one runs on that node. */
  remoteWorkspaceRoots?: () => readonly string[];
  maxPending: number;
  /** Hands committed tasks to the scheduler. */
  notifyQueued(task: QueuedTask): void;
  /** Tells the scheduler a task was cancelled; `lease` is set when it was running (its worker must stop). */
  notifyCancelled(taskId: string, lease: string | null): void;
  /** Tells the scheduler a pending task has a new priority. */
  notifyReprioritized(task: QueuedTask): void;
  /** Asks the scheduler where a pending task stands. */
  estimate(taskId: string): Promise<QueueEstimate | null>;
  /** What running tasks have streamed so far. */
  output: OutputBuffers;
}

export type SubmitResult = { taskId: string; status: TaskStatus; replayed: boolean } & (
  /** Queued without waiting: a new task's status is known without reading it back. */
  | { waited: false }
  /** Waited: the task as it stands; `ended` is false when the wait ran out and the task keeps running. */
  | { waited: true; task: Task; ended: boolean }
);

export class TaskService {
  private accepting = true;
  /** Submits between the admission check and the commit, so a burst cannot overshoot max_pending. */
  private reserved = 0;
  private readonly waits = new Set<TaskWait>();

  constructor(private readonly deps: TaskServiceDeps) {}

  /** Refuse new work from now on (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Writes the task to disk, queues it, and (when waitMs is given) waits for it to end. A repeated idempotency key
   * names the task it first created (within 24 h) instead of creating another; the same key with a different
   * submission is refused with IdempotencyKeyReused. `onNewId` is called with a new task's id before it is written,
   * so a watcher that subscribes there misses none of its events (a replay names another id: see `replayed`).
   */
  async submit(input: DelegateInput, waitMs?: number, readFiles?: TaskFile[], onNewId?: (taskId: string) => void): Promise<SubmitResult> {
    if (!this.accepting) throw new ShuttingDown('the server is shutting down and takes no new tasks');
    // Resolved once, at submit: the task keeps the real path, so a symlink changed later cannot move it.
    if (input.options.workdir !== undefined) input = { ...input, options: { ...input.options, workdir: taskWorkdir(input.options.workdir, this.deps.workspaceRoots, this.deps.remoteWorkspaceRoots?.() ?? []) } };
    if (this.deps.stats.pending + this.reserved >= this.deps.maxPending) {
      // A repeated submission takes no place in the queue: it is answered with the task its key names.
      const key = input.idempotencyKey;
      const known = key === null ? null : await this.deps.tasks.keyed(key, submissionFingerprint(input));
      if (known === null) throw new QueueFull(`the queue is full (${this.deps.maxPending} pending tasks); retry later`);
      if (!known.sameSubmission) throw new IdempotencyKeyReused(key!);
      return this.replay(known.existing, waitMs);
    }
    const newId = newTaskId(this.deps.clock);
    let wait: TaskWait | null = null;
    let existing: string | null = null;
    this.reserved++;
    try {
      // A retry carries the contents stored with the original task; a new submit reads its paths now.
      const files = readFiles ?? (await readTaskFiles(input.files, this.deps.files));
      // Subscribe before the insert: a fast backend can finish the task before insert() even returns.
      if (waitMs !== undefined) wait = this.track(waitForTaskEvent(this.deps.bus, this.deps.clock, newId, waitMs, isFinal));
      onNewId?.(newId);
      const inserted = await this.deps.tasks.insert({
        id: newId,
        type: input.type,
        prompt: input.prompt,
        files,
        options: input.options,
        priority: input.priority,
        idempotencyKey: input.idempotencyKey,
        idempotencyFingerprint: input.idempotencyKey === null ? null : submissionFingerprint(input),
      });
      if ('existing' in inserted) {
        if (!inserted.sameSubmission) throw new IdempotencyKeyReused(input.idempotencyKey!);
        existing = inserted.existing;
      } else {
        this.deps.bus.publish(inserted.event);
        this.deps.notifyQueued(inserted.queued);
      }
    } catch (err) {
      wait?.cancel();
      throw err;
    } finally {
      // From here on the task is counted as pending by the stats, running or not.
      this.reserved--;
    }
    if (existing !== null) {
      wait?.cancel();
      return this.replay(existing, waitMs);
    }
    if (!wait) return { taskId: newId, status: 'pending', replayed: false, waited: false };
    const ended = await wait.done;
    return { taskId: newId, status: 'pending', replayed: false, waited: true, task: await this.get(newId), ended };
  }

  /** The answer for a repeated idempotency key: the first task, waited on like a new one. */
  private async replay(id: string, waitMs: number | undefined): Promise<SubmitResult> {
    const wait = waitMs === undefined ? null : this.track(waitForTaskEvent(this.deps.bus, this.deps.clock, id, waitMs, isFinal));
    const current = await this.get(id);
    if (!wait) return { taskId: id, status: current.status, replayed: true, waited: false };
    // Subscribed before reading, so an end between the two is not missed.
    const ended = FINAL_STATUSES.has(current.status) ? (wait.cancel(), true) : await wait.done;
    return { taskId: id, status: current.status, replayed: true, waited: true, task: await this.get(id), ended };
  }

  /**
   * The task now, or, when it is not final and waitMs > 0, as soon as its state changes (long-poll), at the latest
   * after waitMs. With outputFrom, streamed output beyond that many characters also ends the wait.
   */
  async watch(id: string, waitMs: number, outputFrom?: number): Promise<Task> {
    if (waitMs <= 0) return this.get(id);
    const grew = () => outputFrom !== undefined && this.deps.output.length(id) > outputFrom;
    const wait = this.track(waitForTaskEvent(this.deps.bus, this.deps.clock, id, waitMs, (e) => isStateChange(e) || grew()));
    try {
      const current = await this.get(id);
      if (FINAL_STATUSES.has(current.status) || grew()) return current;
      await wait.done;
      return await this.get(id);
    } finally {
      wait.cancel();
    }
  }

  /** Ends every wait now (shutdown): their clients get the task as it stands and can ask again after the restart. */
  releaseWaits(): void {
    for (const wait of this.waits) wait.cancel();
  }

  private track(wait: TaskWait): TaskWait {
    this.waits.add(wait);
    wait.done.finally(() => this.waits.delete(wait));
    return wait;
  }

  /**
   * Cancels a pending or running task (a running one has its backend call aborted). Cancelling twice is fine. `why`:
   * the error to record when it is cancelled for a reason (a gateway answer that broke off), not on request.
   */
  async cancel(id: string, why?: TaskError): Promise<Task> {
    const result = await this.deps.tasks.cancel(id, why);
    if (!result) throw new TaskNotFound(id);
    if (result.cancelled) {
      this.deps.bus.publish(result.event);
      this.deps.notifyCancelled(id, result.from === 'in_progress' ? result.lease : null);
    } else if (result.status !== 'cancelled') {
      throw new TaskAlreadyFinished(id, result.status);
    }
    return this.get(id);
  }

  /** The output a running task has streamed so far, from character `from` on. */
  partialOutput(task: Task, from = 0): PartialOutput | null {
    return task.status === 'in_progress' ? this.deps.output.read(task.id, from) : null;
  }

  /**
   * Runs a failed or cancelled task again as a new task (same type, prompt, files, priority, options). Retrying the
   * same task twice within a day returns the same new task: its id is the idempotency key.
   */
  async retry(id: string): Promise<Task> {
    const task = await this.get(id);
    if (task.status !== 'failed' && task.status !== 'cancelled') throw new TaskNotRetryable(id, task.status);
    const input = { prompt: task.prompt, type: task.type, priority: task.priority, sync: false, files: [], options: { ...task.options }, idempotencyKey: `retry:${id}` };
    return this.get((await this.submit(input, undefined, task.files)).taskId);
  }

  /** Changes a pending task's priority; it keeps its place among tasks of its new priority by age. */
  async setPriority(id: string, priority: number): Promise<Task> {
    const queued = await this.deps.tasks.setPriority(id, priority);
    if (!queued) throw new TaskNotPending(id, (await this.get(id)).status);
    this.deps.notifyReprioritized(queued);
    return this.get(id);
  }

  /** Queue position and ETA of a pending task; null for any other. */
  async estimate(task: Pick<Task, 'id' | 'status'>): Promise<QueueEstimate | null> {
    return task.status === 'pending' ? this.deps.estimate(task.id) : null;
  }

  async get(id: string): Promise<Task> {
    const task = await this.deps.tasks.get(id);
    if (!task) throw new TaskNotFound(id);
    return task;
  }

  /** Newest first; outputs come as excerpts (ListedTask): the whole output is on get(). */
  list(filter: { status?: TaskStatus | undefined; limit: number }): Promise<ListedTask[]> {
    return this.deps.tasks.list(filter);
  }

  async events(id: string): Promise<TaskEvent[]> {
    await this.get(id);
    return this.deps.tasks.events(id);
  }
}
