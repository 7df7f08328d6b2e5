/**
 * One table of settings per command, the single source for parsing (node:util parseArgs, strict), --help, and which
 * environment variable stands in for a flag. A setting is a flag (`--port N`), optionally with an environment
 * variable read when the flag is absent, a default, and the config key it overrides; or, for secrets that must not
 * show in `ps`, an environment variable alone (`envOnly`). Adding a flag to a command is adding a row to its table.
 */
import { parseArgs } from 'node:util';
import { configDefault } from '../config.js';
import { closest } from '../did-you-mean.js';
import { UsageError } from '../client/errors.js';

export interface Setting {
  /** A string flag takes a value (`--port 9000`, `--port=9000`); a boolean one does not. */
  type: 'string' | 'boolean';
  /** Repeatable (`--file a --file b`): the value is a list. */
  multiple?: boolean;
  short?: string;
  /** What the value is called in help: `--port N`. */
  value?: string;
  /** What it does, for --help (may span lines). */
  help: string;
  /** The value when neither the flag nor `env` gives one. Not for `config` settings: the config has their defaults. */
  default?: string;
  /** How --help describes a default the command computes (e.g. "this machine's host name"). */
  defaultText?: string;
  /** The environment variable read when the flag is absent (empty counts as unset). */
  env?: string;
  /** The configuration key this setting overrides (`server.port`); --help shows that key's default. */
  config?: string;
  /** No flag, only `env`: for secrets, which a command line would show to every user of the machine. */
  envOnly?: boolean;
}

export type SettingTable = Readonly<Record<string, Setting>>;

export interface CommandSpec<T extends SettingTable = SettingTable> {
  /** What the user types before the flags: `koubou start`, `koubou-node`. */
  command: string;
  /** The positionals, as the usage line shows them: `PROMPT`, `ID`; empty for none. */
  args: string;
  /** What the command does, for --help. */
  about: string;
  settings: T;
  /** More for --help, after the settings. */
  notes?: string;
}

type ValueOf<S extends Setting> = S['type'] extends 'boolean' ? boolean | undefined : S['multiple'] extends true ? string[] | undefined : string | undefined;
export type Values<T extends SettingTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

export interface Parsed<T extends SettingTable> {
  values: Values<T>;
  positionals: string[];
  /** Where each given value came from: `--port` or `KOUBOU_PORT` (absent for defaults). */
  origins: Partial<Record<keyof T & string, string>>;
}

/**
 * Parses `argv` (what follows the command) strictly against the command's table, then fills what the flags left out
 * from the environment and the table's defaults. A mistake (unknown flag, missing value, value on a boolean) is a
 * UsageError for `usageName` that says what is wrong and, when a known flag is close, which one was meant.
 */
export function parseCommand<T extends SettingTable>(spec: CommandSpec<T>, argv: string[], env: Record<string, string | undefined>, usageName: string | null = null): Parsed<T> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, s] of Object.entries(spec.settings)) {
    if (!s.envOnly) options[name] = { type: s.type, ...(s.multiple ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err as Error & { code?: string }, Object.keys(options)), usageName);
  }
  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [name, s] of Object.entries(spec.settings)) {
    const fromFlag = parsed.values[name];
    const fromEnv = s.env ? env[s.env] || undefined : undefined;
    if (fromFlag !== undefined) {
      values[name] = fromFlag;
      origins[name] = `--${name}`;
    } else if (fromEnv !== undefined) {
      values[name] = s.multiple ? [fromEnv] : fromEnv;
      origins[name] = s.env!;
    } else if (s.default !== undefined) {
      values[name] = s.multiple ? [s.default] : s.default;
    }
  }
  return { values: values as Values<T>, positionals: parsed.positionals, origins: origins as Parsed<T>['origins'] };
}

function describeParseError(err: Error & { code?: string }, known: string[]): string {
  const quoted = /'([^' ]+)/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = quoted.startsWith('--') ? closest(quoted.slice(2).split('=')[0]!, known) : null;
      return `unknown option ${quoted}${near ? `; did you mean --${near}?` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return `${quoted} takes no value`;
      if (/ambiguous/.test(err.message)) return `${quoted} needs a value (one starting with "-" is written ${quoted}=-VALUE)`;
      return `${quoted} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted}`;
    default:
      return err.message;
  }
}

/** `usage: koubou submit PROMPT [options]` */
export function usageLine(spec: CommandSpec): string {
  return `usage: ${spec.command}${spec.args ? ` ${spec.args}` : ''} [options]`;
}

/**
 * The command's --help: usage line, what it does, every flag with its value, default and environment variable, then
 * the settings read only from the environment.
 */
export function helpText(spec: CommandSpec): string {
  const flags: string[] = [];
  const envOnly: string[] = [];
  for (const [name, s] of Object.entries(spec.settings)) {
    if (s.envOnly) {
      envOnly.push(row(s.env!, s.help, [s.config ? `sets ${s.config}` : null]));
      continue;
    }
    const label = `--${name}${s.value ? ` ${s.value}` : ''}${s.short ? `, -${s.short}` : ''}`;
    flags.push(row(label, s.help, [`default: ${defaultOf(s)}`, s.env ? `env: ${s.env}` : null, s.config ? `sets ${s.config}` : null]));
  }
  return [
    usageLine(spec),
    '',
    spec.about,
    '',
    'Options:',
    ...flags,
    ...(envOnly.length ? ['', 'From the environment only (a command line would show them in `ps`):', ...envOnly] : []),
    ...(spec.notes ? ['', spec.notes] : []),
  ].join('\n');
}

const LABEL_WIDTH = 24;

function row(label: string, help: string, facts: Array<string | null>): string {
  const pad = ' '.repeat(LABEL_WIDTH + 2);
  const lines = [...help.split('\n'), facts.filter(Boolean).join(' · ')].filter((l) => l !== '');
  const first = `  ${label}`;
  const head = first.length < LABEL_WIDTH + 2 ? first.padEnd(LABEL_WIDTH + 2) + lines[0] : `${first}\n${pad}${lines[0]}`;
  return [head, ...lines.slice(1).map((l) => pad + l)].join('\n');
}

function defaultOf(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default !== undefined) return s.default;
  if (s.config !== undefined) {
    const d = configDefault(s.config);
    return d === null || d === undefined ? 'none' : String(d);
  }
  return s.type === 'boolean' ? 'off' : 'none';
}
