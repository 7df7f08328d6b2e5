/** Runs the real `koubou` command as a process, as a user would. */
import { spawn } from 'node:child_process';
import { KOUBOU_CLI } from './cli-paths.js';

const CLI = KOUBOU_CLI;

/** `koubou ARGS` to its end; only PATH and `env` reach it. Resolves with stdout; rejects naming the exit code and stderr. */
export function koubouOutput(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`koubou ${args.join(' ')} exited ${code}: ${err}`)))),
  );
}
