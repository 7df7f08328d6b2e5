/**
 * The coordinator's composition root, and with src/node-main.ts (a koubou-node's) the only file in src/ that imports
 * from actors/. A coordinator is built here in one order: config → store (locked) → port → event bus → metrics →
 * backends → actor tree → task service → core → adapters (NATS, HTTP; MCP's embedded mode calls this too). Parts that
 * need each other are bound late, as the root actor binds the scheduler's asks to the pool. Signals and draining live
 * here as well.
 */
import { dispatch, query, type Ref } from 'nact';
import { startTree, type Tree } from '../actors/root.js';
import { spawnRemoteWorker } from '../actors/remote-worker.js';
import type { SchedulerMsg } from '../actors/scheduler.js';
import { spawnWorker } from '../actors/worker.js';
import { createBackend } from './backends/index.js';
import { warnAboutBackends } from './backends/startup-check.js';
import { workspaceRoots } from './backends/command/workdir.js';
import { systemClock, type Clock } from './clock.js';
import type { KoubouConfig } from './config.js';
import { assembleCore, type Core } from './core.js';
import { EventBus } from './events/bus.js';
import { WorkerEvents, type WorkerEvent } from './events/worker-events.js';
import { BackendHealth, type BridgeStatus } from './health.js';
import { gatewayRoutes, ollamaListenerRoutes } from './gateway/routes.js';
import { createApp, createRoutesApp } from './http/app.js';
import { bind, type Listening } from './http/server.js';
import type { Logger } from './logger.js';
import { LISTENING_MSG } from './logging/listening.js';
import { LogRing } from './logging/log-ring.js';
import { Metrics } from './metrics/metrics.js';
import { coordinatorNats } from './coordinator-nats.js';
import { createNodePort, type NodeTreeLink } from './nodes/node-port.js';
import { capabilities, type Capabilities } from './routing/capabilities.js';
import type { QueueEstimate, SchedulerLoad } from './routing/scheduler-views.js';
import type { SpawnWorker, WorkerActivity } from './routing/worker-protocol.js';
import { openStore, type Store } from './store/store.js';
import { BackendGates } from './supervision/backend-gate.js';
import { backoffMs } from './supervision/backoff.js';
import { coalescing } from './supervision/coalesce.js';
import { connectionsPerListener, openFilesLimit } from './open-files.js';
import { storeFiles } from './tasks/files.js';
import { newSecretId } from './tasks/ids.js';
import { TaskFlows } from './tasks/flow.js';
import { OutputBuffers } from './delegation/output-buffers.js';
import { QueueStats } from './delegation/queue-stats.js';
import { TaskService } from './delegation/service.js';
import { storeTransitions } from './delegation/transitions.js';

/** How recently a node must have been heard from for a restarted coordinator to wait for it (see recentNodes). */
const NODES_REMEMBERED_MS = 10 * 60_000;

export interface Coordinator {
  core: Core;
  http: Listening;
  /** The LLM gateway's own listener (gateway.ollama_listen), or null. */
  ollamaHttp: Listening | null;
  /** Drains (stop taking work, let running tasks finish within the grace period, requeue the rest) and closes. */
  stop(): Promise<void>;
}

/** What startCoordinator takes besides the config: fault-injecting workers, the log ring, a clock, the lock's command. */
export interface CoordinatorExtras {
  /** Starts worker actors; fault-injection tests and benchmarks wrap the real one. */
  spawnWorker?: SpawnWorker | undefined;
  /** Recent log entries for GET /api/logs (the logger feeds it). */
  logs?: LogRing;
  clock?: Clock;
  /** The command named in the store's lock file (`start`, `mcp`). */
  command?: string;
}

/** Bounds a question to an actor; an actor that does not answer in this time has crashed and is being rebooted. */
const QUERY_TIMEOUT_MS = 5_000;
/** How often a drain looks whether the running tasks have finished. */
const DRAIN_POLL_MS = 20;

/**
 * Starts a coordinator with this config. In this order, so that a refused or failed start changes nothing: the store
 * lock (StoreInUse when another process holds it), the port (EADDRINUSE when taken), and only then recovery and the
 * actor tree. The URL goes into the lock file once the app answers. `onFatal` is called when supervision gives up.
 */
export async function startCoordinator(config: KoubouConfig, log: Logger, onFatal: (err: Error) => void, extra: CoordinatorExtras = {}): Promise<Coordinator> {
  const clock = extra.clock ?? systemClock;
  const store = await openStore(config.store.path, clock, extra.command, log.child({ actor: 'store' }));
  const { headers_timeout_s, request_timeout_s, keep_alive_timeout_s } = config.server;
  const ms = (s: number) => Math.ceil(s * 1000);
  const timeouts = { headersMs: ms(headers_timeout_s), requestMs: ms(request_timeout_s), keepAliveMs: ms(keep_alive_timeout_s) };
  const filesLimit = openFilesLimit();
  const maxConnections = connectionsPerListener(config.server.max_connections, config.gateway.ollama_listen ? 2 : 1, filesLimit);
  if (maxConnections < config.server.max_connections) {
    log.warn('server.max_connections lowered to fit the open-files limit; raise it (ulimit -n, LimitNOFILE=) to hold more', { max_connections: maxConnections, configured: config.server.max_connections, open_files_limit: filesLimit });
  }
  const connectionLimit = (listener: string) => ({
    max: maxConnections,
    onDropped: (count: number) => log.warn('closed new connections: the listener holds server.max_connections already', { listener, dropped: count, max_connections: maxConnections }),
  });
  const http = await bind(config.server.host, config.server.port, timeouts, connectionLimit('api')).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
  const ollamaListen = config.gateway.ollama_listen;
  const ollamaHttp = ollamaListen
    ? await bind(ollamaListen.host, ollamaListen.port, timeouts, connectionLimit('gateway.ollama_listen')).catch(async (err: NodeJS.ErrnoException) => {
        await http.close();
        await store.close();
        // Most often Ollama itself, on the port the listener was meant to take over.
        if (err.code === 'EADDRINUSE') err.message += ' (gateway.ollama_listen: is an Ollama listening there?)';
        throw err;
      })
    : null;

  const bus = new EventBus();
  // A gateway client's backpressure on the call producing its answer: the gateway opens valves, workers follow them.
  const flows = new TaskFlows();
  const workerEvents = new WorkerEvents();
  // Counts before recovery: recovery's own "requeued" events then move them to the truth.
  const stats = new QueueStats(await store.tasks.countByStatus(), bus);
  const transitions = storeTransitions(store.tasks, bus, clock, config.tasks, log.child({ actor: 'store' }));
  // Agent CLIs get an allowlist of this environment, never a value of Koubou's own secrets.
  const secrets = [config.server.api_token, config.nats.pool_token].filter((s): s is string => s !== null);
  const backends = config.backends.map((b) => createBackend(b, { inheritedEnv: process.env, secrets, log: log.child({ backend: b.name }) }));
  const { failure_threshold, probe_base_ms, probe_max_ms } = config.pool.backpressure;
  // Written only by the scheduler; /health and /workers read them.
  const gates = new BackendGates({ failureThreshold: failure_threshold, probeBaseMs: probe_base_ms, probeMaxMs: probe_max_ms }, clock);
  const backendHealth = new BackendHealth(backends, clock, gates);
  // In the background: a backend that is down at start-up is no reason not to start (tasks wait for it).
  const startupCheck = warnAboutBackends(config.backends, backends, log);
  // Gauges read the live pool at scrape time, through `load`, bound once the tree exists.
  let load: () => Promise<SchedulerLoad> = async () => ({ pending: 0, running: 0, idleWorkers: 0, workers: 0, draining: false });
  const metrics = new Metrics(bus, workerEvents, {
    tasks: () => stats.snapshot(),
    async workers() {
      const [l, rows] = await Promise.all([load(), store.workers.list({ includeGone: false })]);
      return { total: l.workers, idle: l.idleWorkers, busy: l.running, restarts: rows.reduce((sum, w) => sum + w.restarts, 0) };
    },
  });
  const nats = config.nats.url ? coordinatorNats(config, log, () => core, () => nodePort) : null;
  const recordBeats = store.workers.beats.bind(store.workers);
  const onWorkerEvent = (e: Omit<WorkerEvent, 'at'>) => workerEvents.publish({ ...e, at: clock.now() });

  /** Open gateway requests end cancelled (their clients' connections are gone with this or the last process). */
  async function cancelGatewayRequests(reason: string, code?: string): Promise<void> {
    const gone = await store.tasks.cancelOpenChats(reason, code);
    for (const e of gone) bus.publish(e);
    if (gone.length > 0) log.warn('cancelled LLM gateway requests whose clients are gone', { count: gone.length, tasks: gone.slice(0, 20).map((e) => e.taskId), reason });
  }

  /** Puts every task still in progress back in the queue, with a warn line naming them (the first 100). */
  async function requeueUnfinished(reason: string): Promise<void> {
    const requeued = await store.tasks.requeueOrphans(reason);
    for (const e of requeued) bus.publish(e);
    if (requeued.length > 0) log.warn('tasks in progress went back to the queue', { count: requeued.length, tasks: requeued.slice(0, 100).map((e) => e.taskId), reason });
  }

  const localCaps = config.backends.map((b) => capabilities(b.model, b));
  /**
   * The node slots this store heard from in the last NODES_REMEMBERED_MS: after a restart of this process their nodes
   * rejoin in a moment, and a task naming a model only they serve waits for them (pool-view.ts NODE_RETURN_MS).
   */
  let nodesHeardFrom: { key: string; caps: Capabilities }[] = [];
  let heardFromAt = 0;
  const recentNodes = async () =>
    (await store.workers.list({ includeGone: true }))
      .filter((w) => w.location === 'remote' && w.lastHeartbeat !== null && clock.now() - w.lastHeartbeat <= NODES_REMEMBERED_MS)
      .map((w) => ({ key: `heard:${w.id}`, caps: capabilities(w.model, {}) }));
  // Recovery runs at start-up and again on each reboot of the tree, whose gateway clients are still connected.
  let started = false;
  let tree: Tree;
  try {
    tree = await startTree({
      async recover() {
        // At start-up, gateway requests first: their clients went with the last process, so they are not run again.
        if (!started) await cancelGatewayRequests('the coordinator restarted; the LLM gateway client that sent this request was disconnected');
        started = true;
        await requeueUnfinished('found in progress at start-up');
        nodesHeardFrom = await recentNodes();
        heardFromAt = clock.now();
        await store.workers.markAllGone();
        const pending = await store.tasks.pendingQueue();
        metrics.adopt(pending, clock.now());
        return pending;
      },
      scheduler: {
        transitions,
        clock,
        newLease: newSecretId,
        log: log.child({ actor: 'scheduler' }),
        routing: config.routing,
        gates,
        scaling: {
          min: new Map(config.backends.map((b) => [b.name, b.min_workers])),
          idleMs: config.pool.idle_ms,
          checkEveryMs: config.pool.heartbeat_interval_ms / 2,
        },
        localBackends: localCaps,
        awaitedNodes: { heardFrom: () => nodesHeardFrom, returnMs: config.pool.node_return_ms },
      },
      pool: {
        backends: config.backends.map((b, i) => ({
          backend: backends[i]!,
          minWorkers: b.min_workers,
          maxWorkers: b.max_workers,
          timeoutS: b.timeout_s ?? config.tasks.default_timeout_s,
          caps: localCaps[i]!,
        })),
        transitions,
        clock,
        log: log.child({ actor: 'pool-manager' }),
        heartbeatIntervalMs: config.pool.heartbeat_interval_ms,
        heartbeatTimeoutMs: config.pool.heartbeat_timeout_ms,
        restart: config.pool.restart,
        maxAttempts: config.tasks.max_attempts,
        maxOutputBytes: config.tasks.max_output_bytes,
        flowOf: (taskId) => flows.find(taskId),
        spawnWorker: extra.spawnWorker ?? spawnWorker,
        retryDelayMs: (attempt) => backoffMs(attempt - 1, config.tasks.retry_base_ms, config.tasks.retry_max_ms),
        recordStarted: (w) => store.workers.started(w),
        recordBeats,
        onBackendFailed: (name, reason) => backendHealth.markFailed(name, reason),
        onWorkerEvent,
        recordBackendCall: (backend, seconds, code) => metrics.backendCall(backend, seconds, code),
      },
      nodes: {
        clock,
        log: log.child({ actor: 'node-registry' }),
        heartbeatIntervalMs: config.pool.heartbeat_interval_ms,
        heartbeatTimeoutMs: config.pool.heartbeat_timeout_ms,
        spawnRemoteWorker: (parent, name, slot) => {
          if (!nats) throw new Error('a node joined, but this coordinator has no NATS link');
          return spawnRemoteWorker(parent, name, slot, nats.remote);
        },
        recordStarted: (w) => store.workers.started(w),
        recordBeats,
        onWorkerEvent,
      },
      restart: config.pool.restart,
      clock,
      log: log.child({ actor: 'root' }),
      onGiveUp: onFatal,
    });
  } catch (err) {
    await http.close();
    await ollamaHttp?.close();
    await store.close();
    throw err;
  }

  // A backend the start-up check found down gets an open circuit: the first tasks wait for a probe instead of each
  // spending a refused connection on it. After the tree exists, however soon the check answered.
  void startupCheck.then((down) => {
    for (const backend of down) dispatch(tree.scheduler, { type: 'backendUnreachable', backend });
  });

  /** A question to the scheduler, answered on `replyTo`. */
  const ask = <T>(msg: (replyTo: Ref<T>) => SchedulerMsg) => query(tree.scheduler, msg as (replyTo: Ref<unknown>) => SchedulerMsg, QUERY_TIMEOUT_MS) as Promise<T>;
  load = () => ask<SchedulerLoad>((replyTo) => ({ type: 'getLoad', replyTo }));
  // What koubou-nodes do through the NATS bridge: join, beat, report outcomes.
  const nodePort = createNodePort({ tree: nodeTreeLink(tree), transitions, leaseHolder: (id, lease) => store.tasks.leaseHolder(id, lease), log: log.child({ adapter: 'nodes' }) });
  const service = new TaskService({
    tasks: store.tasks,
    bus,
    clock,
    stats,
    files: { root: config.files.root, maxBytes: config.files.max_bytes, exclude: config.files.exclude, protectedPaths: storeFiles(config.store.path) },
    workspaceRoots: config.backends.flatMap((b) => (b.command?.workspace_root ? workspaceRoots(b.command.workspace_root) : [])),
    remoteWorkspaceRoots: () => nodePort.workspaceRoots(),
    maxPending: config.queue.max_pending,
    notifyQueued: coalescing((tasks) => dispatch(tree.scheduler, { type: 'tasksQueued', tasks })),
    notifyCancelled: (taskId, lease) => dispatch(tree.scheduler, { type: 'taskCancelled', taskId, lease }),
    notifyReprioritized: (task) => dispatch(tree.scheduler, { type: 'reprioritized', task }),
    output: new OutputBuffers(bus),
    estimate: (taskId) => ask<QueueEstimate | null>((replyTo) => ({ type: 'estimate', taskId, replyTo })),
  });
  let natsStatus: BridgeStatus | null = null;
  const core: Core = assembleCore({
    config,
    flows,
    store,
    service,
    bus,
    workerEvents,
    metrics,
    stats,
    backendHealth,
    logs: extra.logs ?? new LogRing(),
    load,
    activity: () => ask<WorkerActivity[]>((replyTo) => ({ type: 'activity', replyTo })),
    natsStatus: () => natsStatus,
    nodeOllamaVersions: () => nodePort.ollamaVersions(),
    nodesHeardFrom: () => ({ models: nodesHeardFrom.map((n) => n.caps.models[0]!), since: heardFromAt }),
  });

  // Late: the bridge serves the core, which exists only now. It outlives reboots of the rest of the tree.
  const bridge = nats ? tree.startBridge({ ...nats.bridge, clock, log: log.child({ actor: 'nats-bridge' }), onStatus: (s) => (natsStatus = s) }) : null;
  const gateway = gatewayRoutes(core, log, clock);
  const { app, attach } = createApp(core, log, clock, [gateway]);
  http.serve(app, attach);
  if (ollamaHttp && ollamaListen) ollamaHttp.serve(createRoutesApp(core, log, ollamaListen.host, ollamaListenerRoutes(gateway)));
  store.advertise(http.url);
  // When NATS is up, it is served by the time this returns; when it is not, the bridge keeps trying in the background.
  await nats?.firstAttempt;

  /** Stops taking work, lets running tasks finish within graceMs, requeues the rest, closes everything. */
  async function drainAndClose(graceMs: number): Promise<void> {
    service.stopAccepting();
    dispatch(tree.scheduler, { type: 'drain' });
    const deadline = clock.now() + graceMs;
    // A plain timer, not the clock's: those are unref'd, and a drain must keep the process alive until it is done.
    while ((await load()).running > 0 && clock.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    await query(tree.pool, (replyTo) => ({ type: 'stopAll' as const, replyTo }), QUERY_TIMEOUT_MS);
    await query(tree.nodes, (replyTo) => ({ type: 'stopAll' as const, replyTo }), QUERY_TIMEOUT_MS);
    // Their clients are still connected, and are answered this (503, Retry-After) before the connections close.
    await cancelGatewayRequests('the coordinator shut down before answering; the request is not run again', 'shutting_down');
    await requeueUnfinished('coordinator shut down before the task finished');
    service.releaseWaits();
    // After the drain, so sync delegates waiting over NATS have had their answers.
    if (bridge) await query(bridge, (replyTo) => ({ type: 'close' as const, replyTo }), QUERY_TIMEOUT_MS);
    tree.stop();
    await Promise.all(backends.map((b) => b.close()));
    await store.close();
  }

  let stopping: Promise<void> | null = null;
  return {
    core,
    http,
    ollamaHttp,
    stop() {
      stopping ??= (async () => {
        const grace = config.pool.shutdown_grace_ms;
        // Stop new connections first; sync waiters are answered or cut off once the core has drained.
        const closed = Promise.all([http.close(grace + 1_000), ollamaHttp?.close(grace + 1_000)]);
        // The bridge closes after the drain, so sync delegates waiting over NATS still get their answer.
        await drainAndClose(grace);
        await closed;
      })();
      return stopping;
    },
  };
}

/** What koubou-nodes' messages do to the tree: membership goes to the node registry, runs and calls to the scheduler. */
function nodeTreeLink(tree: Tree): NodeTreeLink {
  return {
    join: (nodeId, session, slots) => dispatch(tree.nodes, { type: 'nodeJoined', nodeId, session, slots }),
    beat: (nodeId, session) => query(tree.nodes, (replyTo: Ref<boolean>) => ({ type: 'nodeBeat' as const, nodeId, session, replyTo }), QUERY_TIMEOUT_MS),
    idle: (nodeId, session, slot) => dispatch(tree.nodes, { type: 'remoteIdle', nodeId, session, slot }),
    leave: (nodeId, session) => query(tree.nodes, (replyTo: Ref<boolean>) => ({ type: 'nodeLeaving' as const, nodeId, session, replyTo }), QUERY_TIMEOUT_MS),
    sessionOwner: (session) => query(tree.nodes, (replyTo: Ref<string | null>) => ({ type: 'sessionOwner' as const, session, replyTo }), QUERY_TIMEOUT_MS),
    runsInHand: (nodeId, leases) => dispatch(tree.scheduler, { type: 'nodeRuns', nodeId, leases }),
    backendCall: (report) => dispatch(tree.scheduler, { type: 'backendCall', report }),
    backendPushback: (report) => query(tree.scheduler, (replyTo: Ref<number>) => ({ type: 'backendCall' as const, report, replyTo }), QUERY_TIMEOUT_MS),
    retryLater: (task, delayMs, why) => dispatch(tree.scheduler, { type: 'retryLater', task, delayMs, why }),
  };
}

/** Runs until SIGTERM/SIGINT, then drains and exits 0. A second signal exits at once. */
export async function runCoordinator(config: KoubouConfig, log: Logger, logs?: LogRing): Promise<void> {
  const fatal = (err: Error) => {
    log.error('supervision gave up; exiting', { error: err.message });
    process.exit(70);
  };
  const coordinator = await startCoordinator(config, log, fatal, logs ? { logs } : {});
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn('second signal; exiting without draining', { signal });
      process.exit(1);
    }
    signalled = true;
    log.info('draining before exit', { signal, grace_ms: config.pool.shutdown_grace_ms });
    const exit = async (code: number) => {
      await log.flush?.();
      process.exit(code);
    };
    coordinator.stop().then(
      () => {
        log.info('stopped cleanly');
        void exit(0);
      },
      (err: Error) => {
        log.error('shutdown failed', { error: err.message });
        void exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Only now: whoever reads this line may signal at once, and until the handlers exist a signal kills undrained.
  log.info(LISTENING_MSG, {
    url: coordinator.http.url,
    ...(coordinator.ollamaHttp ? { ollama_url: coordinator.ollamaHttp.url } : {}),
    store: config.store.path,
    backends: config.backends.map((b) => `${b.name} (${b.type} ${b.model}${b.command ? ` in ${b.command.workspace_root ?? 'a scratch folder'}` : ` at ${b.url}`}, ${b.min_workers}-${b.max_workers} workers)`),
  });
}
