/**
 * The console side of a log: on a terminal, human-readable lines (pino-pretty); piped, pino's JSON lines as they are.
 * pino-pretty and its dependencies load only for a terminal, so a service under a supervisor or a pipe pays neither
 * their start-up time nor their memory; it runs in this thread (no transport worker) for the same reason.
 */
import { createRequire } from 'node:module';
import type { DestinationStream } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

type Pretty = (opts: PrettyOptions) => DestinationStream;

/** A destination for `stream` (process.stdout or process.stderr) that formats for a person when it is a terminal. */
export function consoleStream(stream: NodeJS.WriteStream & { fd: number }): DestinationStream {
  if (!stream.isTTY) return stream;
  const pretty = createRequire(import.meta.url)('pino-pretty') as { default: Pretty };
  return pretty.default({
    destination: stream.fd,
    sync: true,
    colorize: stream.hasColors(),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}
