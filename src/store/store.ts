/** The durable store: one SQLite file, its repositories and the group-commit writer they share. */
import { rm, writeFile } from 'node:fs/promises';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { Checkpointer } from './checkpointer.js';
import { openConnection } from './connection.js';
import { lockFilePath, ownLockInfo, removeOwnLockInfo, writeLockInfo } from './lock-file.js';
import { SqlRunner } from './prepared.js';
import { TaskRepository } from './task-repository.js';
import { StoreHealth, type StoreStatus } from './store-health.js';
import { WorkerRepository } from './worker-repository.js';
import { WriteBatcher } from './write-batcher.js';

/** While the store is unwritable, a probe is tried at most this often (on /health), so recovery shows by itself. */
const PROBE_EVERY_MS = 1_000;
/** Room the probe wants beside the store: enough for a task or two more than SQLite's own spare pages. */
const PROBE_BYTES = 1 << 20;

/** Writes and removes PROBE_BYTES beside the store; rejects (ENOSPC, EIO...) when the file system cannot take them. */
async function probeSpace(storePath: string): Promise<void> {
  const scratch = `${storePath}.space-probe`;
  try {
    await writeFile(scratch, Buffer.alloc(PROBE_BYTES));
  } finally {
    await rm(scratch, { force: true });
  }
}

export interface Store {
  tasks: TaskRepository;
  workers: WorkerRepository;
  /** Writes the URL this process's coordinator answers at into the lock file, for `koubou mcp`, `stop` and a refused `start`. */
  advertise(url: string): void;
  /** Whether writes commit; while they fail, asking probes (at most once a second) whether they would again. */
  writable(): Promise<StoreStatus>;
  /** Waits for every pending write to commit, then closes the file. */
  close(): Promise<void>;
}

/**
 * Opens the store at path for this process alone (see connection.ts; StoreInUse when another holds it), migrates it,
 * and says in the lock file which `command` holds it. The clock gives timestamps.
 */
export async function openStore(path: string, clock: Clock, command = 'start', log: Logger | null = null): Promise<Store> {
  const { db, raw, owner } = await openConnection(path);
  const lockFile = lockFilePath(path);
  const info = ownLockInfo(command, clock.now());
  writeLockInfo(lockFile, info);
  const sql = new SqlRunner(raw);
  const health = new StoreHealth(clock.now);
  const checkpointer = new Checkpointer(path, log);
  const writer = new WriteBatcher(sql, health, () => checkpointer.committed());
  const probe = raw.prepare('insert into store_probe (id, at) values (1, ?) on conflict (id) do update set at = excluded.at');
  let probedAt = -Infinity;
  return {
    tasks: new TaskRepository(db, sql, writer, clock),
    workers: new WorkerRepository(db, writer, clock),
    advertise(url) {
      writeLockInfo(lockFile, { ...info, url });
    },
    async writable() {
      if (!health.current.writable && clock.now() - probedAt >= PROBE_EVERY_MS) {
        probedAt = clock.now();
        try {
          // Room on the disk, and SQLite committing into it; a failing write records its own reason.
          await probeSpace(path);
          await writer.write(() => probe.run(clock.now()));
          health.recovered();
        } catch {
          // Still unwritable.
        }
      }
      return health.current;
    },
    async close() {
      writer.close();
      // While the lock is still ours: once it is released the next holder may already have written its own file.
      removeOwnLockInfo(lockFile);
      await checkpointer.stop();
      await db.destroy();
      owner.release();
    },
  };
}
