/** What /health reports: queue counts, workers, and whether each backend answers. */
import type { BridgeStatus } from '../actors/nats-bridge.js';
import type { SchedulerLoad } from '../actors/scheduler.js';
import type { Backend } from './backends/types.js';
import type { Clock } from './clock.js';
import type { StatusCounts } from './store/tasks-repo.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  queue: StatusCounts;
  workers: { total: number; idle: number; busy: number };
  backends: { name: string; type: string; model: string; reachable: boolean; failed: string | null }[];
  /** Present when NATS is configured: connected, or still trying (and why the last attempt failed). */
  nats?: BridgeStatus;
}

/** Probes are cached briefly so a dashboard polling /health does not hammer the LLM servers. */
const PROBE_TTL_MS = 2_000;
const PROBE_TIMEOUT_MS = 1_500;

export class BackendHealth {
  private readonly failed = new Map<string, string>();
  private readonly probes = new Map<string, { at: number; reachable: Promise<boolean> }>();

  constructor(
    private readonly backends: Backend[],
    private readonly clock: Clock,
  ) {}

  /** The pool gave up restarting this backend's workers. */
  markFailed(name: string, reason: string): void {
    this.failed.set(name, reason);
  }

  async report(queue: StatusCounts, load: SchedulerLoad, nats: BridgeStatus | null = null): Promise<HealthReport> {
    const backends = await Promise.all(
      this.backends.map(async (b) => ({
        name: b.name,
        type: b.type,
        model: b.model,
        reachable: await this.reachable(b),
        failed: this.failed.get(b.name) ?? null,
      })),
    );
    const healthy = load.workers > 0 && backends.every((b) => b.reachable && !b.failed) && (nats === null || nats.state === 'connected');
    return {
      status: healthy ? 'ok' : 'degraded',
      queue,
      workers: { total: load.workers, idle: load.idleWorkers, busy: load.running },
      backends,
      ...(nats ? { nats } : {}),
    };
  }

  private reachable(b: Backend): Promise<boolean> {
    const now = this.clock.now();
    const cached = this.probes.get(b.name);
    if (cached && now - cached.at < PROBE_TTL_MS) return cached.reachable;
    const reachable = b.probe(AbortSignal.timeout(PROBE_TIMEOUT_MS));
    this.probes.set(b.name, { at: now, reachable });
    return reachable;
  }
}
