/** What /health reports: queue counts, workers, and per backend whether it answers, has its model, and takes work. */
import { localGroup } from './routing/gate-feed.js';
import type { SchedulerLoad } from './routing/scheduler-views.js';
import { checkModel, type ModelCheck } from './backends/model-check.js';
import type { Backend } from './backends/types.js';
import type { Clock } from './clock.js';
import type { StoreStatus } from './store/store-health.js';
import type { StatusCounts } from './store/task-repository.js';
import type { BackendGates, GateStatus } from './supervision/backend-gate.js';

/** How the coordinator's NATS side stands: still trying (how often, the last error), or connected. */
export type BridgeStatus = { state: 'connecting'; attempts: number; error: string | null } | { state: 'connected' };

/**
 * ok; unreachable (no answer to its model listing); model_missing; circuit_open (calls fail, no work is sent); paused
 * (it said busy or rate-limited: no new work before `paused_until`); failed (its workers gave up).
 */
export type BackendState = 'ok' | 'unreachable' | 'model_missing' | 'circuit_open' | 'paused' | 'failed';

/** A backend's circuit and limits as clients see them; times are ISO 8601. */
export interface BackendGateView {
  circuit: GateStatus['circuit'];
  /** Closed: since when; open or half-open: since the outage began. */
  since: string;
  /** Open: when the next probe task may go. */
  probe_at: string | null;
  /** Consecutive connection failures. */
  failures: number;
  /** Busy or rate-limited: no new work before this. */
  paused_until: string | null;
  /** Why it is paused: retry_after (the server's Retry-After) or backoff (a busy answer without one); null when not. */
  paused_by: GateStatus['pausedBy'];
  /** Most tasks in flight to it now; null = as many as it has workers. */
  in_flight_limit: number | null;
}

export interface BackendHealthView extends BackendGateView {
  name: string;
  type: string;
  model: string;
  status: BackendState;
  reachable: boolean;
  /** Set when status is model_missing: what to run or do. */
  fix?: string;
  failed: string | null;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  queue: StatusCounts;
  workers: { total: number; idle: number; busy: number };
  backends: BackendHealthView[];
  /** The gates of koubou-nodes' backends that have had calls, by group (`remote:<node>:<backend>`). */
  remote_backends: ({ group: string } & BackendGateView)[];
  /** Present when NATS is configured: connected, or still trying (and why the last attempt failed). */
  nats?: BridgeStatus;
  /** Whether tasks can be written; while not, `error` says why (a full disk: SQLITE_FULL) and since when. */
  store: { writable: boolean; error: string | null; since: string | null };
}

/** Probes are cached briefly so a dashboard polling /health does not hammer the LLM servers. */
const PROBE_TTL_MS = 2_000;
const PROBE_TIMEOUT_MS = 1_500;

/** A backend's gate as clients see it; a backend with no call yet is closed since `since`. */
function gateView(status: GateStatus | null, since: number): BackendGateView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    circuit: status?.circuit ?? 'closed',
    since: iso(status?.since ?? since)!,
    probe_at: iso(status?.probeAt ?? null),
    failures: status?.failures ?? 0,
    paused_until: iso(status?.pausedUntil ?? null),
    paused_by: status?.pausedBy ?? null,
    in_flight_limit: status?.limit ?? null,
  };
}

export class BackendHealth {
  private readonly failed = new Map<string, string>();
  private readonly probes = new Map<string, { at: number; check: Promise<ModelCheck> }>();
  private readonly startedAt: number;

  constructor(
    private readonly backends: Backend[],
    private readonly clock: Clock,
    private readonly gates: BackendGates,
  ) {
    this.startedAt = clock.now();
  }

  /** The pool gave up restarting this backend's workers. */
  markFailed(name: string, reason: string): void {
    this.failed.set(name, reason);
  }

  /** Every backend's gate, for /workers. */
  gateViews(): ({ name: string } & BackendGateView)[] {
    return this.backends.map((b) => ({ name: b.name, ...gateView(this.gates.status(localGroup(b.name)), this.startedAt) }));
  }

  /** The gates of nodes' backends, for /health and /workers. */
  remoteGateViews(): ({ group: string } & BackendGateView)[] {
    return this.gates
      .statuses()
      .filter(([key]) => key.startsWith('remote:'))
      .map(([group, status]) => ({ group, ...gateView(status, this.startedAt) }));
  }

  async report(queue: StatusCounts, load: SchedulerLoad, nats: BridgeStatus | null = null, store: StoreStatus = { writable: true, error: null, since: null }): Promise<HealthReport> {
    const backends = await Promise.all(this.backends.map((b) => this.backendView(b)));
    const remote = this.remoteGateViews();
    const healthy =
      load.workers > 0 &&
      backends.every((b) => b.status === 'ok') &&
      remote.every((r) => r.circuit === 'closed' && r.paused_until === null) &&
      (nats === null || nats.state === 'connected') &&
      store.writable;
    return {
      status: healthy ? 'ok' : 'degraded',
      queue,
      workers: { total: load.workers, idle: load.idleWorkers, busy: load.running },
      backends,
      remote_backends: remote,
      ...(nats ? { nats } : {}),
      store: { writable: store.writable, error: store.error, since: store.since === null ? null : new Date(store.since).toISOString() },
    };
  }

  private async backendView(b: Backend): Promise<BackendHealthView> {
    const check = await this.check(b);
    const gate = gateView(this.gates.status(localGroup(b.name)), this.startedAt);
    const failed = this.failed.get(b.name) ?? null;
    // Worst first: given up on, not answering (its circuit open), not answering its listing or missing its model, then
    // answering but pushing back for now.
    const status: BackendState = failed
      ? 'failed'
      : gate.circuit === 'open'
        ? 'circuit_open'
        : check.state !== 'ok'
          ? check.state
          : gate.paused_until !== null
            ? 'paused'
            : 'ok';
    return {
      name: b.name,
      type: b.type,
      model: b.model,
      status,
      reachable: check.state !== 'unreachable',
      ...(check.state === 'model_missing' ? { fix: check.fix } : {}),
      failed,
      ...gate,
    };
  }

  private check(b: Backend): Promise<ModelCheck> {
    const now = this.clock.now();
    const cached = this.probes.get(b.name);
    if (cached && now - cached.at < PROBE_TTL_MS) return cached.check;
    const check = checkModel(b, AbortSignal.timeout(PROBE_TIMEOUT_MS));
    this.probes.set(b.name, { at: now, check });
    return check;
  }
}
