/**
 * A koubou-node: worker actors for this machine's LLM backends and agent CLIs (command backends), joined to a
 * coordinator's pool over NATS. It runs what it is assigned, streams progress, delivers each outcome until the coordinator acknowledges it, beats, and joins
 * again by itself whenever the coordinator has forgotten it (a coordinator restart, a long NATS outage).
 */
import { randomUUID } from 'node:crypto';
import { dispatch, start, stop } from 'nact';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../backends/answer.js';
import { createBackend } from '../backends/index.js';
import type { BackendSettings } from '../backends/types.js';
import type { Capabilities } from '../routing/capabilities.js';
import type { SpawnWorker, WorkerHandle } from '../routing/worker-protocol.js';
import { systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import { connectNats, redactedServers, type NatsLink, type Payload } from '../nats/connection.js';
import { NODE_PROTOCOL_VERSION, nodeSubjects, remoteWorkerId } from '../nats/node-protocol.js';
import { backoffMs } from '../supervision/backoff.js';
import { fitOutcome } from './fit-outcome.js';
import { watchOllamaVersions } from './ollama-versions.js';
import type { Task } from '../tasks/task.js';
import type { TaskTransitions } from '../tasks/task-transitions.js';
import { warnAboutBackends } from '../backends/startup-check.js';

export interface NodeOptions {
  natsUrl: string;
  prefix: string;
  nodeId: string;
  token: string | null;
  nkeySeedFile?: string | null;
  credsFile?: string | null;
  tlsCaFile?: string | null;
  backends: (BackendSettings & { concurrency: number; caps: Capabilities })[];
  /** The environment the node was started with; agent CLIs get only an allowlist of it (see backends/command/env.ts). */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

interface Settings {
  session: string;
  heartbeat_interval_ms: number;
  max_attempts: number;
  retry_base_ms: number;
  retry_max_ms: number;
  default_timeout_s: number;
  /** Absent from coordinators that predate it: the default applies. */
  max_output_bytes?: number;
}

/**
 * How long a node stopping on purpose lets its runs finish (they then spend no attempt) before it leaves the pool; a
 * second signal stops it at once.
 */
export const DRAIN_MS = 30_000;

/** How long an outcome is offered to the coordinator before the node gives up on it (the task is requeued there). */
const OUTCOME_PATIENCE_MS = 10 * 60_000;

/**
 * Joins the pool and serves it until stop(), its slots run by `spawnWorker` (actors/worker.ts's, given by the
 * composition root, src/main.ts). Rejects when the coordinator refuses the node (wrong token).
 */
export async function runNode(opts: NodeOptions, spawnWorker: SpawnWorker): Promise<{ stop(): Promise<void> }> {
  const versions = watchOllamaVersions(opts.backends);
  const link = await connectWhenNatsAnswers(opts);
  const subjects = nodeSubjects(opts.prefix);
  // An agent CLI never sees the pool token (NATS credentials are files, and KOUBOU_*/NATS_* names are never passed).
  const commandEnv = { inheritedEnv: opts.env, secrets: opts.token ? [opts.token] : [] };
  const slots = opts.backends.flatMap((b) => Array.from({ length: b.concurrency }, () => ({ settings: b, backend: createBackend(b, commandEnv) })));
  // A server that does not answer, or lacks its model, is said at start as on a coordinator: its tasks still come here.
  const checked = opts.backends.flatMap((b) => slots.filter((s) => s.settings === b).slice(0, 1));
  void warnAboutBackends(checked.map((s) => s.settings), checked.map((s) => s.backend), opts.log);
  // Which process this is: the coordinator tells a restart of this node from another process using the same --id.
  const instance = randomUUID();
  const announced = slots.map((s) => ({
    backend: s.backend.name,
    model: s.backend.model,
    types: s.settings.caps.types,
    models: s.settings.caps.models,
    max_tokens: s.settings.caps.maxTokens,
    // An agent CLI: the coordinator sends it tasks whose workdir lies under these roots (paths on this machine).
    ...(s.settings.caps.workspaces ? { type: 'command', workspace_roots: s.settings.caps.workspaceRoots } : {}),
  }));
  const system = start();
  let settings: Settings | null = null;
  let workers: WorkerHandle[] = [];
  let generation = 0;
  let stopped = false;
  let draining = false;
  /** Runs for a session whose join answer has not been read yet. */
  const early: Payload[] = [];
  /** What each slot runs now, so a crashed worker's task can be handed back. */
  const running = new Map<number, { taskId: string; lease: string }>();

  /** Fresh workers for each session: whatever ran under an older one was requeued by the coordinator. */
  async function join(): Promise<void> {
    // The token is sent only when set; with per-node nkeys the NATS server already proves who is joining.
    const answer = await link.request(subjects.join(opts.nodeId), { ...(opts.token ? { token: opts.token } : {}), instance, slots: announced, ollama_versions: versions.current() }, 5000);
    // Another process holds this id: this one waits for it to go (its own earlier run, restarted) or for the operator.
    if ((answer.error as { code?: unknown } | undefined)?.code === 'node_id_in_use') throw new NodeIdTaken(describe(answer.error));
    if (answer.error) throw new Error(`the coordinator refused this node: ${describe(answer.error)}`);
    for (const w of workers) stop(w.ref);
    settings = answer as unknown as Settings;
    generation++;
    workers = slots.map((slot, i) => spawnSlot(i, slot.backend, settings!));
    for (const p of early.splice(0)) if (p.session === settings.session) startRun(p);
    opts.log.info('joined the pool', { node: opts.nodeId, slots: slots.length });
  }

  function spawnSlot(i: number, backend: ReturnType<typeof createBackend>, s: Settings): WorkerHandle {
    const { session } = s;
    const idle = () => {
      running.delete(i);
      link.publish(subjects.idle(opts.nodeId), { session, slot: i });
    };
    return spawnWorker(
      system,
      `slot-${i}-${generation}`,
      {
        id: remoteWorkerId(opts.nodeId, i),
        incarnation: generation,
        backend,
        location: 'remote',
        group: backend.name,
        caps: slots[i]!.settings.caps,
        transitions: linkTransitions(link, subjects, opts, session),
        notifyIdle: idle,
        // The coordinator schedules retries when it records them.
        retryLater: () => {},
        maxAttempts: s.max_attempts,
        retryDelayMs: (attempt) => backoffMs(attempt - 1, s.retry_base_ms, s.retry_max_ms),
        clock: systemClock,
        log: opts.log,
        heartbeatMs: s.heartbeat_interval_ms,
        defaultTimeoutS: s.default_timeout_s,
        maxOutputBytes: s.max_output_bytes ?? DEFAULT_MAX_OUTPUT_BYTES,
        recordBackendCall: () => {},
        // The node's backends have no gate of their own yet; a deferral still reaches the coordinator as one, and the
        // coordinator's gate for this backend says how long it waits.
        reportCall: () => {},
        reportPushback: async () => 0,
      },
      // The node beats as a whole (below); a worker's own beats stay on this machine.
      () => {},
      (err) => {
        opts.log.error('a worker crashed; its task goes back to the coordinator', { slot: i, error: err.message });
        const run = running.get(i);
        if (run) {
          const error = { code: 'worker_crashed', message: err.message };
          void deliver(link, subjects, opts, { session, kind: 'retry', task_id: run.taskId, lease: run.lease, error, delay_ms: 0 });
        }
        if (!stopped && settings?.session === session) workers[i] = spawnSlot(i, backend, s);
        idle();
      },
    );
  }

  /** A node may start before its coordinator: it keeps asking, and stops only when refused. */
  async function joinWhenACoordinatorAnswers(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await join();
      } catch (err) {
        if ((err as Error).message.startsWith('the coordinator refused')) throw err;
        if (err instanceof NodeIdTaken) opts.log.warn('another node process holds this --id; trying again until it leaves', { node: opts.nodeId, error: err.message });
        else if (attempt === 0) opts.log.warn('no coordinator answered yet; still trying to join', { error: (err as Error).message });
        await sleep(backoffMs(attempt, 250, 5000));
      }
    }
  }

  function startRun(p: Payload): void {
    const slot = Number(p.slot);
    const worker = workers[slot];
    if (!worker) return;
    const task = p.task as Task;
    if (draining) {
      // Stopping: the task goes back to the queue without spending an attempt; the slot takes nothing more.
      const error = { code: 'node_stopping', message: `node ${opts.nodeId} is stopping` };
      void deliver(link, subjects, opts, { session: p.session, kind: 'defer', task_id: task.id, lease: String(p.lease), error, delay_ms: 0, backend: slots[slot]!.backend.name });
      return;
    }
    running.set(slot, { taskId: task.id, lease: String(p.lease) });
    dispatch(worker.ref, { type: 'run', task, lease: String(p.lease) });
  }

  link.subscribe(subjects.run(opts.nodeId), (p) => {
    if (settings?.session === p.session) startRun(p);
    // The coordinator may assign the moment it has answered the join, and that run can be read before the answer:
    // keep it until the session is known (bounded: one per slot).
    else if (early.length < slots.length) early.push(p);
  });
  link.subscribe(subjects.cancel(opts.nodeId), (p) => {
    const worker = settings?.session === p.session ? workers[Number(p.slot)] : undefined;
    if (worker) dispatch(worker.ref, { type: 'cancel', lease: String(p.lease) });
  });

  // The first join already says which Ollama versions this node has (bounded: each backend gets a second to answer).
  await versions.ready;
  await joinWhenACoordinatorAnswers();
  const beating = (async () => {
    while (!stopped) {
      await sleep(settings!.heartbeat_interval_ms);
      if (stopped) break;
      try {
        const leases = [...running.values()].map((r) => r.lease);
        const answer = await link.request(subjects.beat(opts.nodeId), { session: settings!.session, leases, ollama_versions: versions.current() }, 2000);
        if (answer.known === false) await join();
      } catch (err) {
        // NATS or the coordinator is away: keep beating; the client reconnects by itself.
        opts.log.debug('heartbeat not answered', { error: (err as Error).message });
      }
    }
  })();

  return {
    async stop() {
      // Runs in hand finish first (bounded by DRAIN_MS), then the node leaves at once rather than after its heartbeat
      // timeout, so nothing is sent to it meanwhile and its runs spend no attempt.
      draining = true;
      opts.log.info('stopping: letting runs in hand finish, then leaving the pool', { node: opts.nodeId, running: running.size, drain_ms: DRAIN_MS });
      const until = Date.now() + DRAIN_MS;
      while (running.size > 0 && Date.now() < until) await sleep(100);
      if (settings) await link.request(subjects.leave(opts.nodeId), { session: settings.session }, 2000).catch(() => undefined);
      stopped = true;
      versions.stop();
      await beating;
      stop(system);
      await Promise.all(slots.map((s) => s.backend.close()));
      await link.close();
    },
  };
}

/** A node may start before the NATS server (a machine booting): it keeps trying, as it does for its coordinator. */
async function connectWhenNatsAnswers(opts: NodeOptions): Promise<NatsLink> {
  for (let attempt = 0; ; attempt++) {
    try {
      const link = await connectNats({
        url: opts.natsUrl,
        name: `koubou-node ${opts.nodeId}`,
        log: opts.log,
        nkeySeedFile: opts.nkeySeedFile,
        credsFile: opts.credsFile,
        tlsCaFile: opts.tlsCaFile,
        inboxPrefix: nodeSubjects(opts.prefix).nodeInbox(opts.nodeId),
      });
      return link.speaking(NODE_PROTOCOL_VERSION);
    } catch (err) {
      if (attempt === 0) opts.log.warn('NATS not reachable yet; still trying', { servers: redactedServers(opts.natsUrl), error: (err as Error).message });
      await sleep(backoffMs(attempt, 250, 5000));
    }
  }
}

/** The worker's transitions on a node: results travel to the coordinator, which records them under their lease. */
function linkTransitions(link: NatsLink, subjects: ReturnType<typeof nodeSubjects>, opts: NodeOptions, session: string): TaskTransitions {
  const base = { session };
  return {
    assign: () => {
      throw new Error('a node never assigns');
    },
    requeue: async () => null,
    finish: (taskId, lease, outcome) => {
      const fitted = fitOutcome(outcome, link.maxPayload());
      if (fitted.cut !== 'none') opts.log.warn(fitted.cut === 'diff' ? "the result's diff was cut to fit in one NATS message" : 'the answer does not fit in one NATS message; the task fails', { task: taskId, max_payload: link.maxPayload() });
      return deliver(link, subjects, opts, { ...base, kind: 'finish', task_id: taskId, lease, outcome: fitted.outcome });
    },
    retry: async (taskId, lease, error, delayMs) => {
      await deliver(link, subjects, opts, { ...base, kind: 'retry', task_id: taskId, lease, error, delay_ms: delayMs });
      return null;
    },
    defer: async (taskId, lease, error, delayMs, backend) => {
      await deliver(link, subjects, opts, { ...base, kind: 'defer', task_id: taskId, lease, error, delay_ms: delayMs, backend });
      return null;
    },
    progress: (taskId, _workerId, lease, chunk, delta) => link.publish(subjects.progress(opts.nodeId), { session, task_id: taskId, lease, chunk, ...(delta ? { delta } : {}) }),
  };
}

/** Offers an outcome until the coordinator answers (it may be restarting, or NATS may be down for a while). */
async function deliver(link: NatsLink, subjects: ReturnType<typeof nodeSubjects>, opts: NodeOptions, payload: Payload): Promise<boolean> {
  const deadline = Date.now() + OUTCOME_PATIENCE_MS;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    try {
      const answer = await link.request(subjects.outcome(opts.nodeId), payload, 5000);
      if (answer.error) opts.log.warn('the coordinator rejected an outcome', { task: payload.task_id, error: describe(answer.error) });
      return answer.recorded === true;
    } catch {
      await sleep(backoffMs(attempt, 200, 5000));
    }
  }
  opts.log.error('gave up delivering an outcome; the coordinator requeues the task', { task: payload.task_id });
  return false;
}

/** The coordinator's answer to a join under an id another live node process holds. */
class NodeIdTaken extends Error {}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return `${e.code ?? 'error'}: ${e.message ?? ''}`;
}
