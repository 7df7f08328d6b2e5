/** The warn lines of backend gates: every change of a backend's circuit, pause or in-flight limit is one. */
import type { Logger } from '../logger.js';
import type { BackendGates, GateChange } from './backend-gate.js';

/**
 * Logs one gate change of `group` (a backend on one machine) as a warn line: the operator should see a backend
 * pushing back. `cause` adds what set it off (task id, attempt, error code) when a call did.
 */
export function logGateChange(log: Logger, gates: BackendGates, backend: string, group: string, change: GateChange, cause: Record<string, unknown> = {}): void {
  const fields = { backend, group, ...cause };
  switch (change.kind) {
    case 'circuit':
      if (change.to === 'open') log.warn('backend circuit opened: no work is sent to it until a probe gets through', { ...fields, probe_in_ms: change.probeInMs, failures: gates.status(group)?.failures });
      else if (change.to === 'half_open') log.warn('backend circuit half-open: one probe task may go', fields);
      else log.warn('backend circuit closed: the backend answers again', fields);
      return;
    case 'limit':
      log.warn(change.to === null || (change.from !== null && change.to > change.from) ? 'backend in-flight limit raised' : 'backend busy: in-flight limit lowered', { ...fields, from: change.from, limit: change.to });
      return;
    case 'paused':
      log.warn('backend busy: no new work to it for a while', { ...fields, pause_ms: change.forMs });
      return;
  }
}
