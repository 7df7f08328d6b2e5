/**
 * Prometheus metrics (prom-client) on a registry of this coordinator's own: task outcomes, queue wait and run time,
 * backend latency and errors, workers, restarts and lost workers. Task figures come from the event stream; gauges
 * are read when scraped.
 *
 * Per task, events only add to plain tallies (tally.ts); they reach prom-client in batches, once a second while tasks
 * flow and at each scrape. prom-client itself is loaded with the first batch, so an idle coordinator never loads it.
 * Its default process metrics (GC, event-loop lag) count from then on.
 */
import type { QueuedTask } from '../tasks/task.js';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import { FINAL_STATUSES, moveOf } from '../tasks/states.js';
import type { WorkerEvents } from '../events/worker-events.js';
import { loadOnce } from '../load-once.js';
import type { StatusCounts } from '../store/task-repository.js';
import { Tally } from './tally.js';

const SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
/** How long figures may wait before they reach prom-client while nobody scrapes. */
const FLUSH_EVERY_MS = 1_000;
/** The event-loop lag monitor's sampling interval (prom-client's default). */
const LOOP_SAMPLE_MS = 10;

export interface PoolGauges {
  tasks(): StatusCounts;
  workers(): Promise<{ total: number; idle: number; busy: number; restarts: number }>;
}

const loadPromClient = loadOnce(() => import('./prom-client.js'));
type PromClient = Awaited<ReturnType<typeof loadPromClient>>;

/** The prom-client side, built once the module is loaded. */
function promMetrics(prom: PromClient, pool: PoolGauges) {
  const registry = new prom.Registry();
  const registers = [registry];
  prom.collectDefaultMetrics({ register: registry, prefix: 'koubou_', eventLoopMonitoringPrecision: LOOP_SAMPLE_MS });
  new prom.Gauge({ name: 'koubou_tasks', help: 'Tasks by state', labelNames: ['state'], registers, collect() {
    for (const [state, n] of Object.entries(pool.tasks())) this.set({ state }, n);
  } });
  const restarts = new prom.Gauge({ name: 'koubou_worker_restarts', help: 'Restarts of the live worker slots', registers });
  new prom.Gauge({ name: 'koubou_workers', help: 'Live workers by status', labelNames: ['status'], registers, async collect() {
    // One read of the pool per scrape serves both gauges.
    const w = await pool.workers();
    this.set({ status: 'total' }, w.total);
    this.set({ status: 'idle' }, w.idle);
    this.set({ status: 'busy' }, w.busy);
    restarts.set(w.restarts);
  } });
  return {
    registry,
    counters: {
      finished: new prom.Counter({ name: 'koubou_tasks_finished_total', help: 'Tasks that ended, by final state and type', labelNames: ['state', 'type'], registers }),
      submitted: new prom.Counter({ name: 'koubou_tasks_submitted_total', help: 'Tasks accepted, by type', labelNames: ['type'], registers }),
      retried: new prom.Counter({ name: 'koubou_task_retries_total', help: 'Attempts that failed retryably and were retried', registers }),
      deferred: new prom.Counter({ name: 'koubou_task_deferrals_total', help: 'Tasks sent back to the queue because their backend was busy, rate-limited or unreachable (no attempt spent)', labelNames: ['backend'], registers }),
      backendErrors: new prom.Counter({ name: 'koubou_backend_errors_total', help: 'Failed LLM backend calls, by backend and error code', labelNames: ['backend', 'code'], registers }),
      workerLosses: new prom.Counter({ name: 'koubou_worker_losses_total', help: 'Workers lost, by cause (heartbeat, crash)', labelNames: ['cause'], registers }),
      streamDrops: new prom.Counter({ name: 'koubou_stream_clients_dropped_total', help: 'Watchers (/events, /ws, /mcp, task streams) dropped for falling behind, by stream', labelNames: ['stream'], registers }),
      streamClients: new prom.Gauge({ name: 'koubou_stream_clients', help: 'Open watchers (/events, /ws, /mcp, task streams), by stream', labelNames: ['stream'], registers }),
    },
    histograms: {
      queueWait: new prom.Histogram({ name: 'koubou_task_queue_wait_seconds', help: 'Time from submit (or requeue) to a worker taking the task', buckets: SECONDS, registers }),
      runTime: new prom.Histogram({ name: 'koubou_task_run_seconds', help: 'Time from a worker taking a task to its end', buckets: SECONDS, registers }),
      backendLatency: new prom.Histogram({ name: 'koubou_backend_request_seconds', help: 'LLM backend calls, by backend and outcome', labelNames: ['backend', 'outcome'], buckets: SECONDS, registers }),
    },
  };
}

/**
 * prom-client writes a value with no samples yet (the event-loop lag on a busy first scrape) as `Nan`; the text
 * exposition format spells it `NaN` (prometheus.io/docs/instrumenting/exposition_formats), and strict parsers refuse
 * anything else.
 */
export const spellNaN = (text: string): string => text.replace(/ Nan$/gm, ' NaN');

type Prom = ReturnType<typeof promMetrics>;
type CounterName = keyof Prom['counters'];
type HistogramName = keyof Prom['histograms'];

export class Metrics {
  private readonly tally = new Tally<CounterName, HistogramName>();
  /** The prom-client side, loaded and built once, with the first flush. */
  private readonly prom = loadOnce(async () => {
    const prom = promMetrics(await loadPromClient(), this.pool);
    // The event-loop lag figures have no value (NaN) until their monitor has taken a few samples: give it time to.
    await new Promise((resolve) => setTimeout(resolve, 3 * LOOP_SAMPLE_MS));
    return prom;
  });
  private flushTimer: NodeJS.Timeout | null = null;
  /** Per task in flight: its type, and when its current wait or run began. */
  private readonly inFlight = new Map<string, { type: string; since: number }>();

  constructor(
    bus: EventBus,
    workerEvents: WorkerEvents,
    private readonly pool: PoolGauges,
  ) {
    workerEvents.subscribe((e) => {
      if (e.kind === 'lost') this.count('workerLosses', { cause: String(e.detail?.cause ?? 'unknown') });
    });
    bus.subscribe((e) => this.record(e));
  }

  /** Moves the task figures along the state table: a wait ends when a task is taken, a run when it leaves in_progress. */
  private record(e: TaskEvent): void {
    const move = moveOf(e.kind, e.detail?.from);
    if (!move) return;
    const [from, to] = move;
    const now = e.at;
    const task = this.inFlight.get(e.taskId);
    if (e.kind === 'retried') this.count('retried', null);
    if (e.kind === 'deferred') this.count('deferred', { backend: String(e.detail?.backend ?? 'unknown') });
    if (from === null) {
      const type = String(e.detail?.type ?? 'general');
      this.inFlight.set(e.taskId, { type, since: now });
      this.count('submitted', { type });
    } else if (FINAL_STATUSES.has(to)) {
      // A cancelled run did not end by itself: its time says nothing about how long tasks take.
      if (task && from === 'in_progress' && to !== 'cancelled') this.observe('runTime', null, (now - task.since) / 1000);
      this.count('finished', { state: to, type: task?.type ?? 'unknown' });
      this.inFlight.delete(e.taskId);
    } else if (task) {
      if (to === 'in_progress') this.observe('queueWait', null, (now - task.since) / 1000);
      task.since = now;
    }
  }

  /** A watcher of `stream` connected (+1) or left (-1). */
  streamOpened(stream: string, delta: 1 | -1): void {
    this.count('streamClients', { stream }, delta);
  }

  /** A watcher of `stream` was dropped because it fell behind. */
  streamDropped(stream: string): void {
    this.count('streamDrops', { stream });
  }

  /** Tasks found pending at start-up (their `queued` event was in an earlier process): learn their types. */
  adopt(tasks: readonly QueuedTask[], now: number): void {
    for (const t of tasks) if (!this.inFlight.has(t.id)) this.inFlight.set(t.id, { type: t.type, since: now });
  }

  /** One LLM call ended: its latency, and its error code when it failed. */
  backendCall(backend: string, seconds: number, errorCode: string | null): void {
    this.observe('backendLatency', { backend, outcome: errorCode ? 'error' : 'ok' }, seconds);
    if (errorCode) this.count('backendErrors', { backend, code: errorCode });
  }

  /** The text exposition and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    const prom = await this.flush();
    return { body: spellNaN(await prom.registry.metrics()), contentType: prom.registry.contentType };
  }

  private count(name: CounterName, labels: Record<string, string> | null, by = 1): void {
    this.tally.count(name, labels, by);
    this.flushSoon();
  }

  private observe(name: HistogramName, labels: Record<string, string> | null, value: number): void {
    if (this.tally.observe(name, labels, value)) this.flushLater();
    else this.flushSoon();
  }

  private flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flushLater(), FLUSH_EVERY_MS);
    this.flushTimer.unref();
  }

  /** A flush nobody waits for: one that fails (prom-client cannot be loaded: no file descriptor left) is tried again later. */
  private flushLater(): void {
    this.flush().catch(() => this.flushSoon());
  }

  /** Moves the tallies into prom-client (loading it the first time). */
  private async flush(): Promise<Prom> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const prom = await this.prom();
    const { counters, histograms } = prom;
    this.tally.drain(
      (name, labels, n) => (labels ? counters[name].inc(labels, n) : counters[name].inc(n)),
      (name, labels, values) => {
        const h = histograms[name];
        for (const v of values) labels ? h.observe(labels, v) : h.observe(v);
      },
    );
    return prom;
  }
}
