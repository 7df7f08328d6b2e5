/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL into the database file and fsyncs both
 * (synchronous=NORMAL); run by the committing connection, as SQLite's autocheckpoint does, it stalled every request for
 * 50-75 ms every few seconds under a steady 200 tasks/s. Here a worker thread with a connection of its own runs a
 * PASSIVE checkpoint (sqlite.org/c3ref/wal_checkpoint_v2.html: it never waits for, nor blocks, the writer) every
 * CHECKPOINT_EVERY_MS, so the WAL stays small and the store's autocheckpoint (its threshold, 10,000 pages, is the
 * safety net) is never reached. The thread, ~9 MiB, starts with the first burst of writes: an idle coordinator never
 * pays for it, and at its rate of writes the autocheckpoint is rare anyway.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';

/** How often the thread checkpoints once started. */
const CHECKPOINT_EVERY_MS = 1_000;
/** Commits after which the thread is started: a few seconds of steady work. */
const START_AFTER_COMMITS = 500;
/** How long close waits for the thread to close its connection before ending it. */
const STOP_WITHIN_MS = 2_000;

/** The thread: CommonJS, evaluated (so the bundle needs no file of its own); better-sqlite3 comes by resolved path. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // Busy: the store's own connection is checkpointing this moment; the next turn comes in a second.
    if (err.code !== 'SQLITE_BUSY') parentPort.postMessage({ error: String(err.message || err) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private commits = 0;
  private worker: Worker | null = null;
  private lastError = '';

  /** `path`: the store's file, which this process holds (owner-lock.ts). */
  constructor(
    private readonly path: string,
    private readonly log: Logger | null,
  ) {}

  /** Counts a commit; the thread starts once there have been START_AFTER_COMMITS. */
  committed(): void {
    if (this.worker || ++this.commits < START_AFTER_COMMITS) return;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(THREAD, { eval: true, workerData: { path: this.path, sqlite, everyMs: CHECKPOINT_EVERY_MS } });
    worker.unref();
    worker.on('message', (m: { error?: string }) => {
      // A full disk fails every attempt alike: said once until it changes. The store's autocheckpoint still holds.
      if (m.error && m.error !== this.lastError) this.log?.warn('a WAL checkpoint failed; the next is tried in a second', { error: m.error });
      this.lastError = m.error ?? '';
    });
    worker.on('error', (err) => this.log?.warn('the WAL checkpoint thread stopped; checkpoints are left to SQLite', { error: err.message }));
    this.worker = worker;
  }

  /** Stops the thread and closes its connection (before the store's own closes, so that one checkpoints last). */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), STOP_WITHIN_MS);
    await exited;
    clearTimeout(timer);
  }
}
