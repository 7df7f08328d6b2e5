/**
 * Log destinations that never throw, never hang the process and never hold more than a bound: while one cannot be
 * written (ENOSPC, EPIPE, EIO...) its lines are dropped and counted, and the count is logged once it works again.
 *
 * Why not pino.destination({sync:false}) as before: on a write error sonic-boom re-emits 'error' (a crash without a
 * listener), and pino's exit hook then calls flushSync(), which retries a non-EAGAIN error forever
 * (https://github.com/pinojs/sonic-boom/blob/v4.2.1/index.js, flushSync). A sync destination registers no exit hook,
 * and with a listener its errors are only reported; its `maxLength` bounds what it keeps for a retry.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

/** What pino.multistream needs of a destination. */
export interface LineSink {
  write(line: string): void;
}

/** Lines kept for a retry while the file cannot be written; past it lines are dropped. */
const MAX_HELD_BYTES = 1 << 20;
/** A console that does not drain (a stalled pipe) may hold this much before lines are dropped. */
const MAX_CONSOLE_BYTES = 1 << 20;

/** Counts what a destination dropped and why, and writes one line about it once lines get through again. */
class DropCounter {
  private dropped = 0;
  private lastError: string | null = null;

  constructor(private readonly where: string) {}

  failed(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  drop(): void {
    this.dropped++;
  }

  get failing(): boolean {
    return this.lastError !== null;
  }

  /** The line reporting the gap, once, when a write has succeeded after a failure; null otherwise. */
  recovered(): string | null {
    if (this.lastError === null) return null;
    const line = JSON.stringify({ level: 40, time: new Date().toISOString(), msg: 'log lines were lost while the log could not be written', destination: this.where, dropped: this.dropped, error: this.lastError });
    this.dropped = 0;
    this.lastError = null;
    return `${line}\n`;
  }
}

/** Appends to `file` (its folder is created), dropping lines while it cannot be written; null when it cannot even be opened. */
export function safeFileSink(file: string, onError: (message: string) => void = () => {}): LineSink | null {
  let dest: ReturnType<typeof pino.destination>;
  try {
    mkdirSync(dirname(file), { recursive: true });
    dest = pino.destination({ dest: file, append: true, sync: true, maxLength: MAX_HELD_BYTES });
  } catch (err) {
    onError(`cannot open the log file ${file}: ${(err as Error).message}`);
    return null;
  }
  const counter = new DropCounter(file);
  dest.on('error', (err: Error) => {
    if (!counter.failing) onError(`cannot write the log file ${file}: ${err.message}; dropping lines until it works again`);
    counter.failed(err);
  });
  dest.on('drop', () => counter.drop());
  dest.on('write', () => {
    const note = counter.recovered();
    if (note) dest.write(note);
  });
  return {
    write(line) {
      try {
        dest.write(line);
      } catch (err) {
        counter.failed(err);
        counter.drop();
      }
    },
  };
}

/** process.stdout or process.stderr, dropping lines once it failed (EPIPE, ENOSPC) or while it holds too much unsent. */
export function safeConsoleSink(stream: NodeJS.WriteStream): LineSink {
  let broken = false;
  stream.on('error', () => {
    // A closed pipe or a full disk behind the console: the rest of the process goes on without it.
    broken = true;
  });
  return {
    write(line) {
      if (broken || stream.writableLength > MAX_CONSOLE_BYTES) return;
      try {
        stream.write(line);
      } catch {
        broken = true;
      }
    },
  };
}
