/**
 * The settings table of every `koubou` command: what it parses, what its --help says, which environment variable
 * stands in for each flag. Kept apart from the commands so that `koubou --help` and usage errors load no server code.
 */
import { DEFAULT_FILE, DEFAULT_URL } from '../config.js';
import { TASK_STATUSES, TASK_TYPES } from '../tasks/task.js';
import type { CommandSpec, SettingTable } from './flags.js';

const help = { type: 'boolean', short: 'h', help: 'print this help' } as const;

/** What configures a coordinator (start, stop, and mcp's embedded one): each flag overrides one config key. */
const SERVER_SETTINGS = {
  config: {
    type: 'string',
    value: 'FILE',
    env: 'KOUBOU_CONFIG',
    defaultText: `${DEFAULT_FILE} if it exists, else built-in defaults`,
    help: 'the configuration file (every key is described in config/koubou.yaml)',
  },
  port: { type: 'string', value: 'N', env: 'KOUBOU_PORT', config: 'server.port', help: 'listen on port N (0: any free port)' },
  host: { type: 'string', value: 'ADDR', env: 'KOUBOU_HOST', config: 'server.host', help: 'listen on ADDR' },
  db: { type: 'string', value: 'PATH', env: 'KOUBOU_DB', config: 'store.path', help: 'the SQLite store; its lock file, the pid file of --detach and logs/ go next to it' },
  'log-level': { type: 'string', value: 'LEVEL', env: 'KOUBOU_LOG_LEVEL', config: 'log.level', help: 'debug, info, warn, error or silent' },
  nats: { type: 'string', value: 'URL', env: 'KOUBOU_NATS_URL', config: 'nats.url', help: 'the NATS server koubou-nodes and other services use' },
  'api-token': { type: 'string', envOnly: true, env: 'KOUBOU_API_TOKEN', config: 'server.api_token', help: 'the token API clients must send' },
  'pool-token': { type: 'string', envOnly: true, env: 'KOUBOU_POOL_TOKEN', config: 'nats.pool_token', help: 'the secret a koubou-node must present to join' },
  'nkey-seed-file': { type: 'string', envOnly: true, env: 'KOUBOU_NATS_NKEY_SEED_FILE', config: 'nats.nkey_seed_file', help: 'NATS auth: a file holding an nkey seed' },
  'creds-file': { type: 'string', envOnly: true, env: 'KOUBOU_NATS_CREDS_FILE', config: 'nats.creds_file', help: 'NATS auth: a .creds file (JWT and seed)' },
  'tls-ca-file': { type: 'string', envOnly: true, env: 'KOUBOU_NATS_TLS_CA_FILE', config: 'nats.tls_ca_file', help: "NATS over TLS: a CA certificate to trust (your own CA's)" },
} as const satisfies SettingTable;

/** What every client command takes. */
const CLIENT_SETTINGS = {
  url: { type: 'string', value: 'URL', env: 'KOUBOU_URL', default: DEFAULT_URL, help: 'the coordinator' },
  json: { type: 'boolean', help: 'print JSON instead of text' },
  help,
  'api-token': { type: 'string', envOnly: true, env: 'KOUBOU_API_TOKEN', help: 'sent as the bearer token' },
} as const satisfies SettingTable;

const START = {
  command: 'koubou start',
  args: '',
  about: 'Runs the coordinator in the foreground until SIGTERM or Ctrl-C (which drain running tasks first).',
  settings: {
    ...SERVER_SETTINGS,
    detach: { type: 'boolean', help: 'run in the background: log to logs/koubou.log and write koubou.pid next to the store,\nwait until it answers /health (15 s at most), print its URL and pid' },
    json: { type: 'boolean', help: 'with --detach: print {url, pid, pid_file, log_file}' },
    help,
  },
} as const satisfies CommandSpec;

const STOP = {
  command: 'koubou stop',
  args: '',
  about: 'Stops the coordinator holding the store named by the configuration, however it was started (in the\nforeground, with --detach, or inside `koubou mcp`): the store\'s lock file names its pid. Sends SIGTERM and waits\nfor it to drain and exit. --config and --db find the store; the other settings are accepted as for start.',
  settings: { ...SERVER_SETTINGS, json: { type: 'boolean', help: 'print {pid, url, command, stopped}' }, help },
} as const satisfies CommandSpec;

const SUBMIT = {
  command: 'koubou submit',
  args: 'PROMPT',
  about: 'Delegates a task. PROMPT "-" reads the prompt from stdin. Without --wait, prints the task id.',
  settings: {
    type: { type: 'string', value: 'TYPE', defaultText: 'general', help: TASK_TYPES.join(', ') },
    priority: { type: 'string', value: 'N', defaultText: '5', help: '1 (lowest) to 10 (highest)' },
    file: { type: 'string', multiple: true, value: 'PATH', help: "attach a file (under the server's files.root); repeat for more" },
    model: { type: 'string', value: 'M', defaultText: "the backend's model", help: 'ask for this model' },
    timeout: { type: 'string', value: 'S', defaultText: 'tasks.default_timeout_s', help: 'time limit of one attempt, in seconds' },
    workdir: { type: 'string', value: 'DIR', help: "run an agent CLI (a command backend) in DIR, under its workspace_root; relative to this shell's directory" },
    'include-reasoning': { type: 'boolean', help: "keep the model's reasoning apart from the output (--json shows it as result.reasoning)" },
    wait: { type: 'boolean', help: 'wait for the task to end: print its output (exit 0), or its error on stderr (exit 1); an answer cut short at the token limit adds a one-line warning on stderr' },
    ...CLIENT_SETTINGS,
  },
} as const satisfies CommandSpec;

const STATUS = {
  command: 'koubou status',
  args: 'ID',
  about: 'Shows a task. With --watch, follows it until it ends, printing each change, then its output;\nexits 0 if it completed, 1 if it failed or was cancelled. --watch --json prints one JSON object per change.',
  settings: { watch: { type: 'boolean', help: 'follow the task until it ends' }, ...CLIENT_SETTINGS },
} as const satisfies CommandSpec;

const TASKS = {
  command: 'koubou tasks',
  args: '',
  about: 'Lists tasks, newest first.',
  settings: {
    status: { type: 'string', value: 'STATUS', defaultText: 'every status', help: TASK_STATUSES.join(', ') },
    limit: { type: 'string', value: 'N', defaultText: '50', help: 'at most N tasks (1-1000)' },
    ...CLIENT_SETTINGS,
  },
} as const satisfies CommandSpec;

const WORKERS = {
  command: 'koubou workers',
  args: '',
  about: 'Lists the workers: backend, model, state, current task, last heartbeat, counts.',
  settings: CLIENT_SETTINGS,
} as const satisfies CommandSpec;

const CANCEL = {
  command: 'koubou cancel',
  args: 'ID',
  about: 'Cancels a task: a pending one never starts, a running one has its LLM request aborted.\nCancelling a task that already completed or failed is an error (exit 1).',
  settings: CLIENT_SETTINGS,
} as const satisfies CommandSpec;

const MCP = {
  command: 'koubou mcp',
  args: '',
  about: 'Runs Koubou\'s MCP server on stdin/stdout, for coding agents (Claude Code and others). It talks to the\ncoordinator at --url; when none answers there, it runs one itself, configured as `koubou start` would be.',
  settings: { url: CLIENT_SETTINGS.url, ...SERVER_SETTINGS, help },
} as const satisfies CommandSpec;

const NATS_CONFIG = {
  command: 'koubou nats-config',
  args: '',
  about: `Writes DIR/nats.conf, a nats-server configuration with one nkey user per role, each allowed only the subjects it
needs: the coordinator (everything under the prefix), each node (its own subjects only), and other services
(request <prefix>.task.* only). Each user's seed goes to its own file in DIR (coordinator.nk, node-ID.nk,
service.nk; mode 0600); seed files already there are kept, so adding a node keeps the other keys.`,
  settings: {
    out: { type: 'string', value: 'DIR', help: 'where to write (created with mode 0700 if missing); required' },
    nodes: { type: 'string', value: 'ID,ID', defaultText: 'none', help: 'the koubou-node ids (their --id) to make users for' },
    prefix: { type: 'string', value: 'P', default: 'koubou', help: "the coordinator's nats.prefix" },
    listen: { type: 'string', value: 'HOST:PORT', default: '0.0.0.0:4222', help: 'where nats-server listens' },
    'tls-cert': { type: 'string', value: 'FILE', help: 'serve TLS only, with this certificate (and --tls-key); clients trust\na certificate of your own CA with nats.tls_ca_file / koubou-node --tls-ca' },
    'tls-key': { type: 'string', value: 'FILE', help: "the TLS certificate's private key" },
    json: { type: 'boolean', help: 'print {config_file, users:[{role, seed_file, public_key, created}]}' },
    help,
  },
} as const satisfies CommandSpec;

/** Every command's table, by the name typed after `koubou`. */
export const COMMAND_SPECS = {
  start: START,
  stop: STOP,
  submit: SUBMIT,
  status: STATUS,
  tasks: TASKS,
  workers: WORKERS,
  cancel: CANCEL,
  mcp: MCP,
  'nats-config': NATS_CONFIG,
} as const;

export type CommandName = keyof typeof COMMAND_SPECS;
