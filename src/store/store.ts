/** The durable store: one SQLite file, its repositories and the group-commit writer they share. */
import type { Clock } from '../clock.js';
import { openConnection } from './connection.js';
import { lockFilePath, ownLockInfo, removeOwnLockInfo, writeLockInfo } from './lock-file.js';
import { SqlRunner } from './prepared.js';
import { TaskRepository } from './tasks-repo.js';
import { WorkerRepository } from './workers-repo.js';
import { WriteBatcher } from './write-batcher.js';

export interface Store {
  tasks: TaskRepository;
  workers: WorkerRepository;
  /** Writes the URL this process's coordinator answers at into the lock file, for `koubou mcp`, `stop` and a refused `start`. */
  advertise(url: string): void;
  /** Waits for every pending write to commit, then closes the file. */
  close(): Promise<void>;
}

/**
 * Opens the store at path for this process alone (see connection.ts; StoreInUse when another holds it), migrates it,
 * and says in the lock file which `command` holds it. The clock gives timestamps.
 */
export async function openStore(path: string, clock: Clock, command = 'start'): Promise<Store> {
  const { db, raw } = await openConnection(path);
  const lockFile = lockFilePath(path);
  const info = ownLockInfo(command, clock.now());
  writeLockInfo(lockFile, info);
  const sql = new SqlRunner(raw);
  const writer = new WriteBatcher(sql);
  return {
    tasks: new TaskRepository(db, sql, writer, clock),
    workers: new WorkerRepository(db, writer, clock),
    advertise(url) {
      writeLockInfo(lockFile, { ...info, url });
    },
    async close() {
      writer.close();
      // While the lock is still ours: once it is released the next holder may already have written its own file.
      removeOwnLockInfo(lockFile);
      await db.destroy();
    },
  };
}
