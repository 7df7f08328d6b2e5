/** Child processes the benchmarks measure: the fake LLM server, the coordinator, koubou-nodes; their CPU and memory. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KOUBOU_NODE_CLI } from '../helpers/cli-paths.js';

const FAKE = fileURLToPath(new URL('../helpers/fake-llm-main.js', import.meta.url));
const NODE_CLI = KOUBOU_NODE_CLI;

/** Starts the fake LLM server in its own process, so it does not share the coordinator's event loop; args as fake-llm-main.ts takes them. */
export function startFakeProcess(args: readonly string[] = []): Promise<{ url: string; child: ChildProcess }> {
  return startUrlProcess(FAKE, [...args]);
}

/** Runs `node file ...args`, a program that prints {"url": "..."} on its first line once it listens. */
export function startUrlProcess(file: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => {
      try {
        resolve({ url: JSON.parse(chunk.toString().split('\n')[0]!).url, child });
      } catch (err) {
        reject(err);
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** Peak resident set size of a process in MiB (VmHWM), read from /proc. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Ticks per second of the times in /proc/<pid>/stat (USER_HZ, nearly always 100). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat; resolution 1/CLK_TCK. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces or parentheses: count fields from the last ')'. Field 3 is rest[0].
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** CPU seconds (user + system) used by this process's children that have ended and been waited for (cutime + cstime). */
export function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK;
}

/** Measures CPU over a wall-clock window: per pid, the share of one core used (100 = one full core). */
export async function cpuShareOver(pids: number[], windowMs: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const seconds = (performance.now() - t0) / 1000;
  return pids.map((pid, i) => ((cpuSeconds(pid) - before[i]!) / seconds) * 100);
}

/** A koubou-node process for benchmarks: quiet (warn), keeping only the tail of its output for error messages. */
export interface BenchNode {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

export function startBenchNode(args: string[]): BenchNode {
  const child = spawn(process.execPath, [NODE_CLI, ...args, '--log-level', 'warn'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, output: () => log };
}

/** SIGKILLs a process (if still running) and waits for it to be gone. */
export async function killAndWait(p: { child: ChildProcess; exited: Promise<unknown> }): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}
