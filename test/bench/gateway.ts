/**
 * Issue 15's gateway benchmark: what relaying a streamed answer through the pool adds over calling the backend
 * directly. A stand-in OpenAI server (its own process) streams `tokens` chat.completion.chunk events `tokenMs` apart;
 * the same streamed /v1/chat/completions request goes to it directly and through a coordinator process. Measured per
 * stream, on the client: the gaps between pieces, and (on short answers of three pieces, `ttftSamples` of them per path,
 * since a first token does not depend on the answer's length) the time to the first piece of content (TTFT); then the
 * gaps with 1..64 streams at once, each level directly and through Koubou, `repeats` times with the paths taking turns.
 * The floor, measured in the same round: the same stream through a bare pass-through proxy (peers/proxy-main.ts: undici to the backend, no queue, no store), one at a
 * time and at each concurrency level, so the part of the added time that any server in between costs on this machine
 * is visible.
 */
import http from 'node:http';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { startProxy } from './peers/servers.js';
import { startFakeProcess } from './processes.js';
import { percentile } from './stats.js';

/** Passes of `top` concurrent streams per path before anything is measured. */
const WARM_UP_PASSES = 3;

export interface GatewayOptions {
  tokens: number;
  tokenMs: number;
  /** Sequential streams of `tokens` pieces per side for the gaps. */
  samples: number;
  /**
   * Sequential short streams per side for the TTFT, the paths taking turns. Ten long streams gave a p50 that moved
   * by half a millisecond between rounds; short ones cost a fraction of the time each, so a round can take many.
   */
  ttftSamples: number;
  /** Concurrent stream counts to try, ascending. */
  levels: number[];
  /**
   * Times each level runs per path, the paths taking turns; their gaps are pooled. One 64-stream run gives each path
   * one start-up burst and a p99 that any one stall of any process on the machine moves: pooling makes it repeatable.
   */
  repeats: number;
}

/** p50 and p99 of one measure, directly and through Koubou, ms. */
export interface Compared {
  directP50: number;
  directP99: number;
  koubouP50: number;
  koubouP99: number;
}

export interface GatewayRun {
  ttft: Compared;
  /** TTFT through the bare proxy, p50 and p99, ms (its direct figures are `ttft`'s). */
  proxyTtftP50: number;
  proxyTtftP99: number;
  gap: Compared;
  /** The inter-token gap p99 through the bare proxy, sequential streams, ms. */
  proxyGapP99: number;
  /** Per concurrency level: the inter-token gap p99 directly, through Koubou and through the bare proxy (the floor). */
  levels: { streams: number; directP99: number; koubouP99: number; proxyP99: number }[];
}

/** One stream's timings: time to the first content piece, and the gaps between pieces (ms, client clock). */
interface StreamTimes {
  ttft: number;
  gaps: number[];
  pieces: number;
}

export async function runGateway(o: GatewayOptions): Promise<GatewayRun> {
  const fake = await startFakeProcess(['--chunk-delay', String(o.tokenMs)]);
  const dir = tempDir('koubou-bench-');
  const top = Math.max(...o.levels);
  const { file } = writeTestConfig({
    dir: dir.path,
    backends: [{ name: 'bench', type: 'openai', url: fake.url, model: 'fake-model', min_workers: top, max_workers: top }],
    extra: { log: { level: 'warn' } },
  });
  const koubou = await startCoordinatorProcess(file);
  // As many connections as Koubou has workers at the top level: both relay every stream at once.
  const proxy = await startProxy(fake.url, top);
  // 199 words after "echo(fake-model): ": the answer comes in `tokens` pieces.
  const prompt = Array.from({ length: o.tokens - 1 }, (_, i) => `w${i}`).join(' ');
  const agent = new http.Agent({ keepAlive: true, maxSockets: top * 2 });
  const direct = () => streamTimes(`${fake.url}/v1/chat/completions`, prompt, agent);
  const through = () => streamTimes(`${koubou.url}/v1/chat/completions`, prompt, agent);
  const viaProxy = () => streamTimes(`${proxy.url}/v1/chat/completions`, prompt, agent);
  try {
    // Warm up every path at the top level, one path at a time (connections up to the most used, every worker's first
    // call), WARM_UP_PASSES times so that the JIT has compiled the hot paths of every server, as in a long-running one:
    // one pass left the coordinator, the largest program of the three, measured half-compiled.
    for (const path of [direct, through, viaProxy]) for (let pass = 0; pass < WARM_UP_PASSES; pass++) await Promise.all(Array.from({ length: top }, path));
    const d: StreamTimes[] = [];
    const k: StreamTimes[] = [];
    const p: StreamTimes[] = [];
    for (let i = 0; i < o.samples; i++) {
      d.push(await direct());
      k.push(await through());
      p.push(await viaProxy());
    }
    const compare = (f: (s: StreamTimes) => number[], direct: StreamTimes[], koubou: StreamTimes[]): Compared => ({
      directP50: percentile(direct.flatMap(f), 50),
      directP99: percentile(direct.flatMap(f), 99),
      koubouP50: percentile(koubou.flatMap(f), 50),
      koubouP99: percentile(koubou.flatMap(f), 99),
    });
    // "echo(fake-model): w0 w1": three pieces.
    const short = { direct: [] as StreamTimes[], koubou: [] as StreamTimes[], proxy: [] as StreamTimes[] };
    for (let i = 0; i < o.ttftSamples; i++) {
      short.direct.push(await streamTimes(`${fake.url}/v1/chat/completions`, 'w0 w1', agent));
      short.koubou.push(await streamTimes(`${koubou.url}/v1/chat/completions`, 'w0 w1', agent));
      short.proxy.push(await streamTimes(`${proxy.url}/v1/chat/completions`, 'w0 w1', agent));
    }
    const levels: GatewayRun['levels'] = [];
    for (const streams of o.levels) {
      const gaps = { direct: [] as number[], koubou: [] as number[], proxy: [] as number[] };
      const run = async (one: () => Promise<StreamTimes>, into: number[]) => {
        for (const s of await Promise.all(Array.from({ length: streams }, one))) into.push(...s.gaps);
      };
      for (let i = 0; i < o.repeats; i++) {
        await run(direct, gaps.direct);
        await run(through, gaps.koubou);
        await run(viaProxy, gaps.proxy);
      }
      levels.push({ streams, directP99: percentile(gaps.direct, 99), koubouP99: percentile(gaps.koubou, 99), proxyP99: percentile(gaps.proxy, 99) });
    }
    const proxyTtft = short.proxy.map((x) => x.ttft);
    return {
      ttft: compare((s) => [s.ttft], short.direct, short.koubou),
      proxyTtftP50: percentile(proxyTtft, 50),
      proxyTtftP99: percentile(proxyTtft, 99),
      gap: compare((s) => s.gaps, d, k),
      proxyGapP99: percentile(p.flatMap((x) => x.gaps), 99),
      levels,
    };
  } finally {
    agent.destroy();
    await proxy.stop();
    koubou.child.kill('SIGTERM');
    await koubou.exited;
    fake.child.kill('SIGTERM');
    dir.remove();
  }
}

/**
 * One streamed chat completion: the time from sending to the first SSE event with content, and between events with
 * content (pieces that arrive in one read count as arriving together). Throws unless the stream ends with [DONE].
 */
function streamTimes(url: string, prompt: string, agent: http.Agent): Promise<StreamTimes> {
  const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: prompt }] });
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const times: number[] = [];
    let buffer = '';
    let done = false;
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) return void reject(new Error(`${url} answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(0, end).replace(/^data: /, '');
          buffer = buffer.slice(end + 2);
          if (data === '[DONE]') done = true;
          else if (/"content":"[^"]/.test(data)) times.push(at);
        }
      });
      res.on('end', () => {
        if (!done || times.length === 0) return void reject(new Error(`${url}: the stream ended without [DONE] or content`));
        resolve({ ttft: times[0]! - sent, gaps: times.slice(1).map((t, i) => t - times[i]!), pieces: times.length });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
