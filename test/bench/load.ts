/**
 * The load the delegation and peers benchmarks put on a server that speaks Koubou's task API (Koubou itself, or a peer
 * built to answer the same requests): async submits from concurrent clients until a number of tasks have completed,
 * sync delegates one after another, and the same backend call made directly, for the latency a server adds.
 */
import type { Pool } from 'undici';
import { cpuSeconds } from './processes.js';
import { percentile, timeEach } from './stats.js';

export interface AsyncPhase {
  tasksPerSecond: number;
  /** CPU time of the server's processes (user + system, all of them added) per task, ms; resolution 10 ms / tasks. */
  cpuMsPerTask: number;
}

/**
 * Submits `tasks` async delegates from `clients` concurrent clients and waits until /health counts `completedBefore +
 * tasks` completed. Throws when a task fails or a submit is not answered 202. `pids`: the server's processes.
 */
export async function asyncPhase(api: Pool, o: { tasks: number; clients: number; completedBefore: number; pids: number[] }): Promise<AsyncPhase> {
  const cpuBefore = totalCpu(o.pids);
  let submitted = 0;
  const started = performance.now();
  const client = async () => {
    while (submitted < o.tasks) {
      submitted++;
      const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `bench task ${submitted}` }) });
      await res.body.dump();
      if (res.statusCode !== 202) throw new Error(`submit answered ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  for (;;) {
    const res = await api.request({ method: 'GET', path: '/health' });
    const health = (await res.body.json()) as { queue: { completed: number; failed: number } };
    if (health.queue.failed > 0) throw new Error(`${health.queue.failed} bench tasks failed`);
    if (health.queue.completed >= o.completedBefore + o.tasks) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  return { tasksPerSecond: o.tasks / seconds, cpuMsPerTask: ((totalCpu(o.pids) - cpuBefore) * 1000) / o.tasks };
}

function totalCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

export interface Latencies {
  p50: number;
  p99: number;
}

/** `samples` sequential sync delegates after `warmUp` uncounted ones, ms. */
export async function syncLatencies(api: Pool, samples: number, warmUp = 50): Promise<Latencies> {
  return summarize(await timeEach(samples, warmUp, () => syncDelegate(api)));
}

/** The same number of calls a worker makes (one streaming Ollama chat, read to the end), straight to `backend`. */
export async function directLatencies(backend: Pool, samples: number, warmUp = 50): Promise<Latencies> {
  return summarize(await timeEach(samples, warmUp, () => callBackend(backend)));
}

function summarize(ms: number[]): Latencies {
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function callBackend(backend: Pool): Promise<void> {
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
