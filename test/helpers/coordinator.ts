/** An in-process coordinator on a real SQLite file and a real HTTP port, for integration tests. */
import type { CoreOptions } from '../../src/core.js';
import { silentLogger } from '../../src/logger.js';
import { startCoordinator, type Coordinator } from '../../src/main.js';
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
  opts: Omit<TestConfigOptions, 'dir'> & { dir?: string; spawnWorker?: CoreOptions['spawnWorker'] },
): Promise<TestCoordinator> {
  const temp = opts.dir ? null : tempDir();
  const dir = opts.dir ?? temp!.path;
  const { config } = writeTestConfig({ ...opts, dir });
  const coordinator = await startCoordinator(
    config,
    silentLogger,
    (err) => {
      throw err;
    },
    { spawnWorker: opts.spawnWorker },
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
