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
import { runNode, type NodeOptions } from '../nodes/run-node.js';
import { processEnv } from './client-env.js';

const USAGE = `usage: koubou-node --nats URL [--id ID] [--token T] [--prefix P] [--log-level L]
                   (--config FILE | --backend ollama|openai --url URL --model M [--concurrency N])

Environment: KOUBOU_NATS_URL, KOUBOU_POOL_TOKEN (the coordinator's nats.pool_token).`;

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
    backends: config ? config.backends.map((b) => ({ ...b, concurrency: b.max_workers })) : backends(str),
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
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) usage('--concurrency must be a whole number from 1 to 256');
  return [{ name: `${type}`, type, url, model, concurrency }];
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
