/**
 * Issue 10's slow-reader benchmark: the coordinator's peak RSS and submit p99 under a steady open-loop submit rate
 * (default 200 tasks/s), with 200 /events watchers of which half never read, against the same run without watchers.
 * A watcher that never read is dropped once server.stream_buffer_bytes wait for it; the readers get every event.
 * The watchers live in a process of their own, so the process timing the submits does nothing else; the event-loop
 * delays of the coordinator and of the submitter tell which of them was late when p99 grows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { cpuSeconds, peakRssMiB } from './processes.js';
import { percentile } from './stats.js';

const WATCHERS = fileURLToPath(new URL('./watchers-main.js', import.meta.url));

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
  /** The coordinator's event-loop delay over the submits, p99 and max in ms (its /metrics, 10 ms resolution). */
  coordinatorLagP99: number;
  coordinatorLagMax: number;
  /** The submitting process's own event-loop delay, p99 in ms: high means the load generator, not the server, was late. */
  benchLagP99: number;
  /** The CPU seconds of the process holding the watchers, over the submits. */
  watchersCpuS: number;
  /** Bytes the reading watchers received in all. */
  readBytes: number;
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
  let watchers: WatchersProcess | null = null;
  try {
    watchers = await startWatchers(proc.url, o.readers, o.stalled);
    // Scraping resets the coordinator's event-loop histogram (prom-client), so the next scrape covers the submits.
    await scrape(api);
    const ownLag = monitorEventLoopDelay({ resolution: 1 });
    ownLag.enable();
    const cpuBefore = cpuSeconds(proc.child.pid!);
    const watchersCpuBefore = cpuSeconds(watchers.child.pid!);
    const latencies = await submitAtRate(api, o.rate, o.seconds);
    const cpuS = cpuSeconds(proc.child.pid!) - cpuBefore;
    const watchersCpuS = cpuSeconds(watchers.child.pid!) - watchersCpuBefore;
    ownLag.disable();
    const metrics = await scrape(api);
    const dropped = [...metrics.matchAll(/^koubou_stream_clients_dropped_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    const lagMs = (stat: string) => Number(new RegExp(`^koubou_nodejs_eventloop_lag_${stat}_seconds (\\S+)`, 'm').exec(metrics)?.[1]) * 1000;
    return {
      peakRssMiB: peakRssMiB(proc.child.pid!),
      submitP50: percentile(latencies, 50),
      submitP99: percentile(latencies, 99),
      cpuS,
      coordinatorLagP99: lagMs('p99'),
      coordinatorLagMax: lagMs('max'),
      benchLagP99: ownLag.percentile(99) / 1e6,
      watchersCpuS,
      readBytes: await watchers.stop(),
      dropped,
      submitted: latencies.length,
    };
  } finally {
    watchers?.child.kill('SIGTERM');
    await api.close();
    proc.child.kill('SIGTERM');
    await proc.exited;
    dir.remove();
  }
}

async function scrape(api: Pool): Promise<string> {
  return (await api.request({ method: 'GET', path: '/metrics' })).body.text();
}

interface WatchersProcess {
  child: ChildProcess;
  /** Disconnects every watcher and resolves with the bytes the readers received. */
  stop(): Promise<number>;
}

/** Connects the watchers from their own process (watchers-main.ts) and resolves once all are connected. */
function startWatchers(url: string, readers: number, stalled: number): Promise<WatchersProcess> {
  const child = spawn(process.execPath, [WATCHERS, url, String(readers), String(stalled)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, number> | null;
  return next().then((ready) => {
    if (ready?.ready !== readers + stalled) throw new Error(`the watchers process did not connect its ${readers + stalled} watchers`);
    return {
      child,
      stop: async () => {
        child.stdin!.end();
        return (await next())?.readBytes ?? NaN;
      },
    };
  });
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
