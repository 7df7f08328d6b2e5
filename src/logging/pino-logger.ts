/**
 * The Logger interface on pino, the one log format of every Koubou program: JSON lines to the log file and the
 * in-memory ring, and on the console JSON when piped or readable lines on a terminal (console-stream.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Logger, LogLevel } from '../logger.js';
import { consoleStream } from './console-stream.js';
import type { LogRing } from './log-ring.js';

export interface PinoOptions {
  level: LogLevel;
  /** The program writing (koubou, koubou-mcp, koubou-node): every line says it and its pid, as they share a file. */
  name?: string | undefined;
  /** A quieter level for the console alone (koubou mcp keeps stderr to warnings); default `level`. */
  consoleLevel?: LogLevel | undefined;
  /** Where the lines go on the console: stdout for the coordinator, stderr where stdout carries a protocol (MCP). */
  console: 'stdout' | 'stderr' | 'none';
  /** A file to append to as well; its folder is created. */
  file?: string | undefined;
  ring?: LogRing | undefined;
}

export function createPinoLogger(opts: PinoOptions): Logger {
  const level = opts.level === 'silent' ? 'silent' : opts.level;
  const streams: pino.StreamEntry[] = [];
  if (opts.console !== 'none') {
    const console = consoleStream(opts.console === 'stdout' ? process.stdout : process.stderr);
    streams.push({ stream: console, ...(opts.consoleLevel ? { level: streamLevel(opts.consoleLevel) } : {}) });
  }
  let file: { flush(cb: (err?: Error) => void): void } | null = null;
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ stream: (file = pino.destination({ dest: opts.file, append: true, sync: false })) });
  }
  if (opts.ring) streams.push({ stream: opts.ring });
  const base = opts.name ? { name: opts.name, pid: process.pid } : undefined;
  const lowest = opts.consoleLevel && rank(opts.consoleLevel) < rank(level) ? opts.consoleLevel : level;
  // The file is written asynchronously; what is in flight when the process exits would be lost.
  const flush = () => new Promise<void>((resolve) => (file ? file.flush(() => resolve()) : resolve()));
  return adapt(
    flush,
    pino(
      { level: lowest === 'silent' ? 'silent' : lowest, base, timestamp: pino.stdTimeFunctions.isoTime },
      pino.multistream(streams.map((s) => ({ ...s, level: s.level ?? streamLevel(level) }))),
    ),
  );
}

/** pino's multistream has no 'silent' level; above fatal nothing is written. */
function streamLevel(level: LogLevel): pino.Level {
  return level === 'silent' ? 'fatal' : level;
}

function rank(level: LogLevel): number {
  return level === 'silent' ? Infinity : pino.levels.values[level]!;
}

/** Our call shape (message first, fields second) over pino's (fields first). */
function adapt(flush: () => Promise<void>, p: pino.Logger): Logger {
  return {
    flush,
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => adapt(flush, p.child(fields)),
  };
}
