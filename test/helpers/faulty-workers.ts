/**
 * Real worker actors with faults the test switches on: silence (heartbeats dropped, as when a worker wedges or a link
 * fails) and crash (the actor throws, through the worker's own refusal of a second task while busy).
 */
import { dispatch } from 'nact';
import { spawnWorker } from '../../actors/worker.js';
import type { SpawnWorker, WorkerHandle } from '../../src/routing/worker-protocol.js';
import type { Task } from '../../src/tasks/task.js';

export class FaultyWorkers {
  private readonly silent = new Set<string>();
  private readonly handles = new Map<string, WorkerHandle>();

  /** Pass as the coordinator's spawnWorker. */
  readonly spawn: SpawnWorker = (parent, name, deps, beatTo, onCrash) => {
    const handle = spawnWorker(parent, name, deps, (beat) => this.silent.has(deps.id) || beatTo(beat), onCrash);
    this.silent.delete(deps.id);
    this.handles.set(deps.id, handle);
    return handle;
  };

  /** From now on this worker's heartbeats are lost (its successor beats normally). */
  silence(workerId: string): void {
    this.silent.add(workerId);
  }

  /** Makes the busy worker's actor throw: it refuses a second task while it runs one. */
  crash(workerId: string): void {
    const handle = this.handles.get(workerId);
    if (!handle) throw new Error(`no worker ${workerId}`);
    dispatch(handle.ref, { type: 'run', task: { id: 'fault-injection' } as Task, lease: 'fault-injection' });
  }
}
