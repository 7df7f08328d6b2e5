/**
 * What the scheduler feeds its backends' gates (src/supervision/backend-gate.ts): what each call said about its server,
 * and what the start-up check found. Every change is a warn line (gate-log.ts). Kept out of actors/scheduler.ts, which
 * only routes the messages here.
 */
import type { Logger } from '../logger.js';
import type { BackendGates } from '../supervision/backend-gate.js';
import { logGateChange } from '../supervision/gate-log.js';
import type { PoolView } from './pool-view.js';
import type { CallReport } from './worker-protocol.js';

/** The gate key of a backend on this machine: its local workers' group (`local:<backend>`). */
export const localGroup = (backend: string): string => `local:${backend}`;

/**
 * Feeds a call's verdict to its backend's gate and logs what changed. Returns how long (ms) that gate now takes no
 * call (see BackendGate.closedForMs), which is what a task the call deferred really waits; 0 when the report is of a
 * worker no longer in the pool (its gate learns nothing from it).
 */
export function recordCall(pool: PoolView, gates: BackendGates, report: CallReport, log: Logger, now: number): number {
  const worker = pool.handle(report.workerId);
  if (!worker || (report.incarnation !== null && worker.incarnation !== report.incarnation)) return 0;
  const group = pool.groups.get(worker.group)!;
  const gate = gates.get(group.key);
  const changes = gate.record(report.verdict, {
    inFlight: group.running.size,
    ceiling: group.members.size,
    startedAt: pool.running(report.workerId)?.startedAt ?? now,
  });
  for (const change of changes) logGateChange(log, gates, worker.backend, group.key, change, { task: report.taskId, attempt: report.attempt, code: report.code });
  return gate.closedForMs();
}

/** The start-up check found no server behind this local backend: its circuit opens now (see BackendGate.markUnreachable). */
export function recordUnreachable(gates: BackendGates, backend: string, log: Logger): void {
  const group = localGroup(backend);
  for (const change of gates.get(group).markUnreachable()) logGateChange(log, gates, backend, group, change, { code: 'backend_unavailable', found_by: 'start-up check' });
}
