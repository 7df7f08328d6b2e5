/**
 * The core of a running coordinator, without adapters: store, event bus, actor tree and the task service.
 * main.ts puts the HTTP server in front of it; tests use it directly too.
 */
import { capabilities } from './routing/capabilities.js';
import { newSecretId } from './tasks/ids.js';
import { dispatch, query } from 'nact';
import type { BridgeDeps, BridgeStatus } from '../actors/nats-bridge.js';
import { startTree, type Tree } from '../actors/root.js';
import type { QueueEstimate, SchedulerLoad, SchedulerMsg, WorkerActivity } from '../actors/scheduler.js';
import { spawnRemoteWorker, type RemoteSend } from '../actors/remote-worker.js';
import { spawnWorker } from '../actors/worker.js';
import { createNodePort, type NodePort } from './nodes/node-port.js';
import { createBackend } from './backends/index.js';
import { workspaceRoots } from './backends/command/workdir.js';
import type { Backend } from './backends/types.js';
import { systemClock, type Clock } from './clock.js';
import type { KoubouConfig } from './config.js';
import { EventBus } from './events/bus.js';
import { WorkerEvents } from './events/worker-events.js';
import type { Logger } from './logger.js';
import { openStore, type Store } from './store/store.js';
import type { PriorityCount } from './store/tasks-repo.js';
import { withActivity, type WorkerInfo } from './store/worker-view.js';
import { backoffMs } from './supervision/backoff.js';
import { BackendGates } from './supervision/backend-gate.js';
import { coalescing } from './supervision/coalesce.js';
import { OutputBuffers } from './tasks/output-buffers.js';
import { QueueStats } from './tasks/queue-stats.js';
import { TaskService } from './tasks/service.js';
import { storeTransitions } from './tasks/transitions.js';
import { BackendHealth, type HealthReport } from './health.js';
import { warnAboutBackends } from './backends/startup-check.js';
import { storeFiles } from './tasks/files.js';
import { Metrics } from './metrics/metrics.js';
import { LogRing } from './logging/log-ring.js';

export interface Core {
  readonly config: KoubouConfig;
  readonly service: TaskService;
  readonly bus: EventBus;
  readonly workerEvents: WorkerEvents;
  readonly metrics: Metrics;
  /** What koubou-nodes do through the NATS bridge: join, beat, report outcomes. */
  readonly nodes: NodePort;
  readonly logs: LogRing;
  /** Writes the URL the coordinator answers at into the store's lock file (see store/lock-file.ts). */
  advertise(url: string): void;
  health(): Promise<HealthReport>;
  /** Every worker not gone: its record, with busy/idle and its task as the scheduler (their one owner) says. */
  workers(): Promise<WorkerInfo[]>;
  /** Each backend's circuit, pause and in-flight limit (also part of health()). */
  backendGates(): ReturnType<BackendHealth['gateViews']>;
  /** The same for koubou-nodes' backends that have had calls, by group. */
  remoteBackendGates(): ReturnType<BackendHealth['remoteGateViews']>;
  /** Pending and running tasks per priority, for the dashboard. */
  openByPriority(): PriorityCount[];
  /** Stops taking work, lets running tasks finish within graceMs, requeues the rest, closes everything. */
  shutdown(graceMs: number): Promise<void>;
}

export interface CoreOptions {
  log: Logger;
  clock?: Clock;
  /** Called when supervision gives up; the process should exit non-zero. */
  onFatal(err: Error): void;
  /** Starts worker actors; fault-injection tests and benchmarks wrap the real one. */
  spawnWorker?: typeof spawnWorker;
  /** How runs and cancels reach koubou-nodes (the NATS bridge); without it no node can join. */
  remote?: RemoteSend;
  /** Brings the NATS side up (see actors/nats-bridge.ts); its status shows in /health. */
  bridge?: Omit<BridgeDeps, 'onStatus' | 'clock' | 'log'>;
  /** Recent log entries for GET /api/logs (the logger feeds it). */
  logs?: LogRing;
  /** The store, already opened (and so locked) by the caller; without it startCore opens config.store.path. */
  store?: Store;
}

const QUERY_TIMEOUT_MS = 5_000;

/** Opens the store, recovers what a previous run left, and starts the supervision tree. */
export async function startCore(config: KoubouConfig, opts: CoreOptions): Promise<Core> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const store = opts.store ?? (await openStore(config.store.path, clock));
  const bus = new EventBus();
  const workerEvents = new WorkerEvents();
  // Counts before recovery: recovery's own "requeued" events then move them to the truth.
  const stats = new QueueStats(await store.tasks.countByStatus(), bus);
  const transitions = storeTransitions(store.tasks, bus, clock, config.tasks.max_attempts, log.child({ actor: 'store' }));
  // Agent CLIs get an allowlist of this environment, never a value of Koubou's own secrets.
  const secrets = [config.server.api_token, config.nats.pool_token].filter((s): s is string => s !== null);
  const backends: Backend[] = config.backends.map((b) => createBackend(b, { inheritedEnv: process.env, secrets }));
  const { failure_threshold, probe_base_ms, probe_max_ms } = config.pool.backpressure;
  // Written only by the scheduler; /health and /workers read them.
  const gates = new BackendGates({ failureThreshold: failure_threshold, probeBaseMs: probe_base_ms, probeMaxMs: probe_max_ms }, clock);
  const backendHealth = new BackendHealth(backends, clock, gates);
  // In the background: a backend that is down at start-up is no reason not to start (tasks wait for it).
  void warnAboutBackends(config.backends, backends, log);
  // Gauges read the live pool at scrape time; `load` is bound once the tree exists.
  let load: () => Promise<SchedulerLoad> = async () => ({ pending: 0, running: 0, idleWorkers: 0, workers: 0, draining: false });
  const metrics = new Metrics(bus, workerEvents, {
    tasks: () => stats.snapshot(),
    async workers() {
      const [l, rows] = await Promise.all([load(), store.workers.list({ includeGone: false })]);
      return { total: l.workers, idle: l.idleWorkers, busy: l.running, restarts: rows.reduce((sum, w) => sum + w.restarts, 0) };
    },
  });

  let natsStatus: BridgeStatus | null = null;
  const tree: Tree = await startTree({
    async recover() {
      for (const e of await store.tasks.requeueOrphans('found in progress at start-up')) bus.publish(e);
      await store.workers.markAllGone();
      const pending = await store.tasks.pendingQueue();
      metrics.adopt(pending, clock.now());
      return pending;
    },
    scheduler: { transitions, clock, newLease: newSecretId, log: log.child({ actor: 'scheduler' }), routing: config.routing, gates },
    pool: {
      backends: config.backends.map((b, i) => ({
        backend: backends[i]!,
        minWorkers: b.min_workers,
        maxWorkers: b.max_workers,
        timeoutS: b.timeout_s ?? config.tasks.default_timeout_s,
        caps: capabilities(b.model, b),
      })),
      transitions,
      clock,
      log: log.child({ actor: 'pool-manager' }),
      heartbeatIntervalMs: config.pool.heartbeat_interval_ms,
      heartbeatTimeoutMs: config.pool.heartbeat_timeout_ms,
      restart: config.pool.restart,
      maxAttempts: config.tasks.max_attempts,
      maxOutputBytes: config.tasks.max_output_bytes,
      idleMs: config.pool.idle_ms,
      spawnWorker: opts.spawnWorker ?? spawnWorker,
      spawnRemoteWorker: (parent, name, slot) => {
        if (!opts.remote) throw new Error('a node joined, but this coordinator has no NATS link');
        return spawnRemoteWorker(parent, name, slot, opts.remote);
      },
      retryDelayMs: (attempt) => backoffMs(attempt - 1, config.tasks.retry_base_ms, config.tasks.retry_max_ms),
      recordStarted: (w) => store.workers.started(w),
      recordBeats: (beats) => store.workers.beats(beats),
      onBackendFailed: (name, reason) => backendHealth.markFailed(name, reason),
      onWorkerEvent: (e) => workerEvents.publish({ ...e, at: clock.now() }),
      recordBackendCall: (backend, seconds, code) => metrics.backendCall(backend, seconds, code),
    },
    restart: config.pool.restart,
    clock,
    log: log.child({ actor: 'root' }),
    onGiveUp: opts.onFatal,
    bridge: opts.bridge && { ...opts.bridge, clock, log: log.child({ actor: 'nats-bridge' }), onStatus: (s) => (natsStatus = s) },
  });

  const service = new TaskService({
    tasks: store.tasks,
    bus,
    clock,
    stats,
    files: { root: config.files.root, maxBytes: config.files.max_bytes, exclude: config.files.exclude, protectedPaths: storeFiles(config.store.path) },
    workspaceRoots: config.backends.flatMap((b) => (b.command?.workspace_root ? workspaceRoots(b.command.workspace_root) : [])),
    maxPending: config.queue.max_pending,
    notifyQueued: coalescing((tasks) => dispatch(tree.scheduler, { type: 'tasksQueued', tasks })),
    notifyCancelled: (taskId, lease) => dispatch(tree.scheduler, { type: 'taskCancelled', taskId, lease }),
    notifyReprioritized: (task) => dispatch(tree.scheduler, { type: 'reprioritized', task }),
    output: new OutputBuffers(bus),
    estimate: (taskId) =>
      query(tree.scheduler, (replyTo): SchedulerMsg => ({ type: 'estimate', taskId, replyTo }), QUERY_TIMEOUT_MS) as Promise<QueueEstimate | null>,
  });

  load = () => query(tree.scheduler, (replyTo): { type: 'getLoad'; replyTo: typeof replyTo } => ({ type: 'getLoad', replyTo }), QUERY_TIMEOUT_MS) as Promise<SchedulerLoad>;

  return {
    config,
    service,
    bus,
    workerEvents,
    metrics,
    nodes: createNodePort({
      pool: tree.pool,
      scheduler: tree.scheduler,
      transitions,
      leaseHolder: (id, lease) => store.tasks.leaseHolder(id, lease),
      log: log.child({ adapter: 'nodes' }),
    }),
    logs: opts.logs ?? new LogRing(),
    advertise: (url) => store.advertise(url),
    async health() {
      const [l, storeStatus] = await Promise.all([load(), store.writable()]);
      return backendHealth.report(stats.snapshot(), l, natsStatus, storeStatus);
    },
    async workers() {
      const [records, activity] = await Promise.all([
        store.workers.list({ includeGone: false }),
        query(tree.scheduler, (replyTo): SchedulerMsg => ({ type: 'activity', replyTo }), QUERY_TIMEOUT_MS) as Promise<WorkerActivity[]>,
      ]);
      return withActivity(records, activity);
    },
    backendGates: () => backendHealth.gateViews(),
    remoteBackendGates: () => backendHealth.remoteGateViews(),
    openByPriority: () => store.tasks.openByPriority(),
    async shutdown(graceMs) {
      service.stopAccepting();
      dispatch(tree.scheduler, { type: 'drain' });
      const deadline = clock.now() + graceMs;
      while ((await load()).running > 0 && clock.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await query(tree.pool, (replyTo) => ({ type: 'stopAll' as const, replyTo }), QUERY_TIMEOUT_MS);
      const requeued = await store.tasks.requeueOrphans('coordinator shut down before the task finished');
      for (const e of requeued) bus.publish(e);
      service.releaseWaits();
      if (requeued.length > 0) log.info('requeued unfinished tasks for the next start', { count: requeued.length });
      // After the drain, so sync delegates waiting over NATS have had their answers.
      if (tree.bridge) await query(tree.bridge, (replyTo) => ({ type: 'close' as const, replyTo }), QUERY_TIMEOUT_MS);
      tree.stop();
      await Promise.all(backends.map((b) => b.close()));
      await store.close();
    },
  };
}
