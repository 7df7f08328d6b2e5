/**
 * Watchers that never read (issue 10 part 3): raw sockets on /events and /ws that stop reading are dropped, with a last
 * `dropped` message, before the coordinator's memory grows past a bound, while a watcher that reads gets every event.
 * The coordinator runs in its own process so that its RSS is its own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startCoordinatorProcess, type CoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { stalledPost, stalledSse, stalledWebSocket, type StalledClient } from '../helpers/stalled-client.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

const STALLED_SSE = 20;
const STALLED_WS = 5;
const TASKS = 40;
const WARM_UP = 20;
/** Each task streams ~200 KB of output in ~1 KB pieces: 8 MB per watcher, 200 MB if nobody were dropped. */
const PROMPT = Array.from({ length: 200 }, (_, i) => String(i % 10).repeat(1000)).join(' ');
const BUFFER_BYTES = 256 * 1024;
/** What the coordinator's peak RSS may grow by while the stalled watchers are fed (the test's bound, not a target). */
const RSS_BOUND_MIB = 64;

const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('watchers that never read', () => {
  let fake: FakeLlm;
  let dir: ReturnType<typeof tempDir>;
  let koubou: CoordinatorProcess;
  const stalled: StalledClient[] = [];
  let reader: SseClient;

  before(async () => {
    fake = await startFakeLlm({ recordRequests: false });
    dir = tempDir();
    const { file } = writeTestConfig({
      dir: dir.path,
      backends: [{ url: fake.url, min_workers: 4, max_workers: 4 }],
      extra: { server: { stream_buffer_bytes: BUFFER_BYTES }, log: { level: 'warn' } },
    });
    koubou = await startCoordinatorProcess(file);
  });
  after(async () => {
    reader?.close();
    for (const s of stalled) s.destroy();
    koubou.child.kill('SIGTERM');
    await koubou.exited;
    await fake.close();
    dir.remove();
  });

  const metrics = async () => (await fetch(`${koubou.url}/metrics`)).text();
  const submit = async (prompt: string) => {
    const res = await fetch(`${koubou.url}/task/delegate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) });
    assert.equal(res.status, 202);
    return ((await res.json()) as { task_id: string }).task_id;
  };

  it('drops them, each with a last dropped message, before RSS grows past the bound; a reading watcher gets everything', async () => {
    // Warm up, so the baseline includes what any load costs.
    for (let i = 0; i < WARM_UP; i++) await submit(PROMPT);
    await eventually(async () => sampleValue(await metrics(), 'koubou_tasks', { state: "completed" }) === WARM_UP, 30_000);
    const baseline = peakRssMiB(koubou.child.pid!);

    reader = await openSse(`${koubou.url}/events?kind=completed`);
    for (let i = 0; i < STALLED_SSE; i++) stalled.push(stalledSse(koubou.url, '/events'));
    for (let i = 0; i < STALLED_WS; i++) stalled.push(stalledWebSocket(koubou.url, '/ws', JSON.stringify({ type: 'subscribe', channel: 'task' })));
    await eventually(async () => {
      const m = await metrics();
      return sampleValue(m, 'koubou_stream_clients', { stream: '/events' }) === STALLED_SSE + 1 && sampleValue(m, 'koubou_stream_clients', { stream: '/ws' }) === STALLED_WS;
    }, 10_000);

    const ids: string[] = [];
    for (let i = 0; i < TASKS; i++) ids.push(await submit(PROMPT));
    await eventually(async () => {
      const m = await metrics();
      return sampleValue(m, 'koubou_stream_clients_dropped_total', { stream: '/events' }) === STALLED_SSE && sampleValue(m, 'koubou_stream_clients_dropped_total', { stream: '/ws' }) === STALLED_WS;
    }, 60_000);

    // The last thing each kind of stalled watcher is sent is `dropped`, and the server ends the connection.
    const sse = (await stalled[0]!.readToEnd()).toString();
    assert.equal([...sse.matchAll(/^event: (\w+)$/gm)].at(-1)?.[1], 'dropped', sse.slice(-300));
    const ws = await stalled[STALLED_SSE]!.readUntil((b) => b.includes(CLOSE_1008));
    const dropAt = ws.indexOf('"type":"dropped"');
    assert.ok(dropAt >= 0 && dropAt < ws.indexOf(CLOSE_1008), 'dropped, then a close frame with code 1008');

    await eventually(() => ids.every((id) => reader.messages.some((m) => m.data.task_id === id && m.data.kind === 'completed')), 60_000);
    const grew = peakRssMiB(koubou.child.pid!) - baseline;
    assert.ok(grew < RSS_BOUND_MIB, `peak RSS grew by ${grew.toFixed(1)} MiB (bound ${RSS_BOUND_MIB})`);
    console.log(`# peak RSS grew by ${grew.toFixed(1)} MiB while ${STALLED_SSE + STALLED_WS} stalled watchers were fed ${(TASKS * PROMPT.length) / 1e6} MB each`);
  });

  it('drops an MCP call whose streamed answer (progress notifications) is never read', async () => {
    // ~20,000 words: as many progress notifications, each with the output's last 200 characters.
    const words = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delegate_task', arguments: { prompt: words, wait_seconds: 45 }, _meta: { progressToken: 'p' } } };
    const client = stalledPost(koubou.url, '/mcp', { accept: 'application/json, text/event-stream' }, JSON.stringify(call));
    stalled.push(client);
    await eventually(async () => sampleValue(await metrics(), 'koubou_stream_clients_dropped_total', { stream: '/mcp' }) === 1, 60_000);
    const text = (await client.readToEnd()).toString();
    assert.equal([...text.matchAll(/^event: (\w+)$/gm)].at(-1)?.[1], 'dropped', text.slice(-300));
  });
});

/** One sample of Prometheus text with exactly this name and label set (0 when absent). */
function sampleValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} `;
  const line = text.split('\n').find((l) => l.startsWith(wanted));
  return line ? Number(line.slice(wanted.length)) : 0;
}

/** A server's close frame (unmasked) with code 1008 and the 8-byte reason "too slow". */
const CLOSE_1008 = Buffer.from([0x88, 0x0a, 0x03, 0xf0]);
