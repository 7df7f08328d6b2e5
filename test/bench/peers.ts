/**
 * Issue #16 (2): Koubou against what a Node user would pick instead, in the same run on the same machine: BullMQ on
 * Redis (peers/bullmq-main.ts) doing the same delegations, and a bare pass-through proxy (peers/proxy-main.ts) as the
 * floor of the latency a server in between adds. Each round starts every server fresh and runs Koubou and BullMQ in
 * alternating order, so a load that drifts over the run weighs on both alike; ratios are taken per round.
 */
import { loadavg } from 'node:os';
import { Pool } from 'undici';
import { measureServer, type DelegationOptions, type DelegationRun } from './delegation.js';
import { directLatencies, type Latencies } from './load.js';
import { startBullmq, startKoubou, startProxy, type ServerUnderTest } from './peers/servers.js';

export interface PeersRound {
  koubouFirst: boolean;
  koubou: DelegationRun;
  bullmq: DelegationRun;
  /** The proxy's own direct figures are taken next to it. */
  proxy: { direct: Latencies; through: Latencies };
  /** The 1-minute load average before and after the round. */
  load: [number, number];
}

/** One round; `round` decides the order (even: Koubou first). */
export async function runPeersRound(round: number, o: DelegationOptions, redisServer: string): Promise<PeersRound> {
  const loadBefore = loadavg()[0]!;
  const koubouFirst = round % 2 === 0;
  const measure = async (start: () => Promise<ServerUnderTest>) => {
    const server = await start();
    try {
      return await measureServer(server, o);
    } finally {
      await server.stop();
    }
  };
  const koubou = () => measure(() => startKoubou(o.fakeUrl, o.workers));
  const bullmq = () => measure(() => startBullmq(o.fakeUrl, o.workers, redisServer));
  const [first, second] = koubouFirst ? [await koubou(), await bullmq()] : [await bullmq(), await koubou()];
  const proxy = await proxyLatencies(o);
  return { koubouFirst, koubou: koubouFirst ? first : second, bullmq: koubouFirst ? second : first, proxy, load: [loadBefore, loadavg()[0]!] };
}

async function proxyLatencies(o: DelegationOptions): Promise<PeersRound['proxy']> {
  const server = await startProxy(o.fakeUrl);
  const through = new Pool(server.url, { connections: 4 });
  const backend = new Pool(o.fakeUrl, { connections: 4 });
  try {
    return { direct: await directLatencies(backend, o.latencySamples), through: await directLatencies(through, o.latencySamples) };
  } finally {
    await through.close();
    await backend.close();
    await server.stop();
  }
}
