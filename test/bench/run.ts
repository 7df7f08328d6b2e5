/** `npm run bench`: runs each benchmark several times and prints medians. Figures are reported, never asserted. */
import { parseFlags } from '../../src/config.js';
import { runDelegation, type DelegationRun } from './delegation.js';
import { startFakeProcess } from './processes.js';
import { fmt, median } from './stats.js';
import { bytesPerIdleWorker, timeToRequeue } from './supervision.js';

async function main(): Promise<void> {
  const { flags } = parseFlags(process.argv.slice(2));
  const runs = Number(flags.runs ?? 3);
  const opts = {
    tasks: Number(flags.tasks ?? 5000),
    clients: Number(flags.clients ?? 50),
    workers: Number(flags.workers ?? 32),
    latencySamples: Number(flags['latency-samples'] ?? 500),
  };
  const suite = String(flags.suite ?? 'all');
  const fake = await startFakeProcess();
  try {
    if (suite === 'all' || suite === 'delegation') await delegation(fake.url, runs, opts);
    if (suite === 'all' || suite === 'supervision') await supervision(fake.url, runs);
  } finally {
    fake.child.kill('SIGTERM');
  }
}

async function delegation(fakeUrl: string, runs: number, opts: { tasks: number; clients: number; workers: number; latencySamples: number }): Promise<void> {
  {
    console.log(`delegation: ${runs} runs; ${opts.tasks} tasks from ${opts.clients} clients, ${opts.workers} worker slots, fake Ollama at zero delay`);
    const results: DelegationRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await runDelegation({ ...opts, fakeUrl });
      results.push(r);
      console.log(
        `  run ${i + 1}: ${fmt(r.tasksPerSecond, 0)} tasks/s; direct p50 ${fmt(r.directP50)} ms p99 ${fmt(r.directP99)} ms; ` +
          `sync p50 ${fmt(r.syncP50)} ms p99 ${fmt(r.syncP99)} ms; peak RSS ${fmt(r.peakRssMiB, 1)} MiB`,
      );
    }
    const m = (f: (r: DelegationRun) => number) => median(results.map(f));
    console.log('medians:');
    console.log(`  (a) throughput            ${fmt(m((r) => r.tasksPerSecond), 0)} tasks/s   (target >= 3000)`);
    console.log(`  (b) added latency p50     ${fmt(m((r) => r.syncP50 - r.directP50), 3)} ms       (target <= 1)`);
    console.log(`      added latency p99     ${fmt(m((r) => r.syncP99 - r.directP99), 3)} ms       (target <= 5)`);
    console.log(`      direct backend p50/p99 ${fmt(m((r) => r.directP50), 3)} / ${fmt(m((r) => r.directP99), 3)} ms`);
    console.log(`  (c) coordinator peak RSS  ${fmt(m((r) => r.peakRssMiB), 1)} MiB`);
  }
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
