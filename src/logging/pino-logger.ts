/** The Logger interface on pino: JSON lines to stdout (or stderr), a log file, and the in-memory ring. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Logger, LogLevel } from '../logger.js';
import type { LogRing } from './log-ring.js';

export interface PinoOptions {
  level: LogLevel;
  /** Where the lines go on the console: stdout for the coordinator, stderr where stdout carries a protocol (MCP). */
  console: 'stdout' | 'stderr' | 'none';
  /** A file to append to as well; its folder is created. */
  file?: string | undefined;
  ring?: LogRing | undefined;
}

export function createPinoLogger(opts: PinoOptions): Logger {
  const level = opts.level === 'silent' ? 'silent' : opts.level;
  const streams: pino.StreamEntry[] = opts.console === 'none' ? [] : [{ stream: opts.console === 'stdout' ? process.stdout : process.stderr }];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    streams.push({ stream: pino.destination({ dest: opts.file, append: true, sync: false }) });
  }
  if (opts.ring) streams.push({ stream: opts.ring });
  return adapt(pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams.map((s) => ({ ...s, level: level === 'silent' ? 'fatal' : level })))));
}

/** Our call shape (message first, fields second) over pino's (fields first). */
function adapt(p: pino.Logger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => adapt(p.child(fields)),
  };
}
