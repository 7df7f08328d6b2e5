#!/usr/bin/env node
/**
 * `koubou-node`: joins this machine's LLM backends to a coordinator's pool over NATS.
 *   koubou-node --nats nats://host:4222 --backend ollama --url http://127.0.0.1:11434 --model gpt-oss:20b --concurrency 2
 *   koubou-node --nats nats://host:4222 --config node.yaml        (every backend there; max_workers is its concurrency)
 * Exit codes: 0 stopped by a signal, 1 refused or failed, 2 usage.
 */
import { hostname } from 'node:os';
import { loadConfig, parseFlags } from '../config.js';
import { createLogger, type LogLevel } from '../logger.js';
import { NODE_ID } from '../nats/node-protocol.js';
import { capabilities } from '../routing/capabilities.js';
import { TASK_TYPES, type TaskType } from '../tasks/task.js';
import { runNode, type NodeOptions } from '../nodes/run-node.js';
import { processEnv } from './client-env.js';

const USAGE = `usage: koubou-node --nats URL [--id ID] [--token T] [--prefix P] [--log-level L] [--nkey-seed-file F | --creds F]
                   (--config FILE | --backend ollama|openai --url URL --model M [--concurrency N]
                    [--types T,T] [--models M,M] [--max-tokens N])

--types: the task types this node takes (default: every type); --models: models it serves besides
--model; --max-tokens: the longest answer it allows. With --config, each backend's types, models
and max_tokens keys say the same.

NATS credentials: user:password or a token in the URL (nats://user:pass@host:4222), an nkey seed file, or a
.creds file (JWT and seed).
Environment: KOUBOU_NATS_URL, KOUBOU_POOL_TOKEN (the coordinator's nats.pool_token), KOUBOU_NATS_NKEY_SEED_FILE,
KOUBOU_NATS_CREDS_FILE.`;

function usage(message: string): never {
  process.stderr.write(`koubou-node: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function options(argv: string[], env: Record<string, string | undefined>): NodeOptions {
  const { flags } = parseFlags(argv, ['help']);
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  // With --config, the file's nats section fills what the flags leave out (loadConfig applies the env overrides).
  const config = str('config') ? loadConfig({ argv, env, cwd: process.cwd() }) : null;
  const natsUrl = str('nats') ?? config?.nats.url ?? env.KOUBOU_NATS_URL;
  if (!natsUrl) usage('--nats URL is required');
  const nodeId = str('id') ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!NODE_ID.test(nodeId)) usage(`--id may hold letters, digits, "-" and "_" (at most 64), got ${JSON.stringify(nodeId)}`);
  const level = (str('log-level') ?? 'info') as LogLevel;
  return {
    natsUrl,
    nodeId,
    prefix: str('prefix') ?? config?.nats.prefix ?? 'koubou',
    token: str('token') ?? config?.nats.pool_token ?? env.KOUBOU_POOL_TOKEN ?? null,
    nkeySeedFile: str('nkey-seed-file') ?? config?.nats.nkey_seed_file ?? env.KOUBOU_NATS_NKEY_SEED_FILE ?? null,
    credsFile: str('creds') ?? config?.nats.creds_file ?? env.KOUBOU_NATS_CREDS_FILE ?? null,
    backends: config ? config.backends.map((b) => ({ ...b, concurrency: b.max_workers, caps: capabilities(b.model, b) })) : backends(str),
    log: createLogger(level, undefined, { node: nodeId }),
  };
}

function backends(str: (n: string) => string | undefined): NodeOptions['backends'] {
  const type = str('backend');
  if (type !== 'ollama' && type !== 'openai') usage('--backend must be ollama or openai (or give --config)');
  const url = str('url');
  const model = str('model');
  if (!url || !model) usage('--url and --model are required with --backend');
  const concurrency = Number(str('concurrency') ?? 1);
  // As many as one join may announce; a real backend rarely wants more than a few.
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) usage('--concurrency must be a whole number from 1 to 1024');
  return [{ name: `${type}`, type, url, model, concurrency, caps: capabilities(model, flagCapabilities(str)) }];
}

/** --types code,documentation   --models a,b   --max-tokens N */
function flagCapabilities(str: (n: string) => string | undefined): { types: TaskType[] | null; models: string[]; max_tokens: number | null } {
  const split = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const types = split(str('types'));
  for (const t of types) if (!(TASK_TYPES as readonly string[]).includes(t)) usage(`--types takes task types from ${TASK_TYPES.join(', ')}; got ${JSON.stringify(t)}`);
  const maxTokens = str('max-tokens') === undefined ? null : Number(str('max-tokens'));
  if (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 1)) usage('--max-tokens must be a positive whole number');
  return { types: types.length > 0 ? (types as TaskType[]) : null, models: split(str('models')), max_tokens: maxTokens };
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2), processEnv());
  const node = await runNode(opts);
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(1);
    stopping = true;
    node.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: Error) => {
  process.stderr.write(`koubou-node: ${err.message}\n`);
  process.exit(1);
});
