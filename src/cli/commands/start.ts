/** `koubou start`: the coordinator in the foreground, or with --detach in the background (pid file, log file). */
import { listeningUrl as urlInLog } from '../../logging/listening.js';
import { logFilePath } from '../../logging/log-file.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KoubouConfig } from '../../config.js';
import { positionals } from '../args.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { processEnv } from '../../client/client-env.js';
import { StoreInUse } from '../../errors.js';
import { liveHolder } from '../../store/lock-file.js';
import { daemonFiles, localUrl, logTail, removePid, writePid } from '../daemon.js';
import { CliError, EXIT } from '../../client/errors.js';
import { json } from '../format.js';
import { out, parse, printHelp } from './shared.js';
import { configArgs, serverConfig } from './server-flags.js';

const READY_WITHIN_MS = 15_000;
const POLL_MS = 100;

export async function start(argv: string[]): Promise<number | void> {
  const parsed = parse('start', argv);
  const { values, positionals: given } = parsed;
  if (values.help) return printHelp('start');
  positionals('start', given, []);
  const { settings } = COMMAND_SPECS.start;
  const config = serverConfig(settings, parsed);
  const args = configArgs(settings, parsed);
  if (values.detach) return detach(config, args, values.json === true);
  const [{ runCoordinator }, { createPinoLogger }, { LogRing }] = await Promise.all([
    import('../../main.js'),
    import('../../logging/pino-logger.js'),
    import('../../logging/log-ring.js'),
  ]);
  // Lines to stdout (readable on a terminal, JSON when piped), JSON to the store's log file; the ring serves GET /api/logs.
  const logs = new LogRing();
  const file = logFilePath(config.store.path);
  await runCoordinator(config, createPinoLogger({ name: 'koubou', level: config.log.level, console: 'stdout', file, ring: logs }), logs);
}

/** Starts `koubou start ARGS` as a detached child logging to koubou.log, and returns once it answers /health. */
async function detach(config: KoubouConfig, args: string[], asJson: boolean): Promise<number> {
  const files = daemonFiles(config.store.path);
  fs.mkdirSync(path.dirname(files.logFile), { recursive: true });
  // The child would refuse too; saying it here spares the wait.
  const holder = liveHolder(config.store.path);
  if (holder !== null) throw new StoreInUse(config.store.path, holder.pid, holder.url);
  const url = config.server.port === 0 ? null : localUrl(config.server.host, config.server.port);
  if (url !== null && (await answers(url))) throw new CliError(`something already answers at ${url}; is koubou already running?`);

  const logFd = fs.openSync(files.logFile, 'a');
  const logStart = fs.fstatSync(logFd).size;
  let child;
  try {
    // The program this is: dist/bin/koubou.js as users run it (or the compiled dist/src/cli/koubou.js).
    child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'start', ...args], {
      cwd: process.cwd(),
      env: processEnv(),
      detached: true,
      // The child logs to this same file itself; its stderr catches what happens before its logger exists.
      stdio: ['ignore', 'ignore', logFd],
    });
  } finally {
    fs.closeSync(logFd);
  }
  const ended = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not be started: ${err.message}`));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ? `signal ${signal}` : `code ${code}`}`));
  });
  const pid = child.pid;
  if (pid === undefined) throw new CliError(`koubou ${await ended}`);
  writePid(files.pidFile, pid);
  child.unref();

  const ready = waitUntilAnswering(() => url ?? listeningUrl(files.logFile, logStart));
  const outcome = await Promise.race([ready, ended.then((how) => ({ died: how }))]);
  if (outcome === null) {
    child.kill('SIGTERM');
    removePid(files.pidFile);
    const where = url ?? '(port 0: no "koubou is listening" line in the log; set server.port, or log.level info)';
    throw new CliError(`koubou did not answer at ${where} within ${READY_WITHIN_MS / 1000} s; stopped it. The end of ${files.logFile}:\n${logTail(files.logFile, logStart)}`);
  }
  if (typeof outcome === 'object') {
    removePid(files.pidFile);
    throw new CliError(`koubou ${outcome.died} before it answered; the end of ${files.logFile}:\n${logTail(files.logFile, logStart)}`);
  }
  out(asJson ? json({ url: outcome, pid, pid_file: files.pidFile, log_file: files.logFile }) : `koubou is running at ${outcome} (pid ${pid}, log ${files.logFile})\n`);
  return EXIT.ok;
}

/** Polls /health until something answers; resolves with the URL, or null when the time is up. */
async function waitUntilAnswering(target: () => string | null): Promise<string | null> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    const url = target();
    if (url !== null && (await answers(url))) return url;
    await sleep(POLL_MS);
  }
  return null;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** With server.port 0 the only way to learn the port is the "koubou is listening" log line (log level info). */
function listeningUrl(logFile: string, from: number): string | null {
  return urlInLog(logTail(logFile, from, 1_000));
}
