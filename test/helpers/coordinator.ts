/** An in-process coordinator on a real SQLite file and a real HTTP port, for integration tests. */
import { silentLogger, type Logger } from '../../src/logger.js';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
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

/** A logger whose lines at `level` and above can be read back (`logs.query`): startTestCoordinator's `log` and `logs`. */
export function readableLog(level: 'info' | 'warn' = 'warn'): { log: Logger; logs: LogRing } {
  const logs = new LogRing();
  return { log: createPinoLogger({ level, console: 'none', ring: logs }), logs };
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
