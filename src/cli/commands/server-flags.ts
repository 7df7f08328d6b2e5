/** The configuration a command's parsed settings describe: its --config file, and a config override per setting. */
import { loadConfig, type ConfigOverride, type KoubouConfig, type LoadConfigOptions } from '../../config.js';
import type { Parsed, SettingTable } from '../flags.js';

/**
 * Loads the configuration as `koubou start` would with these settings: the file `config` names (flag or env), and
 * for every setting with a `config` key that was given, an override naming where it came from. A ConfigError names
 * the key and the file or flag (the entry point exits 2).
 */
export function serverConfig<T extends SettingTable>(settings: T, parsed: Parsed<T>, cwd = process.cwd(), extra: Pick<LoadConfigOptions, 'defaultPort'> = {}): KoubouConfig {
  const values = parsed.values as Record<string, unknown>;
  const origins = parsed.origins as Record<string, string | undefined>;
  const overrides: ConfigOverride[] = [];
  for (const [name, setting] of Object.entries(settings)) {
    const value = values[name];
    if (setting.config !== undefined && typeof value === 'string') overrides.push({ key: setting.config, value, from: origins[name] ?? `--${name}` });
  }
  const file = typeof values.config === 'string' ? { path: values.config, from: origins.config ?? '--config' } : undefined;
  return loadConfig({ cwd, ...(file ? { file } : {}), overrides, ...extra });
}

/**
 * The flags a detached child needs to load the same configuration: every given setting that has a flag, as
 * `--name=value` (environment values stay in the environment the child inherits).
 */
export function configArgs<T extends SettingTable>(settings: T, parsed: Parsed<T>): string[] {
  const values = parsed.values as Record<string, unknown>;
  const origins = parsed.origins as Record<string, string | undefined>;
  return Object.entries(settings).flatMap(([name, s]) =>
    (s.config !== undefined || name === 'config') && !s.envOnly && typeof values[name] === 'string' && origins[name] === `--${name}` ? [`--${name}=${values[name]}`] : [],
  );
}
