/**
 * Node SIGKILL → task requeued: a coordinator process and a koubou-node (one slot) running a task that hangs in the
 * fake LLM; a second node stands by. The first node is SIGKILLed; the coordinator only learns it from the missing
 * heartbeats. Measured on the bench's clock from the kill to the task's `requeued` event arriving on an SSE stream
 * (/events?task=…), and to its `assigned` event on the standby node.
 */
import { randomUUID } from 'node:crypto';
import { api as apiClient } from '../helpers/api.js';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { openSse } from '../helpers/sse.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { killAndWait, startBenchNode, type BenchNode } from './processes.js';

export interface NodeKillOptions {
  fakeUrl: string;
  natsUrl: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /**
   * Extra wait before the kill. The steps before it take nearly the same time on every run, so without it every kill
   * would land at the same point between two of the victim's beats; spreading it over one interval covers them all.
   */
  phaseMs: number;
}

export interface NodeKillRun {
  killToRequeuedMs: number;
  killToReassignedMs: number;
}

export async function runNodeKill(opts: NodeKillOptions): Promise<NodeKillRun> {
  const dir = tempDir('koubou-bench-kill-');
  const { file } = writeTestConfig({
    dir: dir.path,
    // No local worker unless tasks wait with no free slot; then it would hang on the same marker, harmlessly.
    backends: [{ name: 'local', url: opts.fakeUrl, model: 'local-model', min_workers: 0, max_workers: 1 }],
    extra: {
      nats: { url: opts.natsUrl },
      pool: { heartbeat_interval_ms: opts.heartbeatIntervalMs, heartbeat_timeout_ms: opts.heartbeatTimeoutMs, shutdown_grace_ms: 100 },
      log: { level: 'warn' },
    },
  });
  const coordinator = await startCoordinatorProcess(file);
  const client = apiClient(coordinator.url);
  const nodes: BenchNode[] = [];
  const startNode = (id: string) => {
    const node = startBenchNode(['--nats', opts.natsUrl, '--id', id, '--backend', 'ollama', '--url', opts.fakeUrl, '--model', 'bench-model', '--concurrency', '1']);
    nodes.push(node);
    return node;
  };
  const joined = async (n: number) => eventually(async () => (await client.get('/health')).body.workers.total === n, 20_000, 50);
  let sse: Awaited<ReturnType<typeof openSse>> | null = null;
  try {
    const victim = startNode('victim');
    await joined(1);
    // The fake LLM streams a first piece for this marker, then never finishes: the task surely runs on the victim.
    const id = (await client.delegate({ prompt: `[[mode:hang]] ${randomUUID()}` })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress', 10_000, 20);
    const runningOn = (await client.status(id)).body.worker_id as string;
    if (runningOn !== 'remote:victim:0') throw new Error(`the task runs on ${runningOn}, not on the victim node`);
    startNode('standby');
    await joined(2);

    sse = await openSse(`${coordinator.url}/events?task=${id}&kind=requeued,assigned`);
    await eventually(() => sse!.messages.some((m) => m.event === 'ready'), 5000, 5);
    await new Promise((r) => setTimeout(r, opts.phaseMs));
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const seen = (kind: string, worker?: string) => sse!.messages.find((m) => m.event === 'task' && m.data.kind === kind && (!worker || m.data.worker_id === worker));
    await eventually(() => seen('assigned', 'remote:standby:0') !== undefined, opts.heartbeatTimeoutMs * 4, 2);
    const requeued = seen('requeued');
    if (!requeued) throw new Error('the task was reassigned without a requeued event');
    return { killToRequeuedMs: requeued.receivedAt - killedAt, killToReassignedMs: seen('assigned', 'remote:standby:0')!.receivedAt - killedAt };
  } finally {
    sse?.close();
    await Promise.all(nodes.map(killAndWait));
    coordinator.child.kill('SIGTERM');
    await coordinator.exited;
    dir.remove();
  }
}
