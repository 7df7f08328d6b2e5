/** The flags `start` and `stop` share, and the configuration they load (through loadConfig, as the server does). */
import { loadConfig, type KoubouConfig } from '../../config.js';
import { processEnv } from '../client-env.js';

export const SERVER_OPTIONS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  'log-level': { type: 'string' },
  nats: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const PASSED_ON = ['config', 'port', 'host', 'db', 'log-level', 'nats'] as const;

/** The configuration flags as `--name=value` arguments, for loadConfig and for the detached child. */
export function configArgs(values: Partial<Record<(typeof PASSED_ON)[number], string>>): string[] {
  return PASSED_ON.flatMap((name) => (values[name] === undefined ? [] : [`--${name}=${values[name]}`]));
}

/** defaults < file < environment < flags; a ConfigError names the offending key (the entry point exits 2). */
export function serverConfig(args: string[]): KoubouConfig {
  return loadConfig({ argv: args, env: processEnv(), cwd: process.cwd() });
}
