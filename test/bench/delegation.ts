/**
 * Issue #2 benchmarks against a real coordinator process and a fake Ollama at zero delay:
 *  (a) tasks/s through the whole path: async submits from 50 concurrent clients until 5,000 tasks completed;
 *  (b) latency a sync delegate adds over calling the same backend directly (p50, p99);
 *  (c) the coordinator's peak RSS.
 */
import { Pool } from 'undici';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { peakRssMiB } from './processes.js';
import { percentile, timeEach } from './stats.js';

export interface DelegationRun {
  tasksPerSecond: number;
  directP50: number;
  directP99: number;
  syncP50: number;
  syncP99: number;
  peakRssMiB: number;
}

export interface DelegationOptions {
  fakeUrl: string;
  tasks: number;
  clients: number;
  workers: number;
  latencySamples: number;
}

/** One full run on a fresh store. */
export async function runDelegation(opts: DelegationOptions): Promise<DelegationRun> {
  const dir = tempDir('koubou-bench-');
  const { file } = writeTestConfig({
    dir: dir.path,
    backends: [{ url: opts.fakeUrl, model: 'bench-model', min_workers: opts.workers, max_workers: opts.workers }],
    extra: { log: { level: 'warn' } },
  });
  const proc = await startCoordinatorProcess(file);
  const api = new Pool(proc.url, { connections: opts.clients, pipelining: 1 });
  const backend = new Pool(opts.fakeUrl, { connections: 4 });
  try {
    const tasksPerSecond = await throughput(api, opts);
    const direct = await timeEach(opts.latencySamples, 50, () => callBackendDirectly(backend));
    const sync = await timeEach(opts.latencySamples, 50, () => syncDelegate(api));
    return {
      tasksPerSecond,
      directP50: percentile(direct, 50),
      directP99: percentile(direct, 99),
      syncP50: percentile(sync, 50),
      syncP99: percentile(sync, 99),
      peakRssMiB: peakRssMiB(proc.child.pid!),
    };
  } finally {
    await api.close();
    await backend.close();
    proc.child.kill('SIGTERM');
    await proc.exited;
    dir.remove();
  }
}

async function throughput(api: Pool, opts: DelegationOptions): Promise<number> {
  let submitted = 0;
  const started = performance.now();
  const client = async () => {
    while (submitted < opts.tasks) {
      submitted++;
      const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `bench task ${submitted}` }) });
      await res.body.dump();
      if (res.statusCode !== 202) throw new Error(`submit answered ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  for (;;) {
    const res = await api.request({ method: 'GET', path: '/health' });
    const health = (await res.body.json()) as { queue: { completed: number; failed: number } };
    if (health.queue.failed > 0) throw new Error(`${health.queue.failed} bench tasks failed`);
    if (health.queue.completed >= opts.tasks) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return opts.tasks / ((performance.now() - started) / 1000);
}

/** What a worker sends: one streaming Ollama chat call, read to the end. */
async function callBackendDirectly(backend: Pool): Promise<void> {
  const res = await backend.request({
    method: 'POST',
    path: '/api/chat',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'latency probe' }], stream: true }),
  });
  await res.body.text();
}

async function syncDelegate(api: Pool): Promise<void> {
  const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'latency probe', sync: true }) });
  const body = (await res.body.json()) as { status: string };
  if (body.status !== 'completed') throw new Error(`sync delegate ended ${body.status}`);
}

