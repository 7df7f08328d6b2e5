/** An in-process coordinator on a real SQLite file and a real HTTP port, for integration tests. */
import { silentLogger, type Logger } from '../../src/logger.js';
import type { LogRing } from '../../src/logging/log-ring.js';
import { startCoordinator, type Coordinator, type CoordinatorExtras } from '../../src/main.js';
import { tempDir } from './temp.js';
import { writeTestConfig, type TestConfigOptions } from './test-config.js';

export interface TestCoordinator {
  url: string;
  dir: string;
  coordinator: Coordinator;
  /** Drains and stops the coordinator and removes its directory. */
  close(): Promise<void>;
}

export async function startTestCoordinator(
  opts: Omit<TestConfigOptions, 'dir'> & { dir?: string; spawnWorker?: CoordinatorExtras['spawnWorker']; log?: Logger; logs?: LogRing },
): Promise<TestCoordinator> {
  const temp = opts.dir ? null : tempDir();
  const dir = opts.dir ?? temp!.path;
  const { config } = writeTestConfig({ ...opts, dir });
  const coordinator = await startCoordinator(
    config,
    opts.log ?? silentLogger,
    (err) => {
      throw err;
    },
    { spawnWorker: opts.spawnWorker, ...(opts.logs ? { logs: opts.logs } : {}) },
  );
  return {
    url: coordinator.http.url,
    dir,
    coordinator,
    async close() {
      await coordinator.stop();
      temp?.remove();
    },
  };
}
