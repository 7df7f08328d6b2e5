/** Opens the SQLite file behind Kysely: WAL, synchronous=NORMAL, and a prepared-statement cache. */
import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { Kysely, Migrator, SqliteDialect } from './kysely.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError, StoreInUse } from '../errors.js';
import { migrationProvider } from './migrations.js';
import { takeOwnerLock, type OwnerLock } from './owner-lock.js';
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
  /** This process's hold on the store (owner-lock.ts): released once `db` is closed. */
  owner: OwnerLock;
}

/** Opens (creating if needed) the database file, locks it for this process and brings its schema up to date. */
export async function openConnection(path: string): Promise<Connection> {
  let raw: Database.Database | undefined;
  let owner: OwnerLock | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    // Created before the lock is taken, so every starter finds the owner file beside the same real path.
    raw = new Database(path);
    owner = takeOwnerLock(path);
    raw.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives any process crash; only an OS crash or power loss can lose the last commits.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    // Checkpoints are the checkpointer thread's (checkpointer.ts); this threshold only holds the WAL in bounds until it
    // starts, or should it stop. At the default (1000 pages) checkpointing would cost more than the writes themselves.
    raw.pragma('wal_autocheckpoint = 10000');
    raw.pragma('cache_size = -65536');
    raw.pragma('foreign_keys = ON');
  } catch (err) {
    raw?.close();
    owner?.release();
    if (err instanceof StoreInUse) throw err;
    throw new StoreError(`cannot open the store at ${path}: ${(err as Error).message}`, { cause: err });
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await db.destroy();
    owner.release();
    throw new StoreError(`migrating the store at ${path} failed: ${(error as Error).message}`, { cause: error });
  }
  return { db, raw, owner };
}
