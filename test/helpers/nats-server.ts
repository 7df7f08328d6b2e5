/**
 * A real nats-server for tests, on an ephemeral loopback port (`-p -1`, read back from --ports_file_dir), that can be
 * stopped and started again on the same port to test reconnects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './temp.js';

const BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(existsSync) ?? 'nats-server';

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL); clients see the connection drop. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/**
 * Servers still running. They never keep a test process alive (a suite whose setup failed never reaches the hook
 * that would close its server, and the run would hang): each is unreferenced, and killed when the process exits.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startNatsServer(extraArgs: string[] = []): Promise<NatsServer> {
  const dir = tempDir('koubou-nats-');
  let child = await launch(['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir.path, ...extraArgs]);
  let port: number;
  try {
    port = await readPort(dir.path, child);
  } catch (err) {
    child.kill('SIGKILL');
    dir.remove();
    throw err;
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      child = await launch(['-a', '127.0.0.1', '-p', String(port), ...extraArgs]);
      await waitForPort(port);
    },
    async close() {
      await stop();
      dir.remove();
    },
  };
}

async function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot start nats-server (${BINARY}): ${err.message}`)));
  });
  child.once('exit', (code) => {
    running.delete(child);
    if (code && code !== 0) process.stderr.write(`nats-server exited ${code}:\n${log}\n`);
  });
  running.add(child);
  child.unref();
  (child.stderr as unknown as { unref(): void }).unref();
  return child;
}

async function readPort(dir: string, child: ChildProcess): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'));
    if (file) {
      // The file may be there before its content is: read again on the next turn until it parses.
      let ports: { nats?: string[] } | null = null;
      try {
        ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] };
      } catch {
        ports = null;
      }
      if (ports?.nats?.[0]) return Number(new URL(ports.nats[0].replace('nats://', 'http://')).port);
    }
    if (child.exitCode !== null) throw new Error('nats-server exited before it listened');
    await sleep(25);
  }
  throw new Error('nats-server did not write its ports file within 5 s');
}

async function waitForPort(port: number): Promise<void> {
  const net = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(25);
  }
  throw new Error(`nats-server did not listen on ${port} again within 5 s`);
}
