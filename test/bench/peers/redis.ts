/**
 * A redis-server of the bench's own for the BullMQ peer: loopback, a free port, a temp dir, and the durability a
 * BullMQ deployment would run with (append-only file, fsync every second). Removed again by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { closedPort } from '../../helpers/ports.js';
import { tempDir } from '../../helpers/temp.js';

export interface RedisServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** The redis-server executable on PATH, or null when there is none. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = join(dir, 'redis-server');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

/** Starts redis-server and resolves once it accepts connections (its log says so). */
export async function startRedis(executable: string): Promise<RedisServer> {
  const dir = tempDir('koubou-bench-redis-');
  const port = await closedPort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.path, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--loglevel', 'notice'];
  const child: ChildProcess = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${log}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready:\n${log}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      dir.remove();
    },
  };
}
