/**
 * The core of a running coordinator as its adapters (HTTP, NATS, MCP, GraphQL) see it: the task service, the event
 * bus, metrics, the node port, and read-only views of the pool. It is assembled by the composition root (src/main.ts)
 * from parts already built; nothing here starts anything or knows the actors.
 */
import type { KoubouConfig } from './config.js';
import type { EventBus } from './events/bus.js';
import type { WorkerEvents } from './events/worker-events.js';
import type { BackendHealth, BridgeStatus, HealthReport } from './health.js';
import type { LogRing } from './logging/log-ring.js';
import type { Metrics } from './metrics/metrics.js';
import type { SchedulerLoad } from './routing/scheduler-views.js';
import type { WorkerActivity } from './routing/worker-protocol.js';
import type { Store } from './store/store.js';
import type { PriorityCount } from './store/task-repository.js';
import { withActivity, type WorkerInfo } from './store/worker-view.js';
import type { QueueStats } from './delegation/queue-stats.js';
import type { TaskService } from './delegation/service.js';
import type { TaskFlows } from './tasks/flow.js';

/** What a koubou-node last said one of its Ollama backends' version was (null: that backend did not answer the node). */
export interface NodeOllamaVersion {
  nodeId: string;
  backend: string;
  version: string | null;
}

export interface Core {
  readonly config: KoubouConfig;
  readonly service: TaskService;
  readonly bus: EventBus;
  readonly workerEvents: WorkerEvents;
  readonly metrics: Metrics;
  readonly logs: LogRing;
  /** The valves of tasks whose answers a gateway client reads: backpressure from it to the backend call. */
  readonly flows: TaskFlows;
  health(): Promise<HealthReport>;
  /** Every worker not gone: its record, with busy/idle and its task as the scheduler (their one owner) says. */
  workers(): Promise<WorkerInfo[]>;
  /** Each backend's circuit, pause and in-flight limit (also part of health()). */
  backendGates(): ReturnType<BackendHealth['gateViews']>;
  /** The same for koubou-nodes' backends that have had calls, by group. */
  remoteBackendGates(): ReturnType<BackendHealth['remoteGateViews']>;
  /** Pending and running tasks per priority, for the dashboard. */
  openByPriority(): PriorityCount[];
  /** What koubou-nodes last said their Ollama backends' versions were (live or not: see workers()). */
  nodeOllamaVersions(): NodeOllamaVersion[];
  /** The models of the nodes this store heard from before this process started, and when it started (epoch ms). */
  nodesHeardFrom(): { models: readonly string[]; since: number };
}

/** The parts a Core is assembled from; `load` and `activity` ask the scheduler, `natsStatus` the bridge. */
export interface CoreParts {
  config: KoubouConfig;
  flows: TaskFlows;
  store: Store;
  service: TaskService;
  bus: EventBus;
  workerEvents: WorkerEvents;
  metrics: Metrics;
  logs: LogRing;
  stats: QueueStats;
  backendHealth: BackendHealth;
  load(): Promise<SchedulerLoad>;
  activity(): Promise<WorkerActivity[]>;
  natsStatus(): BridgeStatus | null;
  nodeOllamaVersions(): NodeOllamaVersion[];
  nodesHeardFrom(): { models: readonly string[]; since: number };
}

/** The adapters' view of a coordinator, from its parts. */
export function assembleCore(p: CoreParts): Core {
  const { config, service, bus, workerEvents, metrics, logs, store, backendHealth } = p;
  return {
    config,
    flows: p.flows,
    service,
    bus,
    workerEvents,
    metrics,
    logs,
    async health() {
      const [load, storeStatus] = await Promise.all([p.load(), store.writable()]);
      return backendHealth.report(p.stats.snapshot(), load, p.natsStatus(), storeStatus);
    },
    async workers() {
      const [records, activity] = await Promise.all([store.workers.list({ includeGone: false }), p.activity()]);
      return withActivity(records, activity);
    },
    backendGates: () => backendHealth.gateViews(),
    remoteBackendGates: () => backendHealth.remoteGateViews(),
    openByPriority: () => store.tasks.openByPriority(),
    nodeOllamaVersions: p.nodeOllamaVersions,
    nodesHeardFrom: p.nodesHeardFrom,
  };
}
