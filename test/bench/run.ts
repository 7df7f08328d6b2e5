/**
 * `npm run bench`: runs each benchmark several times and prints medians with the range of the rounds. Figures are
 * reported, never asserted.
 */
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/client/errors.js';
import { helpText, parseCommand, type CommandSpec } from '../../src/cli/flags.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { runAgents, type AgentsOptions, type AgentsRun } from './agents.js';
import { runDelegation, type DelegationOptions, type DelegationRun } from './delegation.js';
import { runNodeKill, type NodeKillRun } from './node-kill.js';
import { startFakeProcess } from './processes.js';
import { runRemoteScale, type RemoteScaleOptions, type RemoteScaleRun } from './remote-scale.js';
import { runScheduling, type SchedulingOptions, type SchedulingRun } from './scheduling.js';
import { runEndlessStream } from './endless-stream.js';
import { runGateway, type GatewayOptions, type GatewayRun } from './gateway.js';
import { runSlowWatchers, type SlowWatchersOptions, type SlowWatchersRun } from './slow-watchers.js';
import { fmt, median, medianRange, spread } from './stats.js';
import { runPeersRound, type PeersRound } from './peers.js';
import { findRedisServer } from './peers/redis.js';
import { runStartup, type StartupRun } from './startup.js';
import { bytesPerIdleWorker, timeToRequeue } from './supervision.js';

const n = (value: string, help: string) => ({ type: 'string', value: 'N', default: value, help }) as const;

const BENCH = {
  command: 'npm run bench --',
  args: '',
  about: 'Runs each benchmark --runs times and prints medians.',
  settings: {
    suite: { type: 'string', value: 'NAME', default: 'all', help: 'all, delegation, peers, startup, supervision, remote-scale, node-kill, scheduling, slow-watchers, endless-stream, agents or gateway' },
    runs: n('3', 'runs of each benchmark'),
    tasks: n('5000', 'delegation, peers: tasks of the cold and of the warm phase'),
    'warm-up': n('5000', 'delegation, peers: tasks between the cold and the warm phase, not counted'),
    clients: n('50', 'delegation, peers: concurrent clients'),
    workers: n('32', 'delegation, peers: worker slots (BullMQ: Worker concurrency)'),
    'latency-samples': n('500', 'delegation, peers: latency samples'),
    slots: { type: 'string', value: 'N,N', default: '10,100,1000,5000', help: 'remote-scale: slot counts' },
    'slots-per-node': n('1000', 'remote-scale: slots per node'),
    'window-s': n('10', 'remote-scale: measuring window, s'),
    'settle-s': n('3', 'remote-scale: settling time, s'),
    rate: n('20', 'remote-scale: submits per second'),
    'sync-samples': n('100', 'remote-scale: sync delegate samples'),
    'cpu-prof': { type: 'string', value: 'DIR', help: 'remote-scale: write the coordinator\'s CPU profile here' },
    batch: n('200', 'scheduling: tasks'),
    'fast-ms': n('50', 'scheduling: fast node time per task'),
    'slow-ms': n('400', 'scheduling: slow node time per task'),
    'node-slots': n('2', 'scheduling: slots per node'),
    'watch-rate': n('200', 'slow-watchers: submits per second'),
    'watch-s': n('30', 'slow-watchers: seconds of submits per run'),
    watchers: n('200', 'slow-watchers: /events watchers, half of them never reading'),
    'endless-s': n('60', 'endless-stream: seconds of streaming'),
    'agent-tasks': n('20', 'agents: tasks per measure and round'),
    'repo-files': n('1000', 'agents: files in the repository'),
    'diff-files': n('100', 'agents: files the CLI changes, for the cost of the result'),
    'gateway-tokens': n('200', 'gateway: tokens per streamed answer'),
    'token-ms': n('10', 'gateway: ms between the stand-in\'s tokens'),
    'gateway-samples': n('10', 'gateway: sequential streams per side for the gaps'),
    'ttft-samples': n('100', 'gateway: sequential short streams per side for the TTFT'),
    streams: { type: 'string', value: 'N,N', default: '1,2,4,8,16,32,64', help: 'gateway: concurrent stream counts' },
    'stream-repeats': n('3', 'gateway: runs of each concurrency level per path and round, gaps pooled'),
    help: { type: 'boolean', help: 'print this help' },
  },
} as const satisfies CommandSpec;

async function main(): Promise<void> {
  let flags;
  try {
    flags = parseCommand(BENCH, process.argv.slice(2), {}).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
  if (flags.help) return void process.stdout.write(`${helpText(BENCH)}\n`);
  const runs = Number(flags.runs ?? 3);
  const opts = {
    tasks: Number(flags.tasks ?? 5000),
    warmUp: Number(flags['warm-up'] ?? 5000),
    clients: Number(flags.clients ?? 50),
    workers: Number(flags.workers ?? 32),
    latencySamples: Number(flags['latency-samples'] ?? 500),
  };
  const suite = String(flags.suite ?? 'all');
  const wants = (name: string) => suite === 'all' || suite === name;
  const fake = await startFakeProcess();
  // The remote suites share one nats-server on an ephemeral loopback port (never 4222, which may be in use).
  let nats: NatsServer | null = null;
  try {
    if (wants('delegation')) await delegation(runs, { ...opts, fakeUrl: fake.url });
    if (wants('peers')) await peers(runs, { ...opts, fakeUrl: fake.url });
    if (wants('startup')) await startup(runs, fake.url);
    if (wants('supervision')) await supervision(fake.url, runs);
    if (wants('slow-watchers')) {
      await slowWatchers(runs, {
        fakeUrl: fake.url,
        rate: Number(flags['watch-rate'] ?? 200),
        seconds: Number(flags['watch-s'] ?? 30),
        readers: Number(flags.watchers ?? 200) / 2,
        stalled: Number(flags.watchers ?? 200) / 2,
        workers: opts.workers,
      });
    }
    if (wants('endless-stream')) await endlessStream(Number(flags['endless-s'] ?? 60));
    if (wants('agents')) {
      await agents(runs, { tasks: Number(flags['agent-tasks'] ?? 20), repoFiles: Number(flags['repo-files'] ?? 1000), diffFiles: Number(flags['diff-files'] ?? 100) });
    }
    if (wants('gateway')) {
      await gateway(runs, {
        tokens: Number(flags['gateway-tokens'] ?? 200),
        tokenMs: Number(flags['token-ms'] ?? 10),
        samples: Number(flags['gateway-samples'] ?? 10),
        ttftSamples: Number(flags['ttft-samples'] ?? 100),
        levels: String(flags.streams ?? '1,2,4,8,16,32,64').split(',').map(Number),
        repeats: Number(flags['stream-repeats'] ?? 3),
      });
    }
    if (wants('remote-scale') || wants('node-kill') || wants('scheduling')) nats = await startNatsServer();
    if (wants('remote-scale')) {
      await remoteScale(runs, {
        fakeUrl: fake.url,
        natsUrl: nats!.url,
        slotCounts: String(flags.slots ?? '10,100,1000,5000').split(',').map(Number),
        slotsPerNode: Number(flags['slots-per-node'] ?? 1000),
        windowMs: Number(flags['window-s'] ?? 10) * 1000,
        settleMs: Number(flags['settle-s'] ?? 3) * 1000,
        rate: Number(flags.rate ?? 20),
        syncSamples: Number(flags['sync-samples'] ?? 100),
        cpuProfDir: typeof flags['cpu-prof'] === 'string' ? path.resolve(flags['cpu-prof']) : undefined,
      });
    }
    if (wants('node-kill')) await nodeKill(fake.url, nats!.url, runs);
    if (wants('scheduling')) {
      await scheduling(runs, {
        natsUrl: nats!.url,
        tasks: Number(flags.batch ?? 200),
        fastMs: Number(flags['fast-ms'] ?? 50),
        slowMs: Number(flags['slow-ms'] ?? 400),
        concurrency: Number(flags['node-slots'] ?? 2),
      });
    }
  } finally {
    await nats?.close();
    fake.child.kill('SIGTERM');
  }
}

const load = () => `load average ${os.loadavg().map((l) => fmt(l, 2)).join(' ')}`;

async function delegation(runs: number, o: DelegationOptions): Promise<void> {
  console.log(
    `delegation: ${runs} runs of a fresh coordinator; ${o.tasks} tasks cold, ${o.warmUp} uncounted, ${o.tasks} warm, ` +
      `from ${o.clients} clients, ${o.workers} worker slots, fake Ollama at zero delay; ${load()}`,
  );
  const results: DelegationRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runDelegation(o);
    results.push(r);
    console.log(
      `  run ${i + 1}: cold ${fmt(r.cold.tasksPerSecond, 0)} tasks/s, warm ${fmt(r.warm.tasksPerSecond, 0)} tasks/s, ${fmt(r.warm.cpuMsPerTask, 3)} ms CPU per task; ` +
        `direct p50 ${fmt(r.direct.p50)} ms p99 ${fmt(r.direct.p99)} ms; sync p50 ${fmt(r.sync.p50)} ms p99 ${fmt(r.sync.p99)} ms; peak RSS ${fmt(r.peakRssMiB, 1)} MiB; ${load()}`,
    );
  }
  const s = (f: (r: DelegationRun) => number, digits = 2) => medianRange(results.map(f), digits);
  console.log('medians (range of the runs):');
  console.log(`  (a) throughput, cold        ${s((r) => r.cold.tasksPerSecond, 0)} tasks/s   (target >= 3000)`);
  console.log(`      throughput, warm        ${s((r) => r.warm.tasksPerSecond, 0)} tasks/s`);
  console.log(`      CPU per task, warm      ${s((r) => r.warm.cpuMsPerTask, 3)} ms`);
  console.log(`  (b) added latency p50       ${s((r) => r.sync.p50 - r.direct.p50, 3)} ms   (target <= 1)`);
  console.log(`      added latency p99       ${s((r) => r.sync.p99 - r.direct.p99, 3)} ms   (target <= 5)`);
  console.log(`      direct backend p50, p99 ${s((r) => r.direct.p50, 3)}, ${s((r) => r.direct.p99, 3)} ms`);
  console.log(`  (c) coordinator peak RSS    ${s((r) => r.peakRssMiB, 1)} MiB`);
}

async function peers(runs: number, o: DelegationOptions): Promise<void> {
  const redis = findRedisServer();
  if (redis === null) {
    console.log('peers: skipped: no redis-server on PATH (the BullMQ peer needs one; bullmq and ioredis are devDependencies)');
    return;
  }
  console.log(
    `peers: ${runs} rounds; Koubou, BullMQ (Worker concurrency ${o.workers}, its own redis-server with appendonly yes, appendfsync everysec) ` +
      `in alternating order, then a bare pass-through proxy; each with ${o.tasks} tasks cold, ${o.warmUp} uncounted, ${o.tasks} warm from ` +
      `${o.clients} clients; ${o.latencySamples} sync delegates; fake Ollama at zero delay. CPU counts node + redis for BullMQ`,
  );
  const rounds: PeersRound[] = [];
  const added = (r: DelegationRun, p: 'p50' | 'p99') => r.sync[p] - r.direct[p];
  const proxyAdded = (r: PeersRound, p: 'p50' | 'p99') => r.proxy.through[p] - r.proxy.direct[p];
  for (let i = 0; i < runs; i++) {
    const r = await runPeersRound(i, o, redis);
    rounds.push(r);
    const k = r.koubou;
    const b = r.bullmq;
    const pair = (f: (x: DelegationRun) => number, digits: number) => `${fmt(f(k), digits)} / ${fmt(f(b), digits)} = ${fmt(f(k) / f(b))}x`;
    console.log(`  round ${i + 1} (${r.koubouFirst ? 'Koubou first' : 'BullMQ first'}; load average ${fmt(r.load[0])} → ${fmt(r.load[1])}), Koubou / BullMQ:`);
    console.log(`    async tasks/s cold ${pair((x) => x.cold.tasksPerSecond, 0)}; warm ${pair((x) => x.warm.tasksPerSecond, 0)}`);
    console.log(`    CPU per task, warm ${pair((x) => x.warm.cpuMsPerTask, 3)} ms`);
    console.log(`    added p50 ${pair((x) => added(x, 'p50'), 3)} ms; added p99 ${pair((x) => added(x, 'p99'), 3)} ms; proxy added p50 ${fmt(proxyAdded(r, 'p50'), 3)} p99 ${fmt(proxyAdded(r, 'p99'), 3)} ms`);
    console.log(`    peak RSS ${fmt(k.peakRssMiB, 1)} / ${fmt(b.peakRssMiB, 1)} MiB (BullMQ: node only)`);
  }
  const s = (f: (r: PeersRound) => number, digits = 2) => medianRange(rounds.map(f), digits);
  const ratio = (f: (x: DelegationRun) => number) => s((r) => f(r.koubou) / f(r.bullmq));
  const both = (f: (x: DelegationRun) => number, digits: number) => `${s((r) => f(r.koubou), digits)} vs ${s((r) => f(r.bullmq), digits)}`;
  console.log('medians (range of the rounds); ratios are Koubou / BullMQ, taken per round:');
  console.log(`  async tasks/s, cold        ${both((x) => x.cold.tasksPerSecond, 0)}; ratio ${ratio((x) => x.cold.tasksPerSecond)}   (target >= 1.5)`);
  console.log(`  async tasks/s, warm        ${both((x) => x.warm.tasksPerSecond, 0)}; ratio ${ratio((x) => x.warm.tasksPerSecond)}   (target >= 1.5)`);
  console.log(`  server CPU per task, warm  ${both((x) => x.warm.cpuMsPerTask, 3)} ms; ratio ${ratio((x) => x.warm.cpuMsPerTask)}   (target <= 0.5)`);
  console.log(`  added latency p50          ${both((x) => added(x, 'p50'), 3)} ms; ratio ${ratio((x) => added(x, 'p50'))}; proxy ${s((r) => proxyAdded(r, 'p50'), 3)} ms   (target <= 0.3 ms)`);
  console.log(`  added latency p99          ${both((x) => added(x, 'p99'), 3)} ms; ratio ${ratio((x) => added(x, 'p99'))}; proxy ${s((r) => proxyAdded(r, 'p99'), 3)} ms   (target <= 1.5 ms)`);
  console.log(`  load average (1 min) over the rounds ${s((r) => (r.load[0] + r.load[1]) / 2)}`);
}

async function startup(runs: number, fakeUrl: string): Promise<void> {
  console.log(`startup: ${runs} runs; config/koubou.yaml with its backend on the fake Ollama, a fresh store each run; ${load()}`);
  const results: StartupRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runStartup(fakeUrl);
    results.push(r);
    console.log(
      `  run ${i + 1}: spawn → /health ${fmt(r.toHealthMs, 0)} ms; idle RSS ${fmt(r.idleRssMiB, 1)} MiB (peak ${fmt(r.peakRssMiB, 1)}); ` +
        `spawn \`koubou mcp\` → tools/list ${fmt(r.mcpForwardMs, 0)} ms forwarding, ${fmt(r.mcpEmbeddedMs, 0)} ms with its own coordinator; ` +
        `bare Hono server ${fmt(r.floorToHealthMs, 0)} ms, ${fmt(r.floorIdleRssMiB, 1)} MiB; ${load()}`,
    );
  }
  const s = (f: (r: StartupRun) => number, digits = 0) => medianRange(results.map(f), digits);
  console.log('medians (range of the runs):');
  console.log(`  idle RSS                              ${s((r) => r.idleRssMiB, 1)} MiB   (target <= 64)`);
  console.log(`  spawn → /health                       ${s((r) => r.toHealthMs)} ms   (target <= 250)`);
  console.log(`  spawn koubou mcp → tools/list, forwarding          ${s((r) => r.mcpForwardMs)} ms   (target <= 200)`);
  console.log(`  spawn koubou mcp → tools/list, its own coordinator ${s((r) => r.mcpEmbeddedMs)} ms`);
  console.log(`  floor: a bare Hono server, spawn → /health ${s((r) => r.floorToHealthMs)} ms, idle RSS ${s((r) => r.floorIdleRssMiB, 1)} MiB`);
}

async function slowWatchers(runs: number, o: SlowWatchersOptions): Promise<void> {
  console.log(
    `slow-watchers: ${runs} runs of ${o.seconds} s at ${o.rate} submits/s (open loop), ${o.workers} worker slots; ` +
      `without watchers, then with ${o.readers} reading and ${o.stalled} never-reading /events watchers (held by a process of their own); ` +
      `${os.cpus().length} cores, load average ${loadAverage()}`,
  );
  const base: SlowWatchersRun[] = [];
  const watched: SlowWatchersRun[] = [];
  const show = (r: SlowWatchersRun) =>
    `peak RSS ${fmt(r.peakRssMiB, 1)} MiB, submit p50 ${fmt(r.submitP50)} p99 ${fmt(r.submitP99)} ms, CPU ${fmt(r.cpuS, 1)} s, ` +
    `loop delay p99 ${fmt(r.coordinatorLagP99, 1)} max ${fmt(r.coordinatorLagMax, 1)} ms (submitter's p99 ${fmt(r.benchLagP99, 1)} ms), ${r.dropped} dropped`;
  for (let i = 0; i < runs; i++) {
    base.push(await runSlowWatchers({ ...o, readers: 0, stalled: 0 }));
    watched.push(await runSlowWatchers(o));
    const w = watched.at(-1)!;
    console.log(`  run ${i + 1}: without ${show(base.at(-1)!)}`);
    console.log(`         with    ${show(w)}; watchers' process CPU ${fmt(w.watchersCpuS, 1)} s, ${fmt(w.readBytes / 2 ** 20, 1)} MiB read; load average ${loadAverage()}`);
  }
  const m = (rs: SlowWatchersRun[], f: (r: SlowWatchersRun) => number) => median(rs.map(f));
  const both = (f: (r: SlowWatchersRun) => number, digits = 2) =>
    `${fmt(m(watched, f), digits)} (${spread(watched.map(f), digits)}) / ${fmt(m(base, f), digits)} (${spread(base.map(f), digits)})`;
  console.log('medians (ranges) with / without watchers:');
  console.log(`  peak RSS               ${both((r) => r.peakRssMiB, 1)} MiB: +${fmt(m(watched, (r) => r.peakRssMiB) - m(base, (r) => r.peakRssMiB), 1)} MiB (target <= +64)`);
  console.log(`  submit p99             ${both((r) => r.submitP99)} ms: ${fmt(m(watched, (r) => r.submitP99) / m(base, (r) => r.submitP99))}x (target <= 1.5x)`);
  console.log(`  submit p50             ${both((r) => r.submitP50)} ms`);
  console.log(`  coordinator CPU        ${both((r) => r.cpuS, 1)} s over the submits`);
  console.log(`  coordinator loop p99   ${both((r) => r.coordinatorLagP99, 1)} ms`);
  console.log(`  submitter's loop p99   ${both((r) => r.benchLagP99, 1)} ms`);
  console.log(`  watchers dropped       ${fmt(m(watched, (r) => r.dropped), 0)} of ${o.stalled} that never read; load average now ${loadAverage()}`);
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

async function endlessStream(seconds: number): Promise<void> {
  console.log(`endless-stream: one task on a backend that streams forever (as fast as it is read), RSS sampled each second for ${seconds} s`);
  const r = await runEndlessStream(seconds);
  const cap = r.maxOutputBytes === null ? 'tasks.max_output_bytes is not a key of this config: no cap on answers' : `tasks.max_output_bytes ${r.maxOutputBytes} bytes`;
  console.log(`  ${cap}`);
  console.log(`  coordinator RSS start ${fmt(r.startRssMiB, 1)} MiB, max ${fmt(r.maxRssMiB, 1)} MiB (+${fmt(r.maxRssMiB - r.startRssMiB, 1)}), end ${fmt(r.endRssMiB, 1)} MiB`);
  console.log(`  the task at the end: ${r.status}${r.errorCode ? ` (${r.errorCode})` : ''} (target: failed output_too_large, RSS within the cap plus a constant)`);
}

async function agents(runs: number, o: AgentsOptions): Promise<void> {
  if (!(o.diffFiles <= o.repoFiles)) throw new Error('--diff-files must not exceed --repo-files');
  console.log(
    `agents: ${runs} rounds; a repository of ${o.repoFiles} files; per round ${o.tasks} worktree set-ups and teardowns, ` +
      `results of ${o.diffFiles} changed files, and ${o.tasks} runs of a codex-format stand-in CLI (no delay) directly, ` +
      `then as sync delegates to a coordinator process (isolation none, a worktree, and a worktree made per task)`,
  );
  const results: AgentsRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runAgents(o);
    results.push(r);
    // Wall times on a shared machine follow its load; CPU times hardly do.
    console.log(
      `  round ${i + 1} (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores at its end): worktree set-up p50 ${fmt(r.setupP50, 1)} p99 ${fmt(r.setupP99, 1)} ms, teardown p50 ${fmt(r.teardownP50, 1)} p99 ${fmt(r.teardownP99, 1)} ms ` +
        `(git CPU ${fmt(r.setupCpuMs, 0)} / ${fmt(r.teardownCpuMs, 0)} ms), in the background ${fmt(r.backgroundP50, 1)} ms (git CPU ${fmt(r.backgroundCpuMs, 0)} ms), ` +
        `made on the task's path ${fmt(r.freshSetupP50, 1)} ms (git CPU ${fmt(r.freshSetupCpuMs, 0)} ms); ` +
        `commit + diff of ${o.diffFiles} files p50 ${fmt(r.resultP50, 1)} ms; CLI p50 directly ${fmt(r.directP50, 1)} ms, ` +
        `through Koubou ${fmt(r.noneP50, 1)} ms (none), ${fmt(r.worktreeP50, 1)} ms (worktree, ${r.filesChanged} files in its result), ${fmt(r.freshWorktreeP50, 1)} ms (worktree made per task)`,
    );
  }
  const row = (label: string, f: (r: AgentsRun) => number, target = '') =>
    console.log(`  ${label.padEnd(52)} ${fmt(median(results.map(f)), 1).padStart(7)} ms  (rounds ${spread(results.map(f), 1)})${target}`);
  console.log('medians of the rounds\' p50s, and their range:');
  row('(a) worktree set-up p50 (prepared)', (r) => r.setupP50, '   (target <= 150)');
  row('    worktree set-up p99 (prepared)', (r) => r.setupP99);
  row('    worktree teardown p50 (detach)', (r) => r.teardownP50);
  row('    git CPU time per set-up (mean)', (r) => r.setupCpuMs);
  row('    git CPU time per teardown (mean)', (r) => r.teardownCpuMs);
  row('    in the background per task p50 (remove, prepare)', (r) => r.backgroundP50);
  row('    git CPU time in the background per task (mean)', (r) => r.backgroundCpuMs);
  row('    worktree made on the task\'s path p50', (r) => r.freshSetupP50);
  row('    git CPU time per worktree made (mean)', (r) => r.freshSetupCpuMs);
  row(`(b) commit + diff of ${o.diffFiles} changed files p50`, (r) => r.resultP50);
  row('(c) stand-in CLI run directly p50', (r) => r.directP50);
  row('    through Koubou, isolation none p50', (r) => r.noneP50);
  row('    through Koubou, worktree p50', (r) => r.worktreeP50);
  row('    through Koubou, worktree made per task p50', (r) => r.freshWorktreeP50);
  row('    overhead, isolation none', (r) => r.noneP50 - r.directP50);
  row('    overhead, worktree', (r) => r.worktreeP50 - r.directP50);
  row('    overhead, worktree made per task', (r) => r.freshWorktreeP50 - r.directP50);
}

async function gateway(runs: number, o: GatewayOptions): Promise<void> {
  if (o.levels.some((n) => !Number.isInteger(n) || n < 1) || !(o.tokens >= 2) || !(Number.isInteger(o.repeats) && o.repeats >= 1) || !(Number.isInteger(o.ttftSamples) && o.ttftSamples >= 1)) {
    throw new Error('--streams must list whole numbers, --gateway-tokens be at least 2, and --stream-repeats and --ttft-samples whole numbers of at least 1');
  }
  console.log(
    `gateway: ${runs} rounds; a stand-in OpenAI server streams ${o.tokens} tokens ${o.tokenMs} ms apart; per round ${o.ttftSamples} short streams (three pieces, for the TTFT) and ${o.samples} long ones ` +
      `one at a time directly, through a coordinator process (POST /v1/chat/completions, stream) and through a bare pass-through proxy (the floor), then ${o.levels.join(', ')} streams at once each way, ${o.repeats} times (paths taking turns, gaps pooled)`,
  );
  const results: GatewayRun[] = [];
  const level = (r: GatewayRun, streams: number) => r.levels.find((l) => l.streams === streams)!;
  const added = (r: GatewayRun, streams: number) => level(r, streams).koubouP99 - level(r, streams).directP99;
  const addedByProxy = (r: GatewayRun, streams: number) => level(r, streams).proxyP99 - level(r, streams).directP99;
  for (let i = 0; i < runs; i++) {
    const r = await runGateway(o);
    results.push(r);
    console.log(
      `  round ${i + 1} (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores at its end): TTFT p50 ${fmt(r.ttft.directP50)} → ${fmt(r.ttft.koubouP50)} ms (proxy ${fmt(r.proxyTtftP50)}), ` +
        `gap p50 ${fmt(r.gap.directP50)} → ${fmt(r.gap.koubouP50)} ms, p99 ${fmt(r.gap.directP99)} → ${fmt(r.gap.koubouP99)} ms; ` +
        `added gap p99 (proxy's) at ${r.levels.map((l) => `${l.streams}: ${fmt(l.koubouP99 - l.directP99)} (${fmt(l.proxyP99 - l.directP99)})`).join(', ')} ms`,
    );
  }
  const row = (label: string, f: (r: GatewayRun) => number, target = '') =>
    console.log(`  ${label.padEnd(40)} ${fmt(median(results.map(f)), 3).padStart(8)} ms  (rounds ${spread(results.map(f), 3)})${target}`);
  console.log('medians of the rounds, and their range (added = through Koubou minus directly):');
  row('added TTFT p50', (r) => r.ttft.koubouP50 - r.ttft.directP50, '   (target <= 1)');
  row('added TTFT p50 by a bare proxy (floor)', (r) => r.proxyTtftP50 - r.ttft.directP50);
  row("  Koubou's own share (minus the floor)", (r) => r.ttft.koubouP50 - r.proxyTtftP50);
  row('added TTFT p99', (r) => r.ttft.koubouP99 - r.ttft.directP99);
  row('added TTFT p99 by a bare proxy (floor)', (r) => r.proxyTtftP99 - r.ttft.directP99);
  row('added inter-token gap p50', (r) => r.gap.koubouP50 - r.gap.directP50);
  row('added inter-token gap p99', (r) => r.gap.koubouP99 - r.gap.directP99);
  row('added inter-token gap p99 by a bare proxy', (r) => r.proxyGapP99 - r.gap.directP99);
  for (const streams of o.levels) {
    row(`added gap p99, ${streams} streams at once`, (r) => added(r, streams), streams === 64 ? '   (target <= 1)' : '');
    row(`  by a bare proxy (floor)`, (r) => addedByProxy(r, streams));
    if (streams === Math.max(...o.levels)) row("  Koubou's own share (minus the floor)", (r) => added(r, streams) - addedByProxy(r, streams));
  }
  // The most streams at once before the added gap passes 5 ms, every lower level included.
  const within = results.map((r) => {
    let best = 0;
    for (const l of r.levels) {
      if (l.koubouP99 - l.directP99 > 5) break;
      best = l.streams;
    }
    return best;
  });
  console.log(`  streams relayed before the added gap p99 passes 5 ms: ${fmt(median(within), 0)} (rounds ${spread(within, 0)}; ${Math.max(...o.levels)} is the most tried)`);
}

async function supervision(fakeUrl: string, runs: number): Promise<void> {
  console.log(`supervision: ${runs} runs each, default heartbeats (1 s interval, 3 s timeout)`);
  const silent: number[] = [];
  const crash: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < runs; i++) {
    silent.push(await timeToRequeue(fakeUrl, 'silence'));
    crash.push(await timeToRequeue(fakeUrl, 'crash'));
    memory.push(await bytesPerIdleWorker(2000));
    console.log(`  run ${i + 1}: silent→requeued ${fmt(silent.at(-1)!, 0)} ms; crash→requeued ${fmt(crash.at(-1)!, 1)} ms; ${fmt(memory.at(-1)!, 0)} bytes per idle worker`);
  }
  console.log('medians:');
  console.log(`  worker silent → task requeued   ${fmt(median(silent), 0)} ms   (target <= 3500)`);
  console.log(`  worker crash → task requeued    ${fmt(median(crash), 1)} ms   (target <= 250)`);
  console.log(`  memory per idle worker actor    ${fmt(median(memory), 0)} bytes (target <= 4096; 2000 workers, slot and scheduler entry included)`);
}

async function remoteScale(runs: number, o: Omit<RemoteScaleOptions, 'slots'> & { slotCounts: number[] }): Promise<void> {
  if (o.slotCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--slots must be a comma-separated list of whole numbers');
  if (!(o.slotsPerNode >= 1 && o.slotsPerNode <= 1024)) throw new Error('--slots-per-node must be 1 to 1024 (the join protocol takes at most 1024 slots per node)');
  console.log(
    `remote-scale: ${runs} runs of ${o.slotCounts.join(', ')} remote slots (koubou-node processes of <= ${o.slotsPerNode} slots, one nats-server, ` +
      `heartbeats every 1 s); CPU windows of ${o.windowMs / 1000} s: heartbeats only, then ${o.rate} zero-delay tasks/s; ${o.syncSamples} sync delegates`,
  );
  if (o.cpuProfDir) console.log(`  the coordinator runs with --cpu-prof; profiles go to ${o.cpuProfDir} (CPU figures include the profiler's cost)`);
  const results = new Map<number, RemoteScaleRun[]>(o.slotCounts.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (const slots of o.slotCounts) {
      const r = await runRemoteScale({ ...o, slots });
      results.get(slots)!.push(r);
      console.log(
        `  run ${i + 1}, ${r.slots} slots on ${r.nodes} node${r.nodes > 1 ? 's' : ''}: joined in ${fmt(r.joinMs, 0)} ms; coordinator CPU ${fmt(r.cpuIdle, 1)} % idle, ` +
          `${fmt(r.cpuLoad, 1)} % under load (nodes ${fmt(r.nodesCpuIdle, 1)} % idle); dispatch p50 ${fmt(r.dispatchP50, 0)} p99 ${fmt(r.dispatchP99, 0)} ` +
          `max ${fmt(r.dispatchMax, 0)} ms; submit→assigned seen p50 ${fmt(r.seenAssignedP50)} p99 ${fmt(r.seenAssignedP99)} ms; ` +
          `submit→first chunk p50 ${fmt(r.firstChunkP50)} p99 ${fmt(r.firstChunkP99)} ms; ` +
          `sync p50 ${fmt(r.syncP50)} p99 ${fmt(r.syncP99)} ms; peak RSS ${fmt(r.peakRssMiB, 1)} MiB` +
          (r.localRuns > 0 ? `; WARNING ${r.localRuns} of ${r.tasks} tasks ran on a local worker` : '') +
          (r.slotsAtEnd !== r.slots ? `; WARNING only ${r.slotsAtEnd} slots left at the end` : ''),
      );
    }
  }
  const m = (slots: number, f: (r: RemoteScaleRun) => number) => median(results.get(slots)!.map(f));
  console.log('medians:');
  console.log('  CPU: % of one core, heartbeats only (idle) and under load; dispatch: queued→assigned in the task history (whole ms);');
  console.log('  seen: submit sent → assigned / first output chunk on SSE (bench clock); sync: a sync delegate end to end; all in ms');
  console.log('  slots  join ms  CPU idle  CPU load  nodes CPU idle  dispatch p50/p99  seen assigned p50/p99  first chunk p50/p99  sync p50/p99  peak RSS MiB');
  for (const n of o.slotCounts) {
    const cell = (f: (r: RemoteScaleRun) => number, digits: number, width: number) => fmt(m(n, f), digits).padStart(width);
    const pair = (f: (r: RemoteScaleRun) => number, g: (r: RemoteScaleRun) => number, digits: number, width: number) =>
      `${fmt(m(n, f), digits)} / ${fmt(m(n, g), digits)}`.padStart(width);
    const row = [
      String(n).padStart(5),
      cell((r) => r.joinMs, 0, 7),
      cell((r) => r.cpuIdle, 1, 8),
      cell((r) => r.cpuLoad, 1, 8),
      cell((r) => r.nodesCpuIdle, 1, 14),
      pair((r) => r.dispatchP50, (r) => r.dispatchP99, 0, 16),
      pair((r) => r.seenAssignedP50, (r) => r.seenAssignedP99, 2, 21),
      pair((r) => r.firstChunkP50, (r) => r.firstChunkP99, 2, 19),
      pair((r) => r.syncP50, (r) => r.syncP99, 2, 12),
      cell((r) => r.peakRssMiB, 1, 12),
    ];
    console.log(`  ${row.join('  ')}`);
  }
  const most = Math.max(...o.slotCounts);
  const fewest = Math.min(...o.slotCounts);
  console.log(`  (a) coordinator CPU, ${most} slots, heartbeats only   ${fmt(m(most, (r) => r.cpuIdle), 1)} % of one core   (target <= 25)`);
  console.log(`      coordinator CPU, ${most} slots, ${o.rate} tasks/s        ${fmt(m(most, (r) => r.cpuLoad), 1)} % of one core   (target <= 25)`);
  // History times have 1 ms resolution, so that ratio's denominator is at least 1 ms.
  const ratio = (f: (r: RemoteScaleRun) => number, floor: number) => fmt(m(most, f) / Math.max(floor, m(fewest, f)));
  const p99 = (f: (r: RemoteScaleRun) => number, digits: number) => `${fmt(m(most, f), digits)} vs ${fmt(m(fewest, f), digits)} ms`;
  console.log(`      dispatch p99 (history), ${most} vs ${fewest} slots     ${p99((r) => r.dispatchP99, 0)}, ratio ${ratio((r) => r.dispatchP99, 1)}   (target <= 1; whole ms)`);
  console.log(`      submit→assigned p99 (SSE), ${most} vs ${fewest} slots  ${p99((r) => r.seenAssignedP99, 2)}, ratio ${ratio((r) => r.seenAssignedP99, 0)}   (target <= 1)`);
  console.log(`      submit→first chunk p99, ${most} vs ${fewest} slots     ${p99((r) => r.firstChunkP99, 2)}, ratio ${ratio((r) => r.firstChunkP99, 0)}`);
}

async function scheduling(runs: number, o: Omit<SchedulingOptions, 'speedAware'>): Promise<void> {
  console.log(
    `scheduling: ${runs} runs; a batch of ${o.tasks} tasks on a fast node (${o.fastMs} ms per task) and a slow one (${o.slowMs} ms), ` +
      `${o.concurrency} slots each; routing by measured speed, then without (any idle worker takes the next task)`,
  );
  const results = { aware: [] as SchedulingRun[], blind: [] as SchedulingRun[] };
  for (let i = 0; i < runs; i++) {
    for (const speedAware of [true, false]) {
      const r = await runScheduling({ ...o, speedAware });
      (speedAware ? results.aware : results.blind).push(r);
      console.log(
        `  run ${i + 1}, ${speedAware ? 'by speed' : 'any idle'}: makespan ${fmt(r.makespanMs, 0)} ms; lower bound ${fmt(r.lowerBoundMs, 0)} ms ` +
          `(${fmt(r.makespanMs / r.lowerBoundMs, 3)}x); round-robin ${fmt(r.roundRobinMs, 0)} ms; ${r.onSlow} tasks on the slow node`,
      );
    }
  }
  const m = (rs: SchedulingRun[], f: (r: SchedulingRun) => number) => median(rs.map(f));
  console.log('medians:');
  console.log(`  (b) makespan / lower bound, by speed        ${fmt(m(results.aware, (r) => r.makespanMs / r.lowerBoundMs), 3)}x   (target <= 1.10)`);
  console.log(`      round-robin / makespan, by speed        ${fmt(m(results.aware, (r) => r.roundRobinMs / r.makespanMs), 2)}x    (target >= 1.5; round-robin from the measured run times)`);
  console.log(`      makespan / lower bound, any idle worker ${fmt(m(results.blind, (r) => r.makespanMs / r.lowerBoundMs), 3)}x`);
  console.log(`      tasks on the slow node, by speed / any  ${fmt(m(results.aware, (r) => r.onSlow), 0)} / ${fmt(m(results.blind, (r) => r.onSlow), 0)}`);
}

async function nodeKill(fakeUrl: string, natsUrl: string, runs: number): Promise<void> {
  const heartbeat = { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 3000 };
  console.log(
    `node-kill: ${runs} runs; a koubou-node SIGKILLed while its one slot runs a hanging task, a second node standing by; ` +
      `pool.heartbeat_interval_ms ${heartbeat.heartbeatIntervalMs}, pool.heartbeat_timeout_ms ${heartbeat.heartbeatTimeoutMs}`,
  );
  const results: NodeKillRun[] = [];
  for (let i = 0; i < runs; i++) {
    // Kills spread evenly over one heartbeat interval, so the median is not that of one lucky or unlucky phase.
    const phaseMs = Math.round(((i + 0.5) / runs) * heartbeat.heartbeatIntervalMs);
    const r = await runNodeKill({ fakeUrl, natsUrl, ...heartbeat, phaseMs });
    results.push(r);
    console.log(`  run ${i + 1} (kill delayed ${phaseMs} ms): kill→requeued ${fmt(r.killToRequeuedMs, 0)} ms; kill→running on the standby node ${fmt(r.killToReassignedMs, 0)} ms`);
  }
  // Silent for more than the timeout since the last beat (which was 0 to 1 interval before the kill), seen by a sweep
  // (every half interval).
  const lo = heartbeat.heartbeatTimeoutMs - heartbeat.heartbeatIntervalMs;
  const hi = heartbeat.heartbeatTimeoutMs + heartbeat.heartbeatIntervalMs / 2;
  console.log('medians:');
  console.log(`  (c) node SIGKILL → task requeued           ${fmt(median(results.map((r) => r.killToRequeuedMs)), 0)} ms   (heartbeat_timeout ${heartbeat.heartbeatTimeoutMs} ms; expected ${lo}-${hi} by the kill's phase against the beats and sweeps)`);
  console.log(`      node SIGKILL → running on another node ${fmt(median(results.map((r) => r.killToReassignedMs)), 0)} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
