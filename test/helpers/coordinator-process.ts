/** The real `koubou start` command in a child process, for crash and signal tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { listeningUrl } from '../../src/logging/listening.js';
import { KOUBOU_CLI } from './cli-paths.js';

const CLI = KOUBOU_CLI;

export interface CoordinatorProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
  output(): string;
}

/**
 * Starts `koubou start --config file` and resolves once it logs the URL it listens on; nodeArgs go to node itself (e.g.
 * --cpu-prof); `launcher` runs node (e.g. ['prlimit', '--nofile=400:400', '--'], which execs it under that limit).
 */
export function startCoordinatorProcess(configFile: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = [], launcher: string[] = []): Promise<CoordinatorProcess> {
  const argv = [process.execPath, ...nodeArgs, CLI, 'start', '--config', configFile, '--log-level', 'info'];
  const [command, ...args] = [...launcher, ...argv];
  const child = spawn(command!, args, {
    env: { PATH: process.env.PATH ?? '', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start within 20 s:\n${log}`)), 20_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const url = listeningUrl(log);
      if (url) {
        clearTimeout(timer);
        resolve({ url, child, exited, output: () => log });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`coordinator exited (${code}) before listening:\n${log}`));
    });
  });
}
