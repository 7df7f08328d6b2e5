/** The help of the `koubou` command as a whole, and what a usage error prints after its message. */
import { COMMAND_SPECS, type CommandName } from './command-specs.js';
import { usageLine } from './flags.js';

export const MAIN = `usage: koubou <command> [options]

Commands:
  start     run the coordinator (in the foreground, or in the background with --detach)
  stop      stop a coordinator started with --detach
  submit    delegate a task: koubou submit "prompt" [--wait]
  status    show a task, or follow it with --watch
  tasks     list tasks
  workers   list workers
  cancel    cancel a task
  mcp       run the MCP server on stdin/stdout
  nats-config  write a nats-server config with one nkey user per role for a LAN pool

\`koubou <command> --help\` lists a command's flags, with their defaults and environment variables. Client
commands talk to --url URL, else $KOUBOU_URL, else http://127.0.0.1:8765, sending $KOUBOU_API_TOKEN as the
bearer token when set.
Exit codes: 0 done, 1 failed (task failed or cancelled, API error, server unreachable), 2 wrong usage.`;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SPECS, name);
}

/** After a usage error: the command's usage line and where its flags are listed, or the whole command's help. */
export function usageHint(command: string | null): string {
  if (command === null || !isCommand(command)) return MAIN;
  return `${usageLine(COMMAND_SPECS[command])}\n(koubou ${command} --help lists every flag)`;
}
