/**
 * Issue #4 benchmark (b): a fast node and an 8x slower one (the seeds' measured ratio), each a real koubou-node
 * with its own fake Ollama, share a batch. The makespan is compared with the lower bound (total work over total
 * capacity, from the run times measured in the batch itself) and with round-robin, whose makespan follows from the
 * same measured times: it gives each node half the batch, so the slow node finishes last.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { api } from '../helpers/api.js';
import { startTestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm } from '../helpers/fake-llm.js';
import { startNodeProcess } from '../helpers/node-process.js';

export interface SchedulingOptions {
  natsUrl: string;
  tasks: number;
  fastMs: number;
  slowMs: number;
  /** Slots per node. */
  concurrency: number;
  speedAware: boolean;
}

export interface SchedulingRun {
  makespanMs: number;
  lowerBoundMs: number;
  roundRobinMs: number;
  onSlow: number;
}

type Finished = { worker_id: string; started_at: string; finished_at: string };

export async function runScheduling(opts: SchedulingOptions): Promise<SchedulingRun> {
  const fast = await startFakeLlm({ delayMs: opts.fastMs, recordRequests: false });
  const slow = await startFakeLlm({ delayMs: opts.slowMs, recordRequests: false });
  // The coordinator's own backend takes only refactoring tasks, so the batch runs on the two nodes alone.
  const koubou = await startTestCoordinator({
    backends: [{ url: fast.url, min_workers: 0, max_workers: 1, types: ['refactoring'] }],
    extra: { nats: { url: opts.natsUrl }, routing: { speed_aware: opts.speedAware } },
  });
  const node = (id: string, url: string) =>
    startNodeProcess(['--nats', opts.natsUrl, '--id', id, '--backend', 'ollama', '--url', url, '--model', 'm', '--concurrency', String(opts.concurrency), '--log-level', 'warn']);
  const nodes = [node('fast', fast.url), node('slow', slow.url)];
  const client = api(koubou.url);
  try {
    await eventually(async () => ((await client.get('/workers')).body.workers as { location: string; status: string }[]).filter((w) => w.location === 'remote' && w.status !== 'gone').length === 2 * opts.concurrency, 15_000);
    // Warm-up, so both nodes' speeds are measured before the batch (as in a pool that has been running a while).
    await batch(client, 4 * opts.concurrency, 'warm');
    await sleep(100);
    const started = Date.now();
    const done = await batch(client, opts.tasks, 'batch');
    const makespanMs = Math.max(...done.map((d) => Date.parse(d.finished_at))) - started;
    const onNode = (id: string) => done.filter((d) => d.worker_id.startsWith(`remote:${id}:`));
    const meanRun = (ds: Finished[], fallback: number) =>
      ds.length === 0 ? fallback : ds.reduce((sum, d) => sum + Date.parse(d.finished_at) - Date.parse(d.started_at), 0) / ds.length;
    const fastRun = meanRun(onNode('fast'), opts.fastMs);
    const slowRun = meanRun(onNode('slow'), opts.slowMs);
    const capacity = opts.concurrency / fastRun + opts.concurrency / slowRun;
    const half = Math.ceil(opts.tasks / 2 / opts.concurrency);
    return {
      makespanMs,
      lowerBoundMs: opts.tasks / capacity,
      roundRobinMs: Math.max(half * fastRun, half * slowRun),
      onSlow: onNode('slow').length,
    };
  } finally {
    for (const n of nodes) n.child.kill('SIGKILL');
    await koubou.close();
    await fast.close();
    await slow.close();
  }
}

async function batch(client: ReturnType<typeof api>, count: number, tag: string): Promise<Finished[]> {
  const ids = await Promise.all(Array.from({ length: count }, async (_, i) => (await client.delegate({ prompt: `${tag} ${i}` })).body.task_id as string));
  const open = new Set(ids);
  await eventually(async () => {
    for (const id of open) {
      if ((await client.status(id)).body.status !== 'completed') return false;
      open.delete(id);
    }
    return true;
  }, 120_000, 50);
  return Promise.all(ids.map(async (id) => (await client.status(id)).body as Finished));
}
