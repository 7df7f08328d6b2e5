/** The files and process checks behind `start --detach` and `stop`: pid file, log file, liveness. */
import fs from 'node:fs';
import path from 'node:path';

import { logFilePath } from '../logging/log-file.js';

export { isAlive } from '../processes.js';

export interface DaemonFiles {
  dir: string;
  pidFile: string;
  logFile: string;
}

/** koubou.pid lives next to the store (default .koubou/); the log is the store's one log file (logs/koubou.log). */
export function daemonFiles(storePath: string): DaemonFiles {
  const dir = path.dirname(storePath);
  return { dir, pidFile: path.join(dir, 'koubou.pid'), logFile: logFilePath(storePath) };
}

/** The pid in the file, or null when there is no file (or no number in it). */
export function readPid(pidFile: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function writePid(pidFile: string, pid: number): void {
  fs.writeFileSync(pidFile, `${pid}\n`);
}

export function removePid(pidFile: string): void {
  fs.rmSync(pidFile, { force: true });
}

/** On Linux, whether the process's command line names koubou; elsewhere (no /proc) we cannot tell and say yes. */
export function looksLikeKoubou(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('koubou');
  } catch {
    return !fs.existsSync('/proc/self');
  }
}

/** The last `lines` lines the log got from byte `from` on. */
export function logTail(logFile: string, from = 0, lines = 20): string {
  let text: string;
  try {
    text = fs.readFileSync(logFile).subarray(from).toString('utf8');
  } catch {
    return '';
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** An http URL a client on this machine can use for a server bound to host:port. */
export function localUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
