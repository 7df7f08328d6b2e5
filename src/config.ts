/**
 * Koubou's configuration: defaults < YAML file < overrides (environment < command-line flags, resolved by each
 * command's settings table in src/cli/flags.ts and handed in as values, never as argv).
 * Relative paths (store.path, files.root, the config file itself) are resolved against `cwd`,
 * the coordinator's working directory, not against the config file's directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { BackendSettings, BackendType } from './backends/types.js';
import { readCommandSettings } from './backends/command/config.js';
import { COMMAND_DEFAULTS, type CommandSettings } from './backends/command/settings.js';
import { ConfigError } from './errors.js';
import type { LogLevel } from './logger.js';
import { Section, hostName, int, list, listenAddress, matching, nullable, oneOf, positive, releaseVersion, serverUrl, str, url, webOrigin, type ListenAddress } from './config-validate.js';
import { ROUTING_DEFAULTS, readRouting, type RoutingConfig } from './routing/policy.js';
import { TASK_TYPES, type TaskType } from './tasks/task.js';

export interface ServerConfig {
  readonly host: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
  /** When set, clients must present this token. */
  readonly api_token: string | null;
  readonly sync_wait_s: number;
  readonly body_limit_bytes: number;
  /** Host names accepted in `Host` besides the bind address, localhost, 127.0.0.1 and [::1] (lower case, no port). */
  readonly allowed_hosts: readonly string[];
  /** Web origins (scheme://host[:port]) whose pages may call the API; the dashboard's own origin always may. */
  readonly allowed_origins: readonly string[];
  /** Time a client has to send a request's headers, and its whole request (headers and body). */
  readonly headers_timeout_s: number;
  readonly request_timeout_s: number;
  /** How long an idle keep-alive connection stays open between requests. */
  readonly keep_alive_timeout_s: number;
  /** Connections each listener holds at once; past it a new one is closed at once (files stay free for the store). */
  readonly max_connections: number;
  /** Most bytes a watcher (/events, /ws, /mcp stream, task stream) may have waiting before it is dropped. */
  readonly stream_buffer_bytes: number;
  readonly ws_max_message_bytes: number;
  readonly ws_max_subscriptions: number;
}

export interface RestartConfig {
  readonly base_ms: number;
  readonly max_ms: number;
  readonly intensity: number;
  readonly period_ms: number;
}

export interface PoolConfig {
  readonly heartbeat_interval_ms: number;
  readonly heartbeat_timeout_ms: number;
  readonly idle_ms: number;
  readonly shutdown_grace_ms: number;
  /** How long a node that left is waited for by the tasks and gateway requests naming its models (src/routing/pool-view.ts). */
  readonly node_return_ms: number;
  readonly restart: RestartConfig;
  readonly backpressure: BackpressureConfig;
}

/** When a backend pushes back (busy, rate-limited, unreachable): see src/supervision/backend-gate.ts. */
export interface BackpressureConfig {
  /** Consecutive connection failures that open a backend's circuit. */
  readonly failure_threshold: number;
  /** First wait before an open circuit's probe (and a busy backend's pause when it names no Retry-After); doubles. */
  readonly probe_base_ms: number;
  /** ...up to this. */
  readonly probe_max_ms: number;
}

/** A backend entry; extending BackendSettings makes the compiler check that it can be handed to a backend. */
export interface BackendConfig extends BackendSettings {
  readonly name: string;
  readonly type: BackendType;
  readonly url: string;
  readonly model: string;
  readonly min_workers: number;
  readonly max_workers: number;
  /** YAML null (no key) reads as undefined, which is what BackendSettings expects. */
  readonly api_key: string | undefined;
  readonly endpoint: 'chat' | 'generate';
  readonly stream: boolean;
  /** Default task timeout for this backend; null uses tasks.default_timeout_s. */
  readonly timeout_s: number | null;
  /** Task types its workers take; null = every type. */
  readonly types: readonly TaskType[] | null;
  /** Models it serves besides `model` (a task asking for one of them goes to a backend that serves it). */
  readonly models: readonly string[];
  /** Most tokens an answer may have here; tasks asking for more go elsewhere. null = no limit. */
  readonly max_tokens: number | null;
  /** type command: how its CLI runs; null for LLM servers. */
  readonly command: CommandSettings | null;
}

export interface KoubouConfig {
  readonly server: ServerConfig;
  /** path is absolute after loading. */
  readonly store: { readonly path: string };
  readonly queue: { readonly max_pending: number };
  readonly tasks: {
    readonly default_timeout_s: number;
    readonly max_attempts: number;
    readonly retry_base_ms: number;
    readonly retry_max_ms: number;
    /** Bytes of answer one backend call may stream; past it the call is aborted and the task fails output_too_large. */
    readonly max_output_bytes: number;
    /** Once a task's first deferral (its backend busy, rate-limited, not there) is this long ago, its next one fails it. */
    readonly max_defer_ms: number;
  };
  readonly pool: PoolConfig;
  /** root is absolute after loading; null disables `files` in tasks. */
  /** exclude: globs relative to root that tasks may not attach. */
  readonly files: { readonly root: string | null; readonly max_bytes: number; readonly exclude: readonly string[] };
  readonly log: { readonly level: LogLevel };
  /** pool_token: what a koubou-node must present to join; null accepts any node that reaches the NATS server. */
  /** nkey_seed_file / creds_file: NATS authentication by nkey or by JWT credentials (absolute paths after loading). */
  readonly nats: {
    readonly url: string | null;
    readonly prefix: string;
    readonly pool_token: string | null;
    readonly nkey_seed_file: string | null;
    readonly creds_file: string | null;
    /** A CA certificate (PEM) to trust for a NATS server that serves TLS with a certificate of your own CA. */
    readonly tls_ca_file: string | null;
  };
  readonly routing: RoutingConfig;
  /** The LLM gateway (src/gateway): the pool as an OpenAI- and Ollama-compatible server. */
  readonly gateway: {
    /** A second listener serving the gateway's routes (tools that assume Ollama's port); null: the API's port only. */
    readonly ollama_listen: ListenAddress | null;
    /** What GET /api/version reports; null: the lowest version among the pool's live Ollama backends, else a fixed one. */
    readonly ollama_version: string | null;
    /** Largest request body the gateway's routes read (images come inline, as base64): its own, above the API's. */
    readonly body_limit_bytes: number;
  };
  readonly backends: readonly BackendConfig[];
}

/** One value for a config key from outside the file, and where it came from (for error messages). */
export interface ConfigOverride {
  /** A key path: `server.port`. */
  key: string;
  value: string;
  /** `--port`, `KOUBOU_PORT`. */
  from: string;
}

export interface LoadConfigOptions {
  cwd?: string;
  /** The file named by a flag or environment variable (`from`); absent: config/koubou.yaml when it exists. */
  file?: { path: string; from: string };
  /** Values that win over the file's, flags over environment already decided. */
  overrides?: readonly ConfigOverride[];
  /** server.port when neither the file nor an override sets it: `koubou mcp` asks for 0 (any free port). */
  defaultPort?: number;
}

/** Where clients (the CLI, `koubou mcp`) look for a coordinator by default: server.host and server.port's defaults. */
export const DEFAULT_URL = 'http://127.0.0.1:8765';

/** Node timers fire at once when given more than 2^31-1 ms, so every duration stays below that. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_TIMER_S = Math.floor(MAX_TIMER_MS / 1000);
const MAX_WORKERS = 256;
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const BACKEND_TYPES: readonly BackendType[] = ['ollama', 'openai', 'command'];
/** The file read when none is named (relative to the working directory). */
export const DEFAULT_FILE = 'config/koubou.yaml';

/** Defaults of every key; `undefined` marks a key without a default (required, or derived from others). */
const DEFAULTS = {
  server: {
    host: '127.0.0.1',
    port: 8765,
    api_token: null,
    sync_wait_s: 300,
    body_limit_bytes: 1_048_576,
    allowed_hosts: [] as string[],
    allowed_origins: [] as string[],
    headers_timeout_s: 10,
    request_timeout_s: 30,
    keep_alive_timeout_s: 5,
    max_connections: 4096,
    stream_buffer_bytes: 262_144,
    ws_max_message_bytes: 65_536,
    ws_max_subscriptions: 100,
  },
  store: { path: '.koubou/koubou.db' },
  queue: { max_pending: 100_000 },
  tasks: { default_timeout_s: 600, max_attempts: 3, retry_base_ms: 1000, retry_max_ms: 30000, max_output_bytes: 4 * 1024 * 1024, max_defer_ms: 30 * 60_000 },
  pool: {
    heartbeat_interval_ms: 1000,
    heartbeat_timeout_ms: 3000,
    idle_ms: 60_000,
    shutdown_grace_ms: 10_000,
    node_return_ms: 60_000,
    restart: { base_ms: 100, max_ms: 30_000, intensity: 5, period_ms: 60_000 },
    backpressure: { failure_threshold: 3, probe_base_ms: 1000, probe_max_ms: 30_000 },
  },
  files: { root: '.', max_bytes: 262_144, exclude: ['.koubou/**', 'config/*.yaml'] },
  log: { level: 'info' },
  nats: { url: null, prefix: 'koubou', pool_token: null, nkey_seed_file: null, creds_file: null, tls_ca_file: null },
  routing: ROUTING_DEFAULTS,
  gateway: { ollama_listen: null, ollama_version: null, body_limit_bytes: 20 * 1024 * 1024 },
  backends: undefined,
};

const BACKEND_DEFAULTS = {
  name: undefined,
  type: undefined,
  url: undefined,
  model: undefined,
  min_workers: 1,
  max_workers: undefined,
  api_key: null,
  endpoint: 'chat',
  stream: true,
  timeout_s: null,
  types: null,
  models: [],
  max_tokens: null,
  ...COMMAND_DEFAULTS,
};

/** Used when no config file is named and config/koubou.yaml does not exist. */
const DEFAULT_BACKEND = {
  name: 'local',
  type: 'ollama',
  url: 'http://127.0.0.1:11434',
  model: 'gpt-oss:20b',
  min_workers: 1,
  max_workers: 2,
};

/** The default of a key path (`server.port`), for help texts; undefined for keys without one. */
export function configDefault(key: string): unknown {
  let value: unknown = DEFAULTS;
  for (const part of key.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/**
 * Builds the validated, deep-frozen configuration from defaults, the YAML file and the overrides. A ConfigError
 * about a key the file set names the file; one about an override names the flag or variable that gave it.
 */
export function loadConfig(opts: LoadConfigOptions = {}): KoubouConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const { raw, file } = readConfigFile(cwd, opts.file);
  const origins = applyOverrides(raw, opts.overrides ?? []);
  const defaults = opts.defaultPort === undefined ? DEFAULTS : { ...DEFAULTS, server: { ...DEFAULTS.server, port: opts.defaultPort } };
  try {
    return deepFreeze(validate(raw, origins, cwd, defaults));
  } catch (err) {
    if (err instanceof ConfigError && file !== null && err.key !== undefined && !origins.has(err.key) && err.file === undefined) {
      throw new ConfigError(err.reason, err.key, file);
    }
    throw err;
  }
}

/** The parsed YAML of the named or default config file (and its path), or the built-in defaults when there is none. */
function readConfigFile(cwd: string, named: LoadConfigOptions['file']): { raw: Record<string, unknown>; file: string | null } {
  const source = named?.from ?? DEFAULT_FILE;
  const file = path.resolve(cwd, named?.path ?? DEFAULT_FILE);
  if (named === undefined && !fs.existsSync(file)) return { raw: { backends: [{ ...DEFAULT_BACKEND }] }, file: null };

  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'config file not found' : 'cannot read config file';
    throw new ConfigError(`${reason}: ${file}`, source);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid YAML: ${(err as Error).message.trimEnd()}`, file);
  }
  if (parsed === null || parsed === undefined) return { raw: {}, file };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('must hold a YAML mapping (key: value lines) at the top level', file);
  }
  return { raw: parsed as Record<string, unknown>, file };
}

/** Writes the overrides into the raw config (`section.key` paths); returns which key each one set and from where. */
function applyOverrides(raw: Record<string, unknown>, overrides: readonly ConfigOverride[]): Map<string, string> {
  const origins = new Map<string, string>();
  for (const { key, value, from } of overrides) {
    const parts = key.split('.');
    const name = parts.pop()!;
    let target: unknown = raw;
    for (const part of parts) {
      const record = target as Record<string, unknown>;
      record[part] ??= {};
      target = record[part];
      // A section that is not a mapping is left alone so validation reports it.
      if (typeof target !== 'object' || target === null || Array.isArray(target)) break;
    }
    if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
    (target as Record<string, unknown>)[name] = value;
    origins.set(key, from);
  }
  return origins;
}

function validate(raw: Record<string, unknown>, origins: ReadonlyMap<string, string>, cwd: string, defaults: typeof DEFAULTS): KoubouConfig {
  const root = new Section(raw, '', defaults, origins);
  const server = root.section('server');
  const store = root.section('store');
  const queue = root.section('queue');
  const tasks = root.section('tasks');
  const pool = root.section('pool');
  const restart = pool.section('restart');
  const backpressure = pool.section('backpressure');
  const files = root.section('files');
  const log = root.section('log');
  const nats = root.section('nats');
  const gateway = root.section('gateway');

  const config: KoubouConfig = {
    server: {
      host: server.str('host'),
      port: server.int('port', { min: 0, max: 65_535 }),
      api_token: server.read('api_token', nullable(str)),
      sync_wait_s: server.positive('sync_wait_s', MAX_TIMER_S),
      body_limit_bytes: server.int('body_limit_bytes', { min: 1 }),
      allowed_hosts: server.read('allowed_hosts', (v, k) => list(v, k).map((h, i) => hostName(h, `${k}[${i}]`))),
      allowed_origins: server.read('allowed_origins', (v, k) => list(v, k).map((o, i) => webOrigin(o, `${k}[${i}]`))),
      headers_timeout_s: server.positive('headers_timeout_s', MAX_TIMER_S),
      request_timeout_s: server.positive('request_timeout_s', MAX_TIMER_S),
      keep_alive_timeout_s: server.positive('keep_alive_timeout_s', MAX_TIMER_S),
      max_connections: server.int('max_connections', { min: 1 }),
      stream_buffer_bytes: server.int('stream_buffer_bytes', { min: 1024 }),
      ws_max_message_bytes: server.int('ws_max_message_bytes', { min: 64 }),
      ws_max_subscriptions: server.int('ws_max_subscriptions', { min: 1 }),
    },
    store: { path: path.resolve(cwd, store.read('path', storePath)) },
    queue: { max_pending: queue.int('max_pending', { min: 1 }) },
    tasks: {
      default_timeout_s: tasks.positive('default_timeout_s', MAX_TIMER_S),
      max_attempts: tasks.int('max_attempts', { min: 1, max: 100 }),
      retry_base_ms: tasks.int('retry_base_ms', { min: 0, max: MAX_TIMER_MS }),
      retry_max_ms: tasks.int('retry_max_ms', { min: 0, max: MAX_TIMER_MS }),
      max_output_bytes: tasks.int('max_output_bytes', { min: 1024, max: 1024 * 1024 * 1024 }),
      max_defer_ms: tasks.int('max_defer_ms', { min: 1, max: MAX_TIMER_MS }),
    },
    pool: {
      heartbeat_interval_ms: pool.int('heartbeat_interval_ms', { min: 1, max: MAX_TIMER_MS }),
      heartbeat_timeout_ms: pool.int('heartbeat_timeout_ms', { min: 1, max: MAX_TIMER_MS }),
      idle_ms: pool.int('idle_ms', { min: 0, max: MAX_TIMER_MS }),
      shutdown_grace_ms: pool.int('shutdown_grace_ms', { min: 0, max: MAX_TIMER_MS }),
      node_return_ms: pool.int('node_return_ms', { min: 0, max: MAX_TIMER_MS }),
      restart: {
        base_ms: restart.int('base_ms', { min: 1, max: MAX_TIMER_MS }),
        max_ms: restart.int('max_ms', { min: 1, max: MAX_TIMER_MS }),
        intensity: restart.int('intensity', { min: 1 }),
        period_ms: restart.int('period_ms', { min: 1, max: MAX_TIMER_MS }),
      },
      backpressure: {
        failure_threshold: backpressure.int('failure_threshold', { min: 1, max: 1000 }),
        probe_base_ms: backpressure.int('probe_base_ms', { min: 1, max: MAX_TIMER_MS }),
        probe_max_ms: backpressure.int('probe_max_ms', { min: 1, max: MAX_TIMER_MS }),
      },
    },
    files: {
      root: mapNull(files.read('root', nullable(str)), (root) => path.resolve(cwd, root)),
      max_bytes: files.int('max_bytes', { min: 1 }),
      exclude: files.read('exclude', (v, k) => list(v, k).map((g, i) => str(g, `${k}[${i}]`))),
    },
    log: { level: log.oneOf('level', LOG_LEVELS) },
    nats: {
      url: nats.read('url', nullable((v, k) => url(v, k, ['nats', 'tls', 'ws', 'wss']))),
      prefix: nats.read('prefix', (v, k) => matching(v, k, /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "letters, digits, '_', '-' and single dots")),
      pool_token: nats.read('pool_token', nullable(str)),
      nkey_seed_file: mapNull(nats.read('nkey_seed_file', nullable(str)), (file) => path.resolve(cwd, file)),
      creds_file: mapNull(nats.read('creds_file', nullable(str)), (file) => path.resolve(cwd, file)),
      tls_ca_file: mapNull(nats.read('tls_ca_file', nullable(str)), (file) => path.resolve(cwd, file)),
    },
    routing: readRouting(root.section('routing')),
    gateway: {
      ollama_listen: gateway.read('ollama_listen', nullable(listenAddress)),
      ollama_version: gateway.read('ollama_version', nullable(releaseVersion)),
      body_limit_bytes: gateway.int('body_limit_bytes', { min: 1024, max: 1024 * 1024 * 1024 }),
    },
    backends: root.read('backends', (v, k) => readBackends(v, k, cwd)),
  };

  // A coordinator whose workers are all on LAN nodes has no backend of its own; without NATS it would have no worker.
  if (config.backends.length === 0 && config.nats.url === null) {
    throw new ConfigError('must list at least one backend (or set nats.url, so that koubou-nodes bring the workers)', 'backends');
  }

  const { heartbeat_interval_ms: interval, heartbeat_timeout_ms: timeout } = config.pool;
  if (timeout <= interval) {
    throw new ConfigError(`must be greater than pool.heartbeat_interval_ms (${interval}), got ${timeout}`, pool.keyOf('heartbeat_timeout_ms'));
  }
  const { base_ms, max_ms } = config.pool.restart;
  if (max_ms < base_ms) throw new ConfigError(`must be >= pool.restart.base_ms (${base_ms}), got ${max_ms}`, restart.keyOf('max_ms'));
  const { probe_base_ms, probe_max_ms } = config.pool.backpressure;
  if (probe_max_ms < probe_base_ms) throw new ConfigError(`must be >= pool.backpressure.probe_base_ms (${probe_base_ms}), got ${probe_max_ms}`, backpressure.keyOf('probe_max_ms'));
  const { retry_base_ms, retry_max_ms } = config.tasks;
  if (retry_max_ms < retry_base_ms) throw new ConfigError(`must be >= tasks.retry_base_ms (${retry_base_ms}), got ${retry_max_ms}`, tasks.keyOf('retry_max_ms'));
  // Node refuses a headers timeout longer than the whole request's.
  const { headers_timeout_s, request_timeout_s } = config.server;
  if (request_timeout_s < headers_timeout_s) {
    throw new ConfigError(`must be >= server.headers_timeout_s (${headers_timeout_s}), got ${request_timeout_s}`, server.keyOf('request_timeout_s'));
  }
  return config;
}

/** A durable file path: ":memory:" would silently lose every task on restart. */
function storePath(value: unknown, key: string): string {
  const p = str(value, key);
  if (p === ':memory:') throw new ConfigError('must be a file path (":memory:" would lose every task on restart)', key);
  return p;
}

function readBackends(value: unknown, key: string, cwd: string): BackendConfig[] {
  const entries = list(value, key);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const backend = readBackend(entry, `${key}[${i}]`, cwd);
    if (seen.has(backend.name)) throw new ConfigError(`duplicate backend name ${JSON.stringify(backend.name)}`, `${key}[${i}].name`);
    seen.add(backend.name);
    return backend;
  });
}

function readBackend(entry: unknown, at: string, cwd: string): BackendConfig {
  const b = new Section(entry, at, BACKEND_DEFAULTS);
  const name = b.read('name', (v, k) => matching(v, k, /^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-'"));
  const type = b.oneOf('type', BACKEND_TYPES);
  if (type !== 'ollama' && b.has('endpoint')) throw new ConfigError('only applies to type "ollama"', b.keyOf('endpoint'));
  const min_workers = b.int('min_workers', { min: 0, max: MAX_WORKERS });
  const max_workers = b.read('max_workers', (v, k) => int(v === undefined ? Math.max(min_workers, 1) : v, k, { min: 1, max: MAX_WORKERS }));
  if (max_workers < min_workers) throw new ConfigError(`must be >= min_workers (${min_workers}), got ${max_workers}`, b.keyOf('max_workers'));
  const command = readCommandSettings(b, type, cwd);
  return {
    name,
    type,
    // An agent CLI has no server: its entry names no url.
    url: type === 'command' ? '' : b.read('url', serverUrl),
    model: b.str('model'),
    min_workers,
    max_workers,
    api_key: b.read('api_key', nullable(str)) ?? undefined,
    endpoint: b.oneOf('endpoint', ['chat', 'generate']),
    stream: b.bool('stream'),
    timeout_s: b.read('timeout_s', nullable((v, k) => positive(v, k, MAX_TIMER_S))),
    types: b.read('types', nullable(taskTypes)),
    models: b.read('models', (v, k) => list(v, k).map((m, i) => str(m, `${k}[${i}]`))),
    max_tokens: b.read('max_tokens', nullable((v, k) => int(v, k, { min: 1 }))),
    command,
  };
}

/** A non-empty list of task types. */
function taskTypes(value: unknown, key: string): TaskType[] {
  const items = list(value, key);
  if (items.length === 0) throw new ConfigError('must list at least one task type (or be null for every type)', key);
  return items.map((t, i) => oneOf(t, `${key}[${i}]`, TASK_TYPES));
}

function mapNull<T, U>(value: T | null, fn: (value: T) => U): U | null {
  return value === null ? null : fn(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
