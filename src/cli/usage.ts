/** Help texts: the whole command, and each subcommand. */

const CLIENT_NOTE = `  --url URL           the coordinator (default: $KOUBOU_URL, else http://127.0.0.1:8765)
  --json              print JSON instead of text
$KOUBOU_API_TOKEN is sent as the bearer token when set.`;

const SERVER_FLAGS = `  --config FILE       configuration file (default config/koubou.yaml; $KOUBOU_CONFIG)
  --port N            listen on port N ($KOUBOU_PORT)
  --host ADDR         listen on ADDR ($KOUBOU_HOST)
  --db PATH           SQLite store ($KOUBOU_DB); the pid and log files of --detach go next to it
  --log-level LEVEL   debug, info, warn, error or silent ($KOUBOU_LOG_LEVEL)`;

export const COMMANDS: Record<string, string> = {
  start: `usage: koubou start [--config FILE] [--port N] [--host ADDR] [--db PATH] [--log-level LEVEL] [--detach] [--json]

Runs the coordinator in the foreground until SIGTERM or Ctrl-C (which drain running tasks first).

${SERVER_FLAGS}
  --detach            run in the background: log to koubou.log and write koubou.pid next to the store,
                      wait until it answers /health (15 s at most), print its URL and pid
  --json              with --detach: print {url, pid, pid_file, log_file}

Every setting is described in config/koubou.yaml; $KOUBOU_API_TOKEN sets the API token.`,

  stop: `usage: koubou stop [--config FILE] [--db PATH] [--json]

Stops a coordinator started with \`koubou start --detach\`: sends SIGTERM to the pid in koubou.pid (next to the
store named by the configuration), waits for it to drain and exit, and removes the pid file.

  --config FILE, --db PATH   as for start, to find the store and so the pid file
  --json              print {pid, stopped}`,

  submit: `usage: koubou submit PROMPT [--type TYPE] [--priority N] [--file PATH]... [--model M] [--timeout S] [--wait] [--json]

Delegates a task. PROMPT "-" reads the prompt from stdin. Without --wait, prints the task id.

  --type TYPE         general (default), code, code_generation, documentation, translation, analysis, refactoring
  --priority N        1 (lowest) to 10 (highest), default 5
  --file PATH         attach a file (under the server's files.root); repeat for more
  --model M           ask for this model
  --timeout S         time limit of one attempt, in seconds
  --wait              wait for the task to end: print its output (exit 0), or its error on stderr (exit 1)
${CLIENT_NOTE}`,

  status: `usage: koubou status ID [--watch] [--json]

Shows a task. With --watch, follows it until it ends, printing each change, then its output;
exits 0 if it completed, 1 if it failed or was cancelled. --watch --json prints one JSON object per change.

${CLIENT_NOTE}`,

  tasks: `usage: koubou tasks [--status STATUS] [--limit N] [--json]

Lists tasks, newest first.

  --status STATUS     pending, in_progress, completed, failed or cancelled
  --limit N           at most N tasks (1-1000, default 50)
${CLIENT_NOTE}`,

  workers: `usage: koubou workers [--json]

Lists the workers: backend, model, state, current task, last heartbeat, counts.

${CLIENT_NOTE}`,

  cancel: `usage: koubou cancel ID [--json]

Cancels a task: a pending one never starts, a running one has its LLM request aborted.
Cancelling a task that already completed or failed is an error (exit 1).

${CLIENT_NOTE}`,

  mcp: `usage: koubou mcp [OPTIONS]

Runs Koubou's MCP server on stdin/stdout, for coding agents (Claude Code and others).`,
};

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

\`koubou <command> --help\` describes a command. Client commands talk to --url URL, else $KOUBOU_URL,
else http://127.0.0.1:8765, sending $KOUBOU_API_TOKEN as the bearer token when set.
Exit codes: 0 done, 1 failed (task failed or cancelled, API error, server unreachable), 2 wrong usage.`;

export function usage(command: string | null): string {
  return (command !== null && COMMANDS[command]) || MAIN;
}
