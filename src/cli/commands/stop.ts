/** `koubou stop`: SIGTERM the coordinator holding the store (see store/lock-file.ts), wait for it to drain and exit. */
import { setTimeout as sleep } from 'node:timers/promises';
import { positionals } from '../args.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { liveHolder } from '../../store/lock-file.js';
import { daemonFiles, isAlive, looksLikeKoubou, readPid, removePid } from '../daemon.js';
import { CliError, EXIT } from '../../client/errors.js';
import { json } from '../format.js';
import { out, parse, printHelp } from './shared.js';
import { serverConfig } from './server-flags.js';

/** Beyond the drain grace period, what exiting may take (closing the store, the HTTP server). */
const EXTRA_MS = 5_000;
const POLL_MS = 100;

export async function stop(argv: string[]): Promise<number> {
  const parsed = parse('stop', argv);
  const { values, positionals: given } = parsed;
  if (values.help) return printHelp('stop');
  positionals('stop', given, []);
  const config = serverConfig(COMMAND_SPECS.stop.settings, parsed);
  const { pidFile } = daemonFiles(config.store.path);

  // The store's lock names whichever process holds it: `start` in the foreground or detached, or `koubou mcp`.
  const holder = liveHolder(config.store.path);
  if (holder === null || !looksLikeKoubou(holder.pid)) {
    const stalePid = readPid(pidFile) !== null;
    removePid(pidFile);
    throw new CliError(`koubou is not running (no process holds the store ${config.store.path})${stalePid ? `; removed the stale pid file ${pidFile}` : ''}`);
  }
  const { pid } = holder;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    throw new CliError(`cannot signal pid ${pid}: ${(err as Error).message}`);
  }
  const limitMs = config.pool.shutdown_grace_ms + EXTRA_MS;
  const deadline = Date.now() + limitMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) {
      throw new CliError(`koubou (pid ${pid}) has not exited ${limitMs / 1000} s after SIGTERM; it may still be draining (kill -9 ${pid} ends it at once)`);
    }
    await sleep(POLL_MS);
  }
  if (readPid(pidFile) === pid) removePid(pidFile);
  out(values.json ? json({ pid, url: holder.url, command: holder.command, stopped: true }) : `koubou stopped (pid ${pid}${holder.command === 'mcp' ? ', the coordinator inside koubou mcp' : ''})\n`);
  return EXIT.ok;
}
