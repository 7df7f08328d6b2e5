#!/usr/bin/env node
/** The `koubou` command: dispatches to one module per command. Exit codes are in errors.ts (0 done, 1 failed, 2 usage). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodeModule from 'node:module';
import { KoubouError } from '../errors.js';
import { CliError, EXIT, UsageError } from '../client/errors.js';
import { COMMAND_SPECS } from './command-specs.js';
import { helpText } from './flags.js';
import { closest } from '../did-you-mean.js';
import { packageRoot } from '../package-root.js';
import { isCommand, MAIN, usageHint } from './usage.js';

type Command = (argv: string[]) => Promise<number | void>;

// Node 22.1 and later keep the compiled code of loaded modules on disk, so later starts (of `koubou mcp` with every
// agent session, above all) skip most of the compiling; older versions have no such cache.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** Loaded on demand, so `koubou tasks` does not load the server. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.js')).start,
  stop: async () => (await import('./commands/stop.js')).stop,
  submit: async () => (await import('./commands/submit.js')).submit,
  status: async () => (await import('./commands/status.js')).status,
  tasks: async () => (await import('./commands/lists.js')).tasks,
  workers: async () => (await import('./commands/lists.js')).workers,
  cancel: async () => (await import('./commands/cancel.js')).cancel,
  mcp: async () => (await import('./commands/mcp.js')).mcp,
  'nats-config': async () => (await import('./commands/nats-config.js')).natsConfig,
};

async function main(argv: string[]): Promise<number | void> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('missing command');
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !isCommand(topic)) throw unknownCommand(topic);
    process.stdout.write(`${topic === undefined ? MAIN : helpText(COMMAND_SPECS[topic])}\n`);
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!load) throw first.startsWith('-') ? new UsageError(`expected a command before ${first}`) : unknownCommand(first);
  return (await load())(rest);
}

function unknownCommand(name: string): UsageError {
  const near = closest(name, Object.keys(COMMANDS));
  return new UsageError(`unknown command ${JSON.stringify(name)}${near ? `; did you mean ${near}?` : ''}`);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function report(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`koubou: ${err.message}\n${usageHint(err.command)}\n`);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    process.stderr.write(`koubou: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof KoubouError) {
    // From the server side of `start` / `stop`: a configuration mistake is a usage error.
    process.stderr.write(`koubou: ${err.message}\n`);
    return err.code === 'config_error' ? EXIT.usage : EXIT.failed;
  }
  // A system error (EADDRINUSE, EACCES...) says enough in its message; anything else gets its stack.
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`koubou: ${typeof e.code === 'string' && e.syscall ? e.message : (e.stack ?? String(err))}\n`);
  return EXIT.failed;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  // Exit at once: a failed `start` may leave handles open that would keep the process alive.
  (err: unknown) => process.exit(report(err)),
);
