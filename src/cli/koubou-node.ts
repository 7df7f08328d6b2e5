#!/usr/bin/env node
/** `koubou-node`: joins this machine's LLM backends and agent CLIs to a coordinator's pool over NATS (flags: node-spec.ts). */
import { hostname } from 'node:os';
import path from 'node:path';
import { configDefault, loadConfig, LOG_LEVELS, type KoubouConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { logFilePath } from '../logging/log-file.js';
import { createPinoLogger } from '../logging/pino-logger.js';
import { NODE_ID } from '../nats/node-protocol.js';
import { capabilities } from '../routing/capabilities.js';
import { TASK_TYPES, type TaskType } from '../tasks/task.js';
import { startNode } from '../node-main.js';
import type { NodeOptions } from '../nodes/run-node.js';
import { processEnv } from '../client/client-env.js';
import { UsageError } from '../client/errors.js';
import { integerInRange } from '../integer-text.js';
import { PRESETS } from '../backends/command/presets.js';
import { COMMAND_DEFAULTS, type CommandSettings } from '../backends/command/settings.js';
import { expandHome } from '../backends/command/workdir.js';
import { helpText, parseCommand, usageLine, type Parsed } from './flags.js';
import { NODE_SPEC } from './node-spec.js';

function usage(message: string): never {
  process.stderr.write(`koubou-node: ${message}\n${usageLine(NODE_SPEC)}\n(koubou-node --help lists every flag)\n`);
  process.exit(2);
}

function options(argv: string[], env: Record<string, string | undefined>): NodeOptions {
  let parsed: Parsed<typeof NODE_SPEC.settings>;
  try {
    parsed = parseCommand(NODE_SPEC, argv, env);
  } catch (err) {
    if (err instanceof UsageError) usage(err.message);
    throw err;
  }
  const { values: v } = parsed;
  if (v.help) {
    process.stdout.write(`${helpText(NODE_SPEC)}\n`);
    process.exit(0);
  }
  if (parsed.positionals.length > 0) usage(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  // With --config, the file's nats section fills what the flags and the environment leave out.
  const config = v.config === undefined ? null : nodeConfig(v.config);
  if (config && config.backends.length === 0) usage(`--config ${v.config} lists no backends for this node to serve`);
  const natsUrl = v.nats ?? config?.nats.url;
  if (!natsUrl) usage('--nats URL is required');
  const nodeId = v.id ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!NODE_ID.test(nodeId)) usage(`--id may hold letters, digits, "-" and "_" (at most 64), got ${JSON.stringify(nodeId)}`);
  const level = oneOf('log-level', v['log-level']!, LOG_LEVELS);
  return {
    natsUrl,
    nodeId,
    prefix: v.prefix ?? config?.nats.prefix ?? 'koubou',
    token: v.token ?? config?.nats.pool_token ?? null,
    nkeySeedFile: v['nkey-seed-file'] ?? config?.nats.nkey_seed_file ?? null,
    credsFile: v.creds ?? config?.nats.creds_file ?? null,
    tlsCaFile: v['tls-ca'] ?? config?.nats.tls_ca_file ?? null,
    backends: config ? config.backends.map((b) => ({ ...b, concurrency: b.max_workers, caps: capabilities(b.model, b) })) : backends(v, nodeId),
    env,
    log: createPinoLogger({ name: 'koubou-node', level, console: 'stdout', file: logFile(v['log-file'], config) }).child({ node: nodeId }),
  };
}

/**
 * Where the node appends its log lines, as the coordinator does: logs/koubou.log beside the store (the configured one
 * with --config, else the default `.koubou/koubou.db` of this folder), unless --log-file names a file ("-": none).
 */
function logFile(given: string | undefined, config: KoubouConfig | null): string | undefined {
  if (given === '-') return undefined;
  if (given !== undefined) {
    if (given.trim() === '') usage('--log-file needs a file name (or "-" for stdout only)');
    return path.resolve(given);
  }
  return logFilePath(config?.store.path ?? path.resolve(String(configDefault('store.path'))));
}

/** The file's configuration; a mistake in it is a usage error naming the file and the key. */
function nodeConfig(file: string): KoubouConfig {
  try {
    return loadConfig({ cwd: process.cwd(), file: { path: file, from: '--config' } });
  } catch (err) {
    if (err instanceof ConfigError) usage(err.message);
    throw err;
  }
}

type NodeValues = Parsed<typeof NODE_SPEC.settings>['values'];

function backends(v: NodeValues, nodeId: string): NodeOptions['backends'] {
  const type = v.backend;
  if (type !== 'ollama' && type !== 'openai' && type !== 'command') usage('--backend must be ollama, openai or command (or give --config)');
  const { url, model } = v;
  if (!model || (type !== 'command' && !url)) usage(type === 'command' ? '--model is required with --backend command' : '--url and --model are required with --backend');
  if (type !== 'command' && (v.preset !== undefined || v['workspace-root'] !== undefined)) usage('--preset and --workspace-root go with --backend command');
  const concurrency = wholeNumber('concurrency', v.concurrency!, 1, 1024);
  // Named like a configured backend, so /workers and errors tell this node's backend apart from another's.
  const name = v.name ?? nodeId;
  if (!NODE_ID.test(name)) usage(`--name may hold letters, digits, "-" and "_" (at most 64), got ${JSON.stringify(name)}`);
  const command = type === 'command' ? commandFlags(v) : null;
  return [{ name, type, url: url ?? '', model, concurrency, command, caps: capabilities(model, { ...flagCapabilities(v), type, command }) }];
}

/** --preset codex --workspace-root DIR: a preset's CLI under its own name, with the settings' defaults. */
function commandFlags(v: NodeValues): CommandSettings {
  const named = PRESETS.filter((p) => p !== 'generic');
  if (v.preset === undefined) usage(`--backend command needs --preset (${named.join(', ')}; a generic command goes in --config)`);
  const preset = oneOf('preset', v.preset, named);
  const root = v['workspace-root'];
  if (root !== undefined && root.trim() === '') usage('--workspace-root needs a directory');
  const { env: _env, ...defaults } = COMMAND_DEFAULTS;
  return { ...defaults, preset, workspace_root: root === undefined ? null : path.resolve(expandHome(root)), env_pass: [], env_set: {} };
}

/** --types code,documentation   --models a,b   --max-tokens N */
function flagCapabilities(v: NodeValues): { types: TaskType[] | null; models: string[]; max_tokens: number | null } {
  const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const types = split(v.types).map((t) => oneOf('types', t, TASK_TYPES));
  const maxTokens = v['max-tokens'] === undefined ? null : wholeNumber('max-tokens', v['max-tokens'], 1, Number.MAX_SAFE_INTEGER);
  return { types: types.length > 0 ? types : null, models: split(v.models), max_tokens: maxTokens };
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const n = integerInRange(raw, min, max);
  if (n === null) usage(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) usage(`--${flag} takes ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  return raw as T;
}

async function main(): Promise<void> {
  const env = processEnv();
  const opts = options(process.argv.slice(2), env);
  const node = await startNode(opts);
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    const exit = (code: number) => void opts.log.flush?.().finally(() => process.exit(code));
    node.stop().then(() => exit(0), () => exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: Error) => {
  process.stderr.write(`koubou-node: ${err.message}\n`);
  process.exit(1);
});
