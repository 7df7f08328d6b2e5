/**
 * Why a pending task is not running: worked out on demand from what the scheduler holds (its lanes, its view of the
 * pool, the backends' gates), never stored, so it cannot go stale. The first reason that explains why the idle workers
 * able to run the task do not take it wins; with none idle, the task waits its turn.
 */
import type { GateStatus } from '../supervision/backend-gate.js';
import type { QueuedTask } from '../tasks/task.js';
import { serves, servesChat, type Requirement } from './capabilities.js';
import { capableGroups, type LaneQueue } from './lanes.js';
import { fasterGroups } from './planner.js';
import type { RoutingRule } from './policy.js';
import type { Group, PoolView } from './pool-view.js';

export type WaitingCode =
  | 'no_capable_worker'
  | 'routing_rule'
  | 'faster_worker'
  | 'circuit_open'
  | 'backend_busy'
  | 'retry_after'
  | 'retry_backoff'
  | 'workers_busy'
  | 'draining';

/** `waiting_for` of a pending task: a stable code and a sentence for people. */
export interface WaitingFor {
  code: WaitingCode;
  message: string;
}

/** A task kept out of the queue until `until` (epoch ms): a failed attempt's backoff, or a backend's Retry-After. */
export interface HeldTask {
  task: QueuedTask;
  until: number;
  why: RetryWait;
}

/** Why a task was handed back to wait before its next run. */
export interface RetryWait {
  /** retry_after: its backend pushed back and asked for this wait; retry_backoff: its attempt failed retryably. */
  kind: 'retry_after' | 'retry_backoff';
  backend: string | null;
  /** The error code of the attempt that ended. */
  error: string;
}

/** What the reason is worked out from; the scheduler's state, read only. */
export interface WaitingContext {
  lanes: LaneQueue;
  pool: PoolView;
  rules: readonly RoutingRule[];
  speedAware: boolean;
  draining: boolean;
  now: number;
  /** May the group's backend take one more call now? */
  admits(group: Group): boolean;
  /** Its backend takes nothing now (circuit open, paused). */
  blocked(group: Group): boolean;
  /** The group's gate, null before its first call. */
  gate(group: Group): GateStatus | null;
  /** The backend name of a group, for messages. */
  backendOf(group: Group): string;
}

const seconds = (ms: number) => `${Math.max(0, Math.ceil(ms / 1000))} s`;

/** The reason for a task kept out of the queue until its wait has passed. */
export function heldReason(held: HeldTask, now: number): WaitingFor {
  const left = seconds(held.until - now);
  const { kind, backend, error } = held.why;
  const who = backend === null ? 'its backend' : `backend ${backend}`;
  if (kind === 'retry_after') return { code: 'retry_after', message: `${who} pushed back (${error}) and asked to be retried later (Retry-After): runs again in ${left}` };
  return { code: 'retry_backoff', message: `its last attempt failed (${error}): the next attempt is in ${left}` };
}

/**
 * The reason a queued task waits; null when nothing holds it (it is being assigned right now) or it is not queued.
 */
export function queuedReason(task: QueuedTask, ctx: WaitingContext): WaitingFor | null {
  if (ctx.draining) return { code: 'draining', message: 'the coordinator is shutting down: it runs at the next start' };
  const lane = ctx.lanes.laneOf(task.id, ctx.pool);
  if (!lane) return null;
  const eligible = lane.eligible;
  const capable = capableGroups(lane.req, ctx.pool);
  const rule = ctx.rules[lane.rule];
  const ruleText = rule && `routing rule ${lane.rule + 1} (priority ${rule.min_priority}-${rule.max_priority} prefers ${rule.prefer} workers${rule.fallback ? '' : ', no fallback'})`;
  if (eligible.length === 0) {
    if (rule && capable.length > 0) return { code: 'routing_rule', message: `${ruleText}: no ${rule.prefer} worker that takes it is in the pool` };
    return { code: 'no_capable_worker', message: noCapableWorker(lane.req, ctx.pool) };
  }
  const idle = eligible.filter((g) => g.idle.size > 0);
  if (idle.length === 0) {
    const idleElsewhere = capable.filter((g) => !eligible.includes(g)).reduce((n, g) => n + g.idle.size, 0);
    const busy = eligible.reduce((n, g) => n + g.members.size, 0);
    if (rule && idleElsewhere > 0) {
      return { code: 'routing_rule', message: `${ruleText}: all ${busy} of them are busy while ${idleElsewhere} other worker${idleElsewhere === 1 ? ' is' : 's are'} idle` };
    }
    const ahead = ctx.lanes.countBefore(task);
    return { code: 'workers_busy', message: `all ${busy} worker${busy === 1 ? '' : 's'} that can run it ${busy === 1 ? 'is' : 'are'} busy; ${ahead} task${ahead === 1 ? '' : 's'} ahead of it` };
  }
  const held = idle.filter((g) => !ctx.admits(g));
  const open = held.find((g) => (ctx.gate(g)?.circuit ?? 'closed') !== 'closed');
  if (open) return circuitReason(open, ctx);
  const retryAfter = held.find((g) => ctx.gate(g)?.pausedBy === 'retry_after');
  if (retryAfter) return { code: 'retry_after', message: `backend ${ctx.backendOf(retryAfter)} asked for a pause (Retry-After): no new requests for ${pausedFor(retryAfter, ctx)}` };
  const busyGate = held[0];
  if (busyGate) return busyReason(busyGate, ctx);
  if (ctx.speedAware) {
    for (const g of idle) {
      const faster = fasterGroups(g, ctx.pool, ctx.blocked).filter((f) => eligible.includes(f));
      if (faster.length > 0) {
        const f = faster[0]!;
        return {
          code: 'faster_worker',
          message: `held for faster workers (${ctx.backendOf(f)}, ~${seconds(ctx.pool.speed(f))} a task) that will reach it sooner than the idle ${ctx.backendOf(g)} ones (~${seconds(ctx.pool.speed(g))} a task)`,
        };
      }
    }
  }
  return null;
}

function noCapableWorker(req: Requirement, pool: PoolView): string {
  const groups = [...pool.groups.values()];
  if (groups.length === 0) return 'no worker is in the pool';
  const typeText = req.type === null ? '' : ` of type ${req.type}`;
  if (req.chat && req.model !== null) {
    const model = req.model;
    const serving = groups.filter((g) => servesChat(g.caps, model));
    if (serving.length === 0) return `no worker in the pool serves the model ${model}: it waits for one (a koubou-node serving it may be away, or a local backend serving it is still starting)`;
    if (!serving.some((g) => g.caps.types === null || req.type === null || g.caps.types.includes(req.type))) return `no worker serving the model ${model} takes tasks${typeText}`;
  }
  if (req.type !== null && !groups.some((g) => g.caps.types === null || g.caps.types.includes(req.type!))) return `no worker in the pool takes tasks${typeText}`;
  if (req.workdir !== null && !groups.some((g) => g.caps.workspaces)) return 'it names a workdir, and no worker in the pool runs an agent CLI (a command backend)';
  if (req.workdir !== null) return `it names the workdir ${req.workdir}, and no agent-CLI worker in the pool has a workspace_root holding it (a koubou-node serving it may be away)`;
  if (req.model !== null && !req.chat && !groups.some((g) => serves(g.caps, req.model!))) return `no worker serving the model ${req.model} is in the pool yet: a local backend serving it is starting`;
  const limits = groups.map((g) => g.caps.maxTokens).filter((n): n is number => n !== null);
  return `no worker in the pool takes${req.type === null ? ' it' : ` type ${req.type}`} with max_tokens ${req.maxTokens} (largest allowed: ${Math.max(...limits)})`;
}

function circuitReason(g: Group, ctx: WaitingContext): WaitingFor {
  const gate = ctx.gate(g)!;
  const backend = ctx.backendOf(g);
  if (gate.circuit === 'half_open') return { code: 'circuit_open', message: `backend ${backend} is not answering: its circuit is half-open and one probe task is on its way` };
  const probe = gate.probeAt === null ? '' : `; next probe in ${seconds(gate.probeAt - ctx.now)}`;
  return { code: 'circuit_open', message: `backend ${backend} is not answering (${gate.failures} failed connection${gate.failures === 1 ? '' : 's'}): its circuit is open${probe}` };
}

function busyReason(g: Group, ctx: WaitingContext): WaitingFor {
  const gate = ctx.gate(g);
  const backend = ctx.backendOf(g);
  if (gate?.pausedUntil) return { code: 'backend_busy', message: `backend ${backend} said it is busy: no new requests for ${pausedFor(g, ctx)}` };
  return { code: 'backend_busy', message: `backend ${backend} said it is busy: its in-flight limit (${gate?.limit ?? '?'} of ${g.members.size} workers) is in use` };
}

function pausedFor(g: Group, ctx: WaitingContext): string {
  return seconds((ctx.gate(g)?.pausedUntil ?? ctx.now) - ctx.now);
}
