/** Opens the SQLite file behind Kysely: WAL, synchronous=NORMAL, and a prepared-statement cache. */
import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { Kysely, Migrator, SqliteDialect } from './kysely.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError, StoreInUse } from '../errors.js';
import { liveHolder } from './lock-file.js';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

/**
 * Kysely's SQLite driver prepares every statement anew; the hot path runs the same few statements
 * thousands of times a second, so we hand it a database whose prepare() reuses compiled statements.
 */
function withStatementCache(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (!stmt) {
        stmt = db.prepare(sqlText) as unknown as SqliteStatement;
        // Bound the cache: ad-hoc queries (filters, limits) must not grow it forever.
        if (cache.size > 500) cache.clear();
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
  };
}

export interface Connection {
  db: Kysely<Schema>;
  raw: Database.Database;
}

/**
 * Takes the store for this process, before anything reads or writes it: a second coordinator on the same file would
 * treat the first one's running tasks as orphans and run them again.
 *
 * The lock is SQLite's own: locking_mode=EXCLUSIVE and one exclusive transaction. The connection then keeps its
 * exclusive lock (an OS-level fcntl/LockFileEx lock) until it closes, and the kernel drops it when the process dies,
 * however it dies. Weighed against the alternatives:
 * - a pid lock file (O_EXCL create, stale when the pid is dead) needs a takeover of a stale file that no sequence of
 *   link/rename/unlink makes atomic: two starters that both judge it stale can both win;
 * - proper-lockfile (mkdir, staleness by an mtime it refreshes on a timer) is made for network file systems, where
 *   SQLite's WAL cannot run anyway; a SIGKILLed holder blocks the store until `stale` passes, and a holder whose event
 *   loop stalls longer than that loses its lock while it still runs;
 * - flock() needs a native addon (fs-ext, os-lock) beside the one SQLite already is.
 * What SQLite's lock cannot carry (who holds it, at which URL) goes in the lock file (lock-file.ts), written only by the
 * holder. The cost: while a coordinator runs, other programs (the sqlite3 shell) cannot open the store either; and
 * in WAL mode the WAL index lives in the process's memory instead of a -shm file, which only one process uses anyway.
 */
function takeExclusiveLock(raw: Database.Database, path: string): void {
  raw.pragma('busy_timeout = 0');
  // Set before the first access, so WAL mode keeps its index in memory and the lock is never given back.
  raw.pragma('locking_mode = EXCLUSIVE');
  try {
    raw.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    raw.close();
    const holder = liveHolder(path);
    throw new StoreInUse(path, holder?.pid ?? null, holder?.url ?? null);
  }
}

/** Opens (creating if needed) the database file, locks it for this process and brings its schema up to date. */
export async function openConnection(path: string): Promise<Connection> {
  let raw: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    raw = new Database(path);
    takeExclusiveLock(raw, path);
    raw.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives any process crash; only an OS crash or power loss can lose the last commits.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    // Fewer, larger checkpoints: at the default (1000 pages) checkpointing costs more than the writes themselves.
    raw.pragma('wal_autocheckpoint = 10000');
    raw.pragma('cache_size = -65536');
    raw.pragma('foreign_keys = ON');
  } catch (err) {
    if (err instanceof StoreInUse) throw err;
    throw new StoreError(`cannot open the store at ${path}: ${(err as Error).message}`, { cause: err });
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw new StoreError(`migrating the store at ${path} failed: ${(error as Error).message}`, { cause: error });
  }
  return { db, raw };
}
