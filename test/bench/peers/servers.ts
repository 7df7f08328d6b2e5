/** The servers the delegation and peers benchmarks compare, each started fresh (a cold process) and stopped again. */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCoordinatorProcess } from '../../helpers/coordinator-process.js';
import { tempDir } from '../../helpers/temp.js';
import { writeTestConfig } from '../../helpers/test-config.js';
import { startUrlProcess } from '../processes.js';
import { startRedis } from './redis.js';

export interface ServerUnderTest {
  url: string;
  /** Every process doing the server's work (for BullMQ: node and redis-server), for CPU figures. */
  pids: number[];
  /** The process whose RSS is reported. */
  mainPid: number;
  stop(): Promise<void>;
}

/** `koubou start` on a fresh store with `workers` slots on the fake Ollama. */
export async function startKoubou(fakeUrl: string, workers: number, nodeArgs: string[] = []): Promise<ServerUnderTest> {
  const dir = tempDir('koubou-bench-');
  const { file } = writeTestConfig({
    dir: dir.path,
    backends: [{ url: fakeUrl, model: 'bench-model', min_workers: workers, max_workers: workers }],
    extra: { log: { level: 'warn' } },
  });
  const proc = await startCoordinatorProcess(file, {}, nodeArgs);
  return {
    url: proc.url,
    pids: [proc.child.pid!],
    mainPid: proc.child.pid!,
    async stop() {
      proc.child.kill('SIGTERM');
      await proc.exited;
      dir.remove();
    },
  };
}

const BULLMQ = fileURLToPath(new URL('./bullmq-main.js', import.meta.url));
const PROXY = fileURLToPath(new URL('./proxy-main.js', import.meta.url));

/** BullMQ on a fresh redis-server of its own: see bullmq-main.ts. */
export async function startBullmq(fakeUrl: string, workers: number, redisServer: string): Promise<ServerUnderTest> {
  const redis = await startRedis(redisServer);
  let node: { url: string; child: ChildProcess };
  try {
    node = await startUrlProcess(BULLMQ, ['--redis-port', String(redis.port), '--backend', fakeUrl, '--concurrency', String(workers)]);
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return {
    url: node.url,
    pids: [node.child.pid!, redis.pid],
    mainPid: node.child.pid!,
    async stop() {
      await stopChild(node.child);
      await redis.stop();
    },
  };
}

/** The bare pass-through proxy in front of the fake backend: see proxy-main.ts. */
/** `connections`: to the backend at most (a stream waits for a free one beyond them). */
export async function startProxy(fakeUrl: string, connections = 32): Promise<ServerUnderTest> {
  const { url, child } = await startUrlProcess(PROXY, ['--backend', fakeUrl, '--connections', String(connections)]);
  return { url, pids: [child.pid!], mainPid: child.pid!, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
