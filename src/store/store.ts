/** The durable store: one SQLite file, its repositories and the group-commit writer they share. */
import type { Clock } from '../clock.js';
import { openConnection } from './connection.js';
import { SqlRunner } from './prepared.js';
import { TaskRepository } from './tasks-repo.js';
import { WorkerRepository } from './workers-repo.js';
import { WriteBatcher } from './write-batcher.js';

export interface Store {
  tasks: TaskRepository;
  workers: WorkerRepository;
  /** Waits for every pending write to commit, then closes the file. */
  close(): Promise<void>;
}

/** Opens the store at path (migrating it) with the given clock for timestamps. */
export async function openStore(path: string, clock: Clock): Promise<Store> {
  const { db, raw } = await openConnection(path);
  const sql = new SqlRunner(raw);
  const writer = new WriteBatcher(sql);
  return {
    tasks: new TaskRepository(db, sql, writer, clock),
    workers: new WorkerRepository(db, writer, clock),
    async close() {
      writer.close();
      await db.destroy();
    },
  };
}
