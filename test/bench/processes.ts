/** Child processes the benchmarks measure: the fake LLM server and the coordinator. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FAKE = fileURLToPath(new URL('../helpers/fake-llm-main.js', import.meta.url));

/** Starts the fake LLM server in its own process, so it does not share the coordinator's event loop. */
export function startFakeProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [FAKE], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => {
      try {
        resolve({ url: JSON.parse(chunk.toString().split('\n')[0]!).url, child });
      } catch (err) {
        reject(err);
      }
    });
    child.once('exit', (code) => reject(new Error(`fake LLM exited with ${code}`)));
  });
}

/** Peak resident set size of a process in MiB (VmHWM), read from /proc. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
