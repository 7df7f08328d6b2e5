/**
 * The Logger interface on pino, the one log format of every Koubou program: JSON lines to the log file and the
 * in-memory ring, and on the console JSON when piped or readable lines on a terminal (console-stream.ts).
 * No destination may throw, hang or grow without bound (safe-destinations.ts).
 */
import pino from 'pino';
import type { Logger, LogLevel } from '../logger.js';
import { consoleStream } from './console-stream.js';
import type { LogRing } from './log-ring.js';
import { safeConsoleSink, safeFileSink, type LineSink } from './safe-destinations.js';

export interface PinoOptions {
  level: LogLevel;
  /** The program writing (koubou, koubou-mcp, koubou-node): every line says it and its pid, as they share a file. */
  name?: string | undefined;
  /** A quieter level for the console alone (koubou mcp keeps stderr to warnings); default `level`. */
  consoleLevel?: LogLevel | undefined;
  /** Where the lines go on the console: stdout for the coordinator, stderr where stdout carries a protocol (MCP). */
  console: 'stdout' | 'stderr' | 'none';
  /** A file to append to as well; its folder is created. Lines that cannot be written are dropped, never waited for. */
  file?: string | undefined;
  ring?: LogRing | undefined;
}

export function createPinoLogger(opts: PinoOptions): Logger {
  const level = opts.level === 'silent' ? 'silent' : opts.level;
  const sinks: pino.StreamEntry[] = [];
  if (opts.console !== 'none') {
    const stream = opts.console === 'stdout' ? process.stdout : process.stderr;
    // A terminal gets readable lines; a pipe or file gets JSON through a sink that drops rather than blocks.
    const consoleSink = stream.isTTY ? consoleStream(stream) : safeConsoleSink(stream);
    sinks.push({ stream: consoleSink, ...(opts.consoleLevel ? { level: streamLevel(opts.consoleLevel) } : {}) });
  }
  if (opts.file) {
    // A log file that fails is said once on the console (and in the ring), as a plain warning line.
    let file: LineSink | null = null;
    const warn = (msg: string) => {
      const line = `${JSON.stringify({ level: 40, time: new Date().toISOString(), msg })}\n`;
      for (const s of sinks) if (s.stream !== file) s.stream.write(line);
    };
    file = safeFileSink(opts.file, warn);
    if (file) sinks.push({ stream: file });
  }
  if (opts.ring) sinks.push({ stream: opts.ring });
  const base = opts.name ? { name: opts.name, pid: process.pid } : undefined;
  const lowest = opts.consoleLevel && rank(opts.consoleLevel) < rank(level) ? opts.consoleLevel : level;
  // The file is written synchronously (see safe-destinations.ts): nothing is in flight at exit.
  const flush = () => Promise.resolve();
  return adapt(
    flush,
    pino(
      { level: lowest === 'silent' ? 'silent' : lowest, base, timestamp: pino.stdTimeFunctions.isoTime },
      pino.multistream(sinks.map((s) => ({ ...s, level: s.level ?? streamLevel(level) }))),
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
