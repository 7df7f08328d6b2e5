/** The settings table of `koubou-node`: what it parses, what its --help says, which environment variable stands in. */
import { TASK_TYPES } from '../tasks/task.js';
import type { CommandSpec } from './flags.js';

export const NODE_SPEC = {
  command: 'koubou-node',
  args: '',
  about: `Joins this machine's LLM backends and agent CLIs to a coordinator's pool over NATS:
  koubou-node --nats nats://host:4222 --backend ollama --url http://127.0.0.1:11434 --model gpt-oss:20b --concurrency 2
  koubou-node --nats nats://host:4222 --backend command --preset codex --model gpt-oss:20b --workspace-root ~/work --types code
  koubou-node --nats nats://host:4222 --config node.yaml   (every backend there; max_workers is its concurrency)`,
  settings: {
    nats: { type: 'string', value: 'URL', env: 'KOUBOU_NATS_URL', defaultText: "nats.url of --config's file", help: "the coordinator's NATS server (required)" },
    id: { type: 'string', value: 'ID', defaultText: "this machine's host name", help: 'this node in the pool: letters, digits, "-" and "_" (at most 64)' },
    token: { type: 'string', value: 'T', env: 'KOUBOU_POOL_TOKEN', defaultText: "nats.pool_token of --config's file", help: "the coordinator's nats.pool_token" },
    prefix: { type: 'string', value: 'P', defaultText: "nats.prefix of --config's file, else koubou", help: 'the NATS subject prefix' },
    'nkey-seed-file': { type: 'string', value: 'F', env: 'KOUBOU_NATS_NKEY_SEED_FILE', help: 'NATS auth: a file holding an nkey seed' },
    creds: { type: 'string', value: 'F', env: 'KOUBOU_NATS_CREDS_FILE', help: 'NATS auth: a .creds file (JWT and seed)' },
    'tls-ca': { type: 'string', value: 'F', env: 'KOUBOU_NATS_TLS_CA_FILE', help: "a CA certificate to trust when the NATS server's TLS certificate is from your own CA" },
    'log-level': { type: 'string', value: 'L', env: 'KOUBOU_LOG_LEVEL', default: 'info', help: 'debug, info, warn, error or silent' },
    'log-file': {
      type: 'string',
      value: 'FILE',
      env: 'KOUBOU_LOG_FILE',
      defaultText: "logs/koubou.log beside --config's store, else .koubou/logs/koubou.log here",
      help: 'append JSON log lines here as well as to stdout ("-": stdout only)',
    },
    config: { type: 'string', value: 'FILE', help: 'serve every backend of this configuration file (instead of --backend ...)' },
    backend: { type: 'string', value: 'TYPE', help: 'ollama or openai (with --url and --model), or command (an agent CLI: --preset, --model): the one backend to serve' },
    url: { type: 'string', value: 'URL', help: "the backend's base URL" },
    model: { type: 'string', value: 'M', help: "the backend's model (an agent CLI is told to use it)" },
    preset: { type: 'string', value: 'P', help: 'with --backend command: codex, gemini or aider (generic, or a command of your own: --config)' },
    'workspace-root': { type: 'string', value: 'DIR', help: "with --backend command: tasks' workdirs must lie under DIR on this machine; each runs in a git worktree there" },
    name: { type: 'string', value: 'NAME', defaultText: 'the node id', help: "what the coordinator's /workers and error messages call the backend" },
    concurrency: { type: 'string', value: 'N', default: '1', help: 'how many tasks it runs at once (1-1024)' },
    types: { type: 'string', value: 'T,T', defaultText: 'every type', help: `the task types it takes: ${TASK_TYPES.join(', ')}` },
    models: { type: 'string', value: 'M,M', help: 'models it serves besides --model' },
    'max-tokens': { type: 'string', value: 'N', help: 'the longest answer it allows' },
    help: { type: 'boolean', short: 'h', help: 'print this help' },
  },
  notes: `With --config, each backend's types, models and max_tokens keys say what --types, --models and --max-tokens
say, and its nats section fills what the flags leave out. A type command backend there runs as on a coordinator
(workspace_root, isolation, env, kill_grace_ms, max_output_bytes are read from it); its results' diffs travel back.
NATS credentials: user:password or a token in the URL (nats://user:pass@host:4222), an nkey seed file, or a .creds
file.
The default log file is the one a coordinator started in the same folder (or on the same --config) writes, so one
file holds koubou's and koubou-node's lines; under a service manager, give --log-file (or "-" and read its journal).
Exit codes: 0 stopped by a signal, 1 refused or failed, 2 wrong usage.`,
} as const satisfies CommandSpec;
