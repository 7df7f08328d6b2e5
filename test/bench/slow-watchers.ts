/**
 * Issue 10's slow-reader benchmark: the coordinator's peak RSS and submit p99 under a steady open-loop submit rate
 * (default 200 tasks/s), with 200 /events watchers of which half never read, against the same run without watchers.
 * A watcher that never read is dropped once server.stream_buffer_bytes wait for it; the readers get every event.
 */
import { Pool } from 'undici';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { stalledSse, type StalledClient } from '../helpers/stalled-client.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { cpuSeconds, peakRssMiB } from './processes.js';
import { percentile } from './stats.js';

export interface SlowWatchersOptions {
  fakeUrl: string;
  /** Submits per second, sent on a fixed schedule whatever the answers' latency. */
  rate: number;
  seconds: number;
  /** Watchers that read, and watchers that never read (0 and 0 for the baseline). */
  readers: number;
  stalled: number;
  workers: number;
}

export interface SlowWatchersRun {
  peakRssMiB: number;
  submitP50: number;
  submitP99: number;
  /** The coordinator's CPU seconds (user + system) over the submits: less swayed by a busy machine than latency. */
  cpuS: number;
  /** Watchers the coordinator dropped (from /metrics). */
  dropped: number;
  submitted: number;
}

export async function runSlowWatchers(o: SlowWatchersOptions): Promise<SlowWatchersRun> {
  const dir = tempDir('koubou-bench-');
  const { file } = writeTestConfig({
    dir: dir.path,
    backends: [{ url: o.fakeUrl, model: 'bench-model', min_workers: o.workers, max_workers: o.workers }],
    extra: { log: { level: 'warn' } },
  });
  const proc = await startCoordinatorProcess(file);
  const api = new Pool(proc.url, { connections: 64 });
  const readers: AbortController[] = [];
  const stalled: StalledClient[] = [];
  try {
    for (let i = 0; i < o.readers; i++) readers.push(await readForever(`${proc.url}/events`));
    for (let i = 0; i < o.stalled; i++) stalled.push(stalledSse(proc.url, '/events'));
    const cpuBefore = cpuSeconds(proc.child.pid!);
    const latencies = await submitAtRate(api, o.rate, o.seconds);
    const cpuS = cpuSeconds(proc.child.pid!) - cpuBefore;
    const metrics = await (await api.request({ method: 'GET', path: '/metrics' })).body.text();
    const dropped = [...metrics.matchAll(/^koubou_stream_clients_dropped_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    return { peakRssMiB: peakRssMiB(proc.child.pid!), submitP50: percentile(latencies, 50), submitP99: percentile(latencies, 99), cpuS, dropped, submitted: latencies.length };
  } finally {
    for (const r of readers) r.abort();
    for (const s of stalled) s.destroy();
    await api.close();
    proc.child.kill('SIGTERM');
    await proc.exited;
    dir.remove();
  }
}

/** A watcher that reads and discards everything; abort to stop it. */
async function readForever(url: string): Promise<AbortController> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  void (async () => {
    try {
      for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) {
        // discarded
      }
    } catch {
      // aborted
    }
  })();
  return controller;
}

/** Sends `rate` submits per second for `seconds` on a fixed schedule; the latency of each, in ms. */
async function submitAtRate(api: Pool, rate: number, seconds: number): Promise<number[]> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      (async () => {
        const t = performance.now();
        const res = await api.request({ method: 'POST', path: '/task/delegate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `watched task ${i}` }) });
        await res.body.dump();
        if (res.statusCode !== 202) throw new Error(`submit answered ${res.statusCode}`);
        latencies.push(performance.now() - t);
      })(),
    );
  }
  await Promise.all(inFlight);
  return latencies;
}
