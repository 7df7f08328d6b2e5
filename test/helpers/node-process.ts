/** A real `koubou-node` process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { tempDir } from './temp.js';
import { KOUBOU_NODE_CLI } from './cli-paths.js';

const CLI = KOUBOU_NODE_CLI;

export interface NodeProcess {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

/**
 * Starts `koubou-node ARGS --log-level debug`. It runs in `cwd`, by default a temporary folder of its own (removed
 * when it exits), so its default log file never lands in the checkout.
 */
export function startNodeProcess(args: string[], env: Record<string, string> = {}, cwd?: string): NodeProcess {
  const own = cwd === undefined ? tempDir('koubou-node-') : null;
  const child = spawn(process.execPath, [CLI, ...args, '--log-level', 'debug'], { cwd: cwd ?? own!.path, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      own?.remove();
      resolve(code ?? signal ?? -1);
    }),
  );
  return { child, exited, output: () => log };
}
