/**
 * How many files this process may hold open, so that the connection bounds fit inside it: past that limit accept()
 * fails with EMFILE, and a server that cannot open a file either stops answering without a word or dies loading a
 * module. Node raises the soft limit to the hard one at start-up; /proc/self/limits says what it is now.
 */
import { readFileSync } from 'node:fs';

/** Files kept for everything but client connections: the store and its journal, backend and NATS sockets, logs, modules. */
export const FILES_RESERVED = 256;

/**
 * The soft limit on open files (RLIMIT_NOFILE) as /proc/self/limits writes it ("Max open files  1024  4096  files");
 * null where there is no such file (macOS, Windows) or no limit. `read` returns the file's text.
 */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  return soft === undefined || soft === 'unlimited' ? null : Number(soft);
}

/**
 * The connections each of `listeners` listeners may hold: `configured` (server.max_connections), or less when the
 * open-files limit leaves less room once FILES_RESERVED are kept aside (at least 16 each).
 */
export function connectionsPerListener(configured: number, listeners: number, limit: number | null): number {
  if (limit === null) return configured;
  return Math.min(configured, Math.max(16, Math.floor((limit - FILES_RESERVED) / listeners)));
}
