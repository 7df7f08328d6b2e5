/**
 * Prometheus metrics (prom-client) on a registry of this coordinator's own: task outcomes, queue wait and run time,
 * backend latency and errors, workers, restarts and lost workers. Task figures come from the event stream; gauges
 * are read when scraped.
 */
import type { QueuedTask } from '../tasks/task.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { FINAL_STATUSES, moveOf } from '../tasks/states.js';
import type { WorkerEvents } from '../events/worker-events.js';
import type { StatusCounts } from '../store/task-repository.js';

const SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

export interface PoolGauges {
  tasks(): StatusCounts;
  workers(): Promise<{ total: number; idle: number; busy: number; restarts: number }>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly finished = new Counter({ name: 'koubou_tasks_finished_total', help: 'Tasks that ended, by final state and type', labelNames: ['state', 'type'], registers: [this.registry] });
  private readonly submitted = new Counter({ name: 'koubou_tasks_submitted_total', help: 'Tasks accepted, by type', labelNames: ['type'], registers: [this.registry] });
  private readonly retried = new Counter({ name: 'koubou_task_retries_total', help: 'Attempts that failed retryably and were retried', registers: [this.registry] });
  private readonly deferred = new Counter({ name: 'koubou_task_deferrals_total', help: 'Tasks sent back to the queue because their backend was busy, rate-limited or unreachable (no attempt spent)', labelNames: ['backend'], registers: [this.registry] });
  private readonly queueWait = new Histogram({ name: 'koubou_task_queue_wait_seconds', help: 'Time from submit (or requeue) to a worker taking the task', buckets: SECONDS, registers: [this.registry] });
  private readonly runTime = new Histogram({ name: 'koubou_task_run_seconds', help: 'Time from a worker taking a task to its end', buckets: SECONDS, registers: [this.registry] });
  private readonly backendLatency = new Histogram({ name: 'koubou_backend_request_seconds', help: 'LLM backend calls, by backend and outcome', labelNames: ['backend', 'outcome'], buckets: SECONDS, registers: [this.registry] });
  private readonly backendErrors = new Counter({ name: 'koubou_backend_errors_total', help: 'Failed LLM backend calls, by backend and error code', labelNames: ['backend', 'code'], registers: [this.registry] });
  private readonly workerLosses = new Counter({ name: 'koubou_worker_losses_total', help: 'Workers lost, by cause (heartbeat, crash)', labelNames: ['cause'], registers: [this.registry] });
  private readonly streamDrops = new Counter({ name: 'koubou_stream_clients_dropped_total', help: 'Watchers (/events, /ws, /mcp, task streams) dropped for falling behind, by stream', labelNames: ['stream'], registers: [this.registry] });
  /** Per task in flight: its type, and when its current wait or run began. */
  private readonly inFlight = new Map<string, { type: string; since: number }>();

  constructor(bus: EventBus, workerEvents: WorkerEvents, pool: PoolGauges) {
    workerEvents.subscribe((e) => {
      if (e.kind === 'lost') this.workerLosses.inc({ cause: String(e.detail?.cause ?? 'unknown') });
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'koubou_' });
    const registers = [this.registry];
    new Gauge({ name: 'koubou_tasks', help: 'Tasks by state', labelNames: ['state'], registers, collect() {
      for (const [state, n] of Object.entries(pool.tasks())) this.set({ state }, n);
    } });
    const restarts = new Gauge({ name: 'koubou_worker_restarts', help: 'Restarts of the live worker slots', registers });
    new Gauge({ name: 'koubou_workers', help: 'Live workers by status', labelNames: ['status'], registers, async collect() {
      // One read of the pool per scrape serves both gauges.
      const w = await pool.workers();
      this.set({ status: 'total' }, w.total);
      this.set({ status: 'idle' }, w.idle);
      this.set({ status: 'busy' }, w.busy);
      restarts.set(w.restarts);
    } });
    bus.subscribe((e) => this.record(e));
  }

  /** Moves the task figures along the state table: a wait ends when a task is taken, a run when it leaves in_progress. */
  private record(e: TaskEvent): void {
    const move = moveOf(e.kind, e.detail?.from);
    if (!move) return;
    const [from, to] = move;
    const now = e.at;
    const task = this.inFlight.get(e.taskId);
    if (e.kind === 'retried') this.retried.inc();
    if (e.kind === 'deferred') this.deferred.inc({ backend: String(e.detail?.backend ?? 'unknown') });
    if (from === null) {
      const type = String(e.detail?.type ?? 'general');
      this.inFlight.set(e.taskId, { type, since: now });
      this.submitted.inc({ type });
    } else if (FINAL_STATUSES.has(to)) {
      // A cancelled run did not end by itself: its time says nothing about how long tasks take.
      if (task && from === 'in_progress' && to !== 'cancelled') this.runTime.observe((now - task.since) / 1000);
      this.finished.inc({ state: to, type: task?.type ?? 'unknown' });
      this.inFlight.delete(e.taskId);
    } else if (task) {
      if (to === 'in_progress') this.queueWait.observe((now - task.since) / 1000);
      task.since = now;
    }
  }

  private readonly streamClients = new Gauge({ name: 'koubou_stream_clients', help: 'Open watchers (/events, /ws, /mcp, task streams), by stream', labelNames: ['stream'], registers: [this.registry] });

  /** A watcher of `stream` connected (+1) or left (-1). */
  streamOpened(stream: string, delta: 1 | -1): void {
    this.streamClients.inc({ stream }, delta);
  }

  /** A watcher of `stream` was dropped because it fell behind. */
  streamDropped(stream: string): void {
    this.streamDrops.inc({ stream });
  }

  /** Tasks found pending at start-up (their `queued` event was in an earlier process): learn their types. */
  adopt(tasks: readonly QueuedTask[], now: number): void {
    for (const t of tasks) if (!this.inFlight.has(t.id)) this.inFlight.set(t.id, { type: t.type, since: now });
  }

  /** One LLM call ended: its latency, and its error code when it failed. */
  backendCall(backend: string, seconds: number, errorCode: string | null): void {
    this.backendLatency.observe({ backend, outcome: errorCode ? 'error' : 'ok' }, seconds);
    if (errorCode) this.backendErrors.inc({ backend, code: errorCode });
  }

  /** The text exposition and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
