/**
 * Takes the store for this process, before anything reads or writes it: a second coordinator on the same file would
 * treat the first one's running tasks as orphans and run them again.
 *
 * The lock is SQLite's own, held on a small file of its own beside the store (`<store>.owner`, an empty SQLite
 * database): locking_mode=EXCLUSIVE and one exclusive transaction. The connection then keeps its exclusive lock (an
 * OS-level fcntl/LockFileEx lock) until it closes, and the kernel drops it when the process dies, however it dies.
 * Held on a file apart, it leaves the store itself open to this process's other connections: the checkpointer's
 * (checkpointer.ts), which keeps WAL checkpoints and their fsyncs off the event loop.
 * Weighed against the alternatives:
 * - a pid lock file (O_EXCL create, stale when the pid is dead) needs a takeover of a stale file that no sequence of
 *   link/rename/unlink makes atomic: two starters that both judge it stale can both win;
 * - proper-lockfile (mkdir, staleness by an mtime it refreshes on a timer) is made for network file systems, where
 *   SQLite's WAL cannot run anyway; a SIGKILLed holder blocks the store until `stale` passes, and a holder whose event
 *   loop stalls longer than that loses its lock while it still runs;
 * - flock() needs a native addon (fs-ext, os-lock) beside the one SQLite already is.
 * What the lock cannot carry (who holds it, at which URL) goes in the lock file (lock-file.ts), written only by the
 * holder.
 */
import Database from 'better-sqlite3';
import { StoreInUse } from '../errors.js';
import { liveHolder, storeRealPath } from './lock-file.js';

export interface OwnerLock {
  /** Gives the store up; call once the store's own connections are closed. */
  release(): void;
}

/** `<store>.owner`, beside the store's real path. */
export function ownerFilePath(storePath: string): string {
  return `${storeRealPath(storePath)}.owner`;
}

/** Takes the store at `storePath` for this process; StoreInUse, naming the holder, when another has it. */
export function takeOwnerLock(storePath: string): OwnerLock {
  const lock = new Database(ownerFilePath(storePath));
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const holder = liveHolder(storePath);
    throw new StoreInUse(storePath, holder?.pid ?? null, holder?.url ?? null);
  }
  return { release: () => lock.close() };
}
