/**
 * What the coordinator does for koubou-nodes, independent of how they reach it (the NATS bridge translates):
 * join, heartbeat, idle, progress, and recording an outcome under its lease exactly as a local worker would.
 */
import { dispatch, query, type Ref } from 'nact';
import type { AnnouncedSlot, PoolMsg } from '../../actors/pool-manager.js';
import type { SchedulerMsg } from '../../actors/scheduler.js';
import type { QueuedTask, TaskError, TaskOutcome } from '../tasks/task.js';
import type { TaskTransitions } from '../tasks/transitions.js';

export type NodeOutcome =
  | { kind: 'finish'; taskId: string; lease: string; outcome: TaskOutcome }
  | { kind: 'retry'; taskId: string; lease: string; error: TaskError; delayMs: number }
  /** The node's backend pushed back (busy, rate-limited, unreachable): queued again without spending an attempt. */
  | { kind: 'defer'; taskId: string; lease: string; error: TaskError; delayMs: number; backend: string };

export interface NodePort {
  join(nodeId: string, session: string, slots: AnnouncedSlot[]): void;
  /**
   * False: the coordinator does not know this session (the node must join again). `leases`: the runs the node has
   * in hand, so a run that never reached it is noticed (null from a node that does not say).
   */
  beat(nodeId: string, session: string, leases: string[] | null): Promise<boolean>;
  idle(nodeId: string, session: string, slot: number): void;
  /** True when recorded; false when the lease was no longer current (the task went elsewhere). */
  outcome(o: NodeOutcome): Promise<boolean>;
  progress(taskId: string, workerId: string, lease: string, chunk: string): void;
}

export function createNodePort(pool: Ref<PoolMsg>, scheduler: Ref<SchedulerMsg>, transitions: TaskTransitions): NodePort {
  return {
    join: (nodeId, session, slots) => dispatch(pool, { type: 'nodeJoined', nodeId, session, slots }),
    async beat(nodeId, session, leases) {
      const known = (await query(pool, (replyTo): PoolMsg => ({ type: 'nodeBeat', nodeId, session, replyTo }), 5000)) as boolean;
      if (known && leases) dispatch(scheduler, { type: 'nodeRuns', nodeId, leases });
      return known;
    },
    idle: (nodeId, session, slot) => dispatch(pool, { type: 'remoteIdle', nodeId, session, slot }),
    async outcome(o) {
      if (o.kind === 'finish') return transitions.finish(o.taskId, o.lease, o.outcome);
      const queued: QueuedTask | null =
        o.kind === 'defer'
          ? await transitions.defer(o.taskId, o.lease, o.error, o.delayMs, o.backend)
          : await transitions.retry(o.taskId, o.lease, o.error, o.delayMs);
      if (queued) dispatch(scheduler, { type: 'retryLater', task: queued, delayMs: o.delayMs });
      return queued !== null;
    },
    progress: (taskId, workerId, lease, chunk) => transitions.progress(taskId, workerId, lease, chunk),
  };
}
