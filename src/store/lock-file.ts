/**
 * The store's lock file, `<store>.lock` beside the SQLite file: which process holds the store, since when, and the URL
 * its coordinator answers at. It carries information, not the lock itself: the lock is SQLite's exclusive lock on
 * `<store>.owner` (see owner-lock.ts), which the kernel drops when the holder dies. So a file left behind by a killed
 * process needs no clean-up: the next holder overwrites it, and a reader trusts it only while its pid is alive and
 * started when the file says (a pid the system has since reused does not count).
 */
import { realpathSync } from 'node:fs';
import fs from 'node:fs';
import { isAlive, processStartTime } from '../processes.js';

export interface LockInfo {
  pid: number;
  /** ISO time the process took the lock. */
  started_at: string;
  /** The kernel's start time of `pid` (see processes.ts); null where the system does not tell. */
  process_start: string | null;
  /** The command holding the store: `start` (a coordinator) or `mcp` (a coordinator inside `koubou mcp`). */
  command: string;
  /** Where the coordinator answers; null until its HTTP server listens. */
  url: string | null;
}

/** The store's real path, so a store reached through a symlink still has one lock file and one owner file. */
export function storeRealPath(storePath: string): string {
  try {
    return realpathSync(storePath);
  } catch {
    // Not created yet: the path as given is where it will be.
    return storePath;
  }
}

/** `<store path>.lock`, beside the store's real path. */
export function lockFilePath(storePath: string): string {
  return `${storeRealPath(storePath)}.lock`;
}

/** Writes the whole file at once (a temporary file renamed over it), so a reader never sees half of it. */
export function writeLockInfo(file: string, info: LockInfo): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  fs.renameSync(temp, file);
}

/** What this process writes when it has just taken the lock. */
export function ownLockInfo(command: string, now: number): LockInfo {
  return { pid: process.pid, started_at: new Date(now).toISOString(), process_start: processStartTime(process.pid), command, url: null };
}

/** The file's content, or null when there is none or it is not ours to read (garbled, from another version). */
export function readLockInfo(file: string): LockInfo | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const info = parsed as Partial<LockInfo> | null;
  if (!info || !Number.isInteger(info.pid) || (info.pid as number) <= 0) return null;
  return {
    pid: info.pid as number,
    started_at: String(info.started_at ?? ''),
    process_start: typeof info.process_start === 'string' ? info.process_start : null,
    command: String(info.command ?? 'start'),
    url: typeof info.url === 'string' && /^https?:\/\//.test(info.url) ? info.url : null,
  };
}

/** The holder named by the file while that process still runs; null when there is none or it has gone. */
export function liveHolder(storePath: string): LockInfo | null {
  const info = readLockInfo(lockFilePath(storePath));
  if (!info || !isAlive(info.pid)) return null;
  const started = processStartTime(info.pid);
  return info.process_start !== null && started !== null && started !== info.process_start ? null : info;
}

/** Removes the file if it still names this process (a later holder's file is left alone). */
export function removeOwnLockInfo(file: string): void {
  if (readLockInfo(file)?.pid === process.pid) fs.rmSync(file, { force: true });
}
