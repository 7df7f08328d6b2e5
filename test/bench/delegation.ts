/**
 * Issue #2 and #16 benchmarks against a real server process and a fake Ollama at zero delay:
 *  (a) tasks/s through the whole path, async submits from concurrent clients until the tasks completed: cold (the
 *      first tasks of a fresh process) and warm (the same number again after a warm-up whose tasks are not counted);
 *  (b) latency a sync delegate adds over calling the same backend directly (p50, p99; after uncounted warm-up calls);
 *  (c) the server's CPU per task (warm) and peak RSS.
 */
import { Pool } from 'undici';
import { asyncPhase, directLatencies, syncLatencies, type AsyncPhase, type Latencies } from './load.js';
import { startKoubou, type ServerUnderTest } from './peers/servers.js';
import { peakRssMiB } from './processes.js';

export interface DelegationRun {
  cold: AsyncPhase;
  warm: AsyncPhase;
  direct: Latencies;
  sync: Latencies;
  peakRssMiB: number;
}

export interface DelegationOptions {
  fakeUrl: string;
  /** Counted tasks of each phase (cold, warm). */
  tasks: number;
  /** Tasks run between the cold and the warm phase, not counted. */
  warmUp: number;
  clients: number;
  workers: number;
  latencySamples: number;
}

/** One full run of Koubou on a fresh store. */
export async function runDelegation(o: DelegationOptions): Promise<DelegationRun> {
  const server = await startKoubou(o.fakeUrl, o.workers);
  try {
    return await measureServer(server, o);
  } finally {
    await server.stop();
  }
}

/** The phases above, on a server that was just started. */
export async function measureServer(server: ServerUnderTest, o: DelegationOptions): Promise<DelegationRun> {
  const api = new Pool(server.url, { connections: o.clients, pipelining: 1 });
  const backend = new Pool(o.fakeUrl, { connections: 4 });
  try {
    const phase = (tasks: number, completedBefore: number) => asyncPhase(api, { tasks, clients: o.clients, completedBefore, pids: server.pids });
    const cold = await phase(o.tasks, 0);
    await phase(o.warmUp, o.tasks);
    const warm = await phase(o.tasks, o.tasks + o.warmUp);
    const direct = await directLatencies(backend, o.latencySamples);
    const sync = await syncLatencies(api, o.latencySamples);
    return { cold, warm, direct, sync, peakRssMiB: peakRssMiB(server.mainPid) };
  } finally {
    await api.close();
    await backend.close();
  }
}
