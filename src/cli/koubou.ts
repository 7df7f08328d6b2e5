#!/usr/bin/env node
/** The `koubou` command. Exit codes: 0 done, 1 failed, 2 usage. */
import { loadConfig, parseFlags } from '../config.js';
import { KoubouError } from '../errors.js';
import { createLogger } from '../logger.js';
import { runCoordinator } from '../main.js';

const USAGE = `usage: koubou start [--config FILE] [--port N] [--host ADDR] [--db PATH] [--log-level LEVEL]

  start    run the coordinator in the foreground (the default)

Environment: KOUBOU_CONFIG, KOUBOU_PORT, KOUBOU_HOST, KOUBOU_DB, KOUBOU_API_TOKEN, KOUBOU_LOG_LEVEL.
Every setting is described in config/koubou.yaml.`;

async function main(argv: string[]): Promise<void> {
  const { flags, positionals } = parseFlags(argv, ['help', 'version']);
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const command = positionals[0] ?? 'start';
  if (command !== 'start') {
    process.stderr.write(`koubou: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfig({ argv, env: process.env, cwd: process.cwd() });
  await runCoordinator(config, createLogger(config.log.level));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof KoubouError) {
    process.stderr.write(`koubou: ${err.message}\n`);
    process.exit(err.code === 'config_error' ? 2 : 1);
  }
  process.stderr.write(`koubou: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
