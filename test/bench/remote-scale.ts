/**
 * Remote scale: many koubou-node slots on one nats-server, against a coordinator in its own process.
 * For one total of remote slots (a few node processes, each announcing up to ~1000 slots, beating every 1 s):
 *  - join time: from starting the nodes to /health counting every slot;
 *  - coordinator CPU (share of one core, user + system from /proc/<pid>/stat) over a steady window with heartbeats
 *    only, then over a window of paced zero-delay tasks (default 20/s) submitted while slots are free;
 *  - dispatch latency of those tasks: `queued` → `assigned` in each task's event history (the coordinator's clock,
 *    1 ms resolution); and on the bench's clock (sub-ms), from sending the submit to receiving the task's `assigned`
 *    event and its first `progress` chunk on one SSE stream (/events?kind=assigned,progress) — the first chunk means
 *    the run reached the node, the node's worker called the fake LLM and its first piece came back through NATS
 *    (that stream is open during the load window, so its small cost is in the load CPU figure);
 *  - end-to-end latency of sequential sync delegates (client clock);
 *  - the nodes' CPU (all node processes summed) in the heartbeat-only window, and the coordinator's peak RSS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import YAML from 'yaml';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { cpuSeconds, cpuShareOver, killAndWait, peakRssMiB, startBenchNode, type BenchNode } from './processes.js';
import { watchEventTimes, type EventTimes } from './sse-times.js';
import { percentile, timeEach } from './stats.js';

export interface RemoteScaleOptions {
  fakeUrl: string;
  natsUrl: string;
  /** Total remote slots, spread evenly over ceil(slots / slotsPerNode) node processes. */
  slots: number;
  slotsPerNode: number;
  /** Length of each CPU window. */
  windowMs: number;
  /** Pause after the last slot joined, before measuring (the join's writes and garbage settle). */
  settleMs: number;
  /** Tasks per second during the load window. */
  rate: number;
  syncSamples: number;
  /** When set, the coordinator runs with --cpu-prof and writes its profile (at exit) into this directory. */
  cpuProfDir?: string | undefined;
}

export interface RemoteScaleRun {
  slots: number;
  nodes: number;
  joinMs: number;
  /** Percent of one core. */
  cpuIdle: number;
  cpuLoad: number;
  nodesCpuIdle: number;
  tasks: number;
  /** Tasks of the load window that ran on a local worker (should be 0: all dispatch goes to remote slots). */
  localRuns: number;
  /** queued → assigned, from the task's history (coordinator clock, whole ms). */
  dispatchP50: number;
  dispatchP99: number;
  dispatchMax: number;
  /** Submit sent → `assigned` received on the SSE stream (bench clock). */
  seenAssignedP50: number;
  seenAssignedP99: number;
  /** Submit sent → first `progress` chunk received on the SSE stream (bench clock). */
  firstChunkP50: number;
  firstChunkP99: number;
  syncP50: number;
  syncP99: number;
  peakRssMiB: number;
  /** Slots /health still counts after the last measurement (should equal `slots`: no node lost its lease). */
  slotsAtEnd: number;
}

/** Heartbeats as the issue asks (1 s); the timeout is the default. */
const HEARTBEAT = { heartbeat_interval_ms: 1000, heartbeat_timeout_ms: 3000 };
/** The config validator allows at most 256 workers per backend, so a node's slots are split over several backends. */
const SLOTS_PER_BACKEND = 250;

/** One run at one slot count: a fresh coordinator (fresh store) and fresh nodes on the shared nats-server. */
export async function runRemoteScale(opts: RemoteScaleOptions): Promise<RemoteScaleRun> {
  const dir = tempDir('koubou-bench-scale-');
  const { file } = writeTestConfig({
    dir: dir.path,
    // The coordinator needs one backend; with min_workers 0 it starts a local worker only when tasks wait and no slot
    // is free, which this benchmark never lets happen (localRuns checks it).
    backends: [{ name: 'local', url: opts.fakeUrl, model: 'local-model', min_workers: 0, max_workers: 1 }],
    extra: { nats: { url: opts.natsUrl }, pool: { ...HEARTBEAT, shutdown_grace_ms: 500 }, log: { level: 'warn' } },
  });
  const profiling = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=coordinator-${opts.slots}-slots-${Date.now()}.cpuprofile`] : [];
  const coordinator = await startCoordinatorProcess(file, {}, profiling);
  const nodes: BenchNode[] = [];
  const api = new Pool(coordinator.url, { connections: 8 });
  try {
    const counts = spread(opts.slots, Math.ceil(opts.slots / opts.slotsPerNode));
    const t0 = performance.now();
    counts.forEach((n, i) => nodes.push(startBenchNode(['--config', nodeConfig(dir.path, i, n, opts), '--id', `scale-${i}`])));
    await waitForSlots(api, opts.slots, nodes, coordinator);
    const joinMs = performance.now() - t0;
    await sleep(opts.settleMs);

    const pid = coordinator.child.pid!;
    const [cpuIdle, ...nodeShares] = await cpuShareOver([pid, ...nodes.map((n) => n.child.pid!)], opts.windowMs);

    const seen = await watchEventTimes(`${coordinator.url}/events?kind=assigned,progress`);
    await seen.ready;
    const cpuBefore = cpuSeconds(pid);
    const loadStart = performance.now();
    const submits = await pacedSubmits(api, opts.rate, opts.windowMs);
    const cpuLoad = ((cpuSeconds(pid) - cpuBefore) / ((performance.now() - loadStart) / 1000)) * 100;

    const histories = await waitForHistories(api, submits.map((s) => s.id));
    const dispatch = histories.map((h) => h.assigned - h.queued);
    const seenAssigned = await sinceSubmit(seen, submits, 'assigned');
    const firstChunk = await sinceSubmit(seen, submits, 'progress');
    seen.close();
    const sync = await syncLatencies(api, opts.syncSamples);
    const slotsAtEnd = (await getJson<{ workers: { total: number } }>(api, '/health')).workers.total;
    return {
      slots: opts.slots,
      nodes: nodes.length,
      joinMs,
      cpuIdle: cpuIdle!,
      cpuLoad,
      nodesCpuIdle: nodeShares.reduce((a, b) => a + b, 0),
      tasks: submits.length,
      localRuns: histories.filter((h) => !h.workerId.startsWith('remote:')).length,
      dispatchP50: percentile(dispatch, 50),
      dispatchP99: percentile(dispatch, 99),
      dispatchMax: percentile(dispatch, 100),
      seenAssignedP50: percentile(seenAssigned, 50),
      seenAssignedP99: percentile(seenAssigned, 99),
      firstChunkP50: percentile(firstChunk, 50),
      firstChunkP99: percentile(firstChunk, 99),
      syncP50: percentile(sync, 50),
      syncP99: percentile(sync, 99),
      peakRssMiB: peakRssMiB(pid),
      slotsAtEnd,
    };
  } finally {
    await api.close();
    await Promise.all(nodes.map(killAndWait));
    coordinator.child.kill('SIGTERM');
    await coordinator.exited;
    dir.remove();
  }
}

/** n split into k nearly equal whole parts. */
function spread(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** A node config file with `slots` slots on the fake LLM, as backends of at most SLOTS_PER_BACKEND workers each. */
function nodeConfig(dir: string, index: number, slots: number, opts: RemoteScaleOptions): string {
  const backends = spread(slots, Math.ceil(slots / SLOTS_PER_BACKEND)).map((n, i) => ({
    name: `fake${i}`,
    type: 'ollama',
    url: opts.fakeUrl,
    model: 'bench-model',
    min_workers: 0,
    max_workers: n,
  }));
  const file = join(dir, `node-${index}.yaml`);
  writeFileSync(file, YAML.stringify({ nats: { url: opts.natsUrl }, backends }));
  return file;
}

async function getJson<T>(api: Pool, path: string): Promise<T> {
  const res = await api.request({ method: 'GET', path });
  const body = (await res.body.json()) as T;
  if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${JSON.stringify(body)}`);
  return body;
}

/** Until the scheduler counts every remote slot as an idle worker. */
async function waitForSlots(api: Pool, slots: number, nodes: BenchNode[], coordinator: CoordinatorProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const health = await getJson<{ workers: { total: number; idle: number } }>(api, '/health');
    if (health.workers.total === slots && health.workers.idle === slots) return;
    const dead = nodes.find((n) => n.child.exitCode !== null || n.child.signalCode !== null);
    if (dead) throw new Error(`a koubou-node exited before joining:\n${dead.output()}`);
    if (Date.now() > deadline) {
      throw new Error(`only ${health.workers.total} of ${slots} slots joined within 120 s\n${coordinator.output().slice(-4000)}\n${nodes[0]?.output() ?? ''}`);
    }
    await sleep(200);
  }
}

interface Submit {
  id: string;
  /** performance.now() just before the request was sent. */
  sentAt: number;
}

/** Submits zero-delay async tasks on a fixed schedule (not waiting for answers, so a slow answer does not slow the pace). */
async function pacedSubmits(api: Pool, rate: number, windowMs: number): Promise<Submit[]> {
  const count = Math.max(1, Math.round((rate * windowMs) / 1000));
  const t0 = performance.now();
  const submits: Promise<Submit>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    submits.push(
      (async () => {
        const sentAt = performance.now();
        const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `scale probe ${i}` }) });
        const body = (await res.body.json()) as { task_id: string };
        if (res.statusCode !== 202) throw new Error(`submit answered ${res.statusCode}: ${JSON.stringify(body)}`);
        return { id: body.task_id, sentAt };
      })(),
    );
  }
  const ids = await Promise.all(submits);
  // The window ends one interval after the last submit.
  const rest = t0 + windowMs - performance.now();
  if (rest > 0) await sleep(rest);
  return ids;
}

/** Per submit, milliseconds from sending it to first seeing `kind` for its task on the SSE stream. */
async function sinceSubmit(seen: EventTimes, submits: Submit[], kind: string): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  while (submits.some((s) => !seen.first.get(s.id)?.has(kind))) {
    if (Date.now() > deadline) throw new Error(`the SSE stream did not show ${kind} for every bench task within 10 s`);
    await sleep(20);
  }
  return submits.map((s) => seen.first.get(s.id)!.get(kind)! - s.sentAt);
}

interface History {
  queued: number;
  assigned: number;
  completed: number;
  workerId: string;
}

/** Each task's first `queued`, first `assigned` and its `completed` time (epoch ms), once all have completed. */
async function waitForHistories(api: Pool, ids: string[]): Promise<History[]> {
  const deadline = Date.now() + 60_000;
  const out: History[] = [];
  for (const id of ids) {
    for (;;) {
      const { events } = await getJson<{ events: { kind: string; at: string; worker_id: string | null }[] }>(api, `/task/${id}/events`);
      const at = (kind: string) => events.find((e) => e.kind === kind);
      const failed = at('failed');
      if (failed) throw new Error(`bench task ${id} failed: ${JSON.stringify(failed)}`);
      const [queued, assigned, completed] = [at('queued'), at('assigned'), at('completed')];
      if (queued && assigned && completed) {
        out.push({ queued: Date.parse(queued.at), assigned: Date.parse(assigned.at), completed: Date.parse(completed.at), workerId: assigned.worker_id ?? '' });
        break;
      }
      if (Date.now() > deadline) throw new Error(`bench task ${id} did not complete within 60 s: ${JSON.stringify(events)}`);
      await sleep(20);
    }
  }
  return out;
}

/** Milliseconds per sequential sync delegate, after a short warm-up. */
async function syncLatencies(api: Pool, n: number): Promise<number[]> {
  const once = async () => {
    const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'scale sync probe', sync: true }) });
    const body = (await res.body.json()) as { status: string };
    if (body.status !== 'completed') throw new Error(`sync delegate ended ${body.status}: ${JSON.stringify(body)}`);
  };
  return timeEach(n, 10, once);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
