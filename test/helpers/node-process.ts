/** A real `koubou-node` process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/koubou-node.js', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

export function startNodeProcess(args: string[], env: Record<string, string> = {}): NodeProcess {
  const child = spawn(process.execPath, [CLI, ...args, '--log-level', 'debug'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, exited, output: () => log };
}
