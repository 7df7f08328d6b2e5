/**
 * Field validators for the configuration. Each takes the raw value and its key path
 * ("server.port", "backends[1].name") and returns the checked value or throws a ConfigError naming the key.
 * Numbers may arrive as strings (environment variables, flags); int and positive convert them.
 */
import { closest } from './did-you-mean.js';
import { ConfigError } from './errors.js';

/** A validator for one field: the checked value, or a ConfigError naming `key`. */
export type Check<T> = (value: unknown, key: string) => T;

export interface IntRange {
  min?: number;
  max?: number;
}

/** Throws the standard "expected X, got Y" error; absent values read as "is required". */
export function fail(key: string, expected: string, value: unknown): never {
  throw new ConfigError(value === undefined ? `is required (${expected})` : `${expected}, got ${show(value)}`, key);
}

/** An integer in [min, max]; numeric strings are converted. */
export function int(value: unknown, key: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: IntRange = {}): number {
  const n = toNumber(value);
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
  if (n === undefined || !Number.isInteger(n) || n < min || n > max) fail(key, `must be an integer ${range}`, value);
  return n;
}

/** A number greater than 0 and at most `max` (fractions allowed, e.g. short timeouts in tests). */
export function positive(value: unknown, key: string, max: number): number {
  const n = toNumber(value);
  if (n === undefined || !(n > 0) || n > max) fail(key, `must be a number greater than 0 and at most ${max}`, value);
  return n;
}

/** A non-empty string. */
export function str(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(key, 'must be a non-empty string', value);
  return value;
}

/** A non-empty string matching `pattern`; `description` says in words what the pattern allows. */
export function matching(value: unknown, key: string, pattern: RegExp, description: string): string {
  const s = str(value, key);
  if (!pattern.test(s)) fail(key, `must contain only ${description}`, value);
  return s;
}

/** A boolean (true/false, not a string). */
export function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') fail(key, 'must be true or false', value);
  return value;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(value: unknown, key: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) fail(key, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
  return value as T;
}

/** An absolute URL whose scheme is one of `protocols` (given without "://", e.g. "http"). */
export function url(value: unknown, key: string, protocols: readonly string[]): string {
  const expected = `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`;
  const s = str(value, key);
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    fail(key, expected, value);
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, '')) || parsed.host === '') fail(key, expected, value);
  return s;
}

/**
 * An http(s) URL of a server Koubou calls with its own credentials (a backend): a user name or password in it would
 * never be sent and would be written to the logs wherever the URL is, so it is refused, without echoing it.
 */
export function serverUrl(value: unknown, key: string): string {
  const s = url(value, key, ['http', 'https']);
  const parsed = new URL(s);
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ConfigError('must not carry a user name or password (user:pass@): they would not be sent, and would be logged; give the key as api_key', key);
  }
  return s;
}

/** A host name or IP address as a `Host` header names it, without a port: `koubou.lan`, `192.168.1.10`, `[fe80::1]`. */
export function hostName(value: unknown, key: string): string {
  const s = str(value, key).trim().toLowerCase();
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?)$/.test(s)) {
    fail(key, 'must be a host name or IP address without scheme or port (IPv6 in brackets, e.g. [fe80::1])', value);
  }
  return s;
}

/** Where a server listens: host and port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` (IPv6 in brackets: `[::1]:11435`); port 0 takes any free port. */
export function listenAddress(value: unknown, key: string): ListenAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(str(value, key).trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65_535) fail(key, 'must be host:port, such as 127.0.0.1:11435 (IPv6 in brackets: [::1]:11435)', value);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** A release version, `major.minor.patch` with an optional pre-release or build suffix (0.13.5, 0.14.0-rc1). */
export function releaseVersion(value: unknown, key: string): string {
  const s = str(value, key).trim();
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(s)) fail(key, 'must be a version such as 0.13.5', value);
  return s;
}

/**
 * A web origin, `http(s)://host[:port]` with no path, returned in the form browsers send (lower case, no default
 * port); or an app's page origin as its browser engine sends it, `scheme://host` (Obsidian's app://obsidian.md,
 * VS Code webviews' vscode-webview://…, Tauri's tauri://localhost), lower case.
 */
export function webOrigin(value: unknown, key: string): string {
  const expected =
    'must be an origin such as https://koubou.lan, http://192.168.1.10:8080 or app://obsidian.md (scheme, host, optional port; no path, no "*")';
  const s = str(value, key).trim();
  const app = /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9.-]+)(:\d{1,5})?$/i.exec(s);
  if (app && !['http', 'https'].includes(app[1]!.toLowerCase())) return s.toLowerCase();
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    fail(key, expected, value);
  }
  const bare = parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username && !parsed.password && !s.endsWith('#') && !s.endsWith('?');
  if (!['http:', 'https:'].includes(parsed.protocol) || !bare) fail(key, expected, value);
  return parsed.origin;
}

/** Lets `check` also accept null (an explicit "off"). */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, key) => (value === null ? null : check(value, key));
}

/** A list; absent or empty YAML (null) reads as an empty list. */
export function list(value: unknown, key: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(key, 'must be a list', value);
  return value;
}

/** A mapping whose keys are all in `allowed` (catches typos); absent or empty YAML (null) reads as {}. */
function mapping(value: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(key || '(top level)', 'must be a mapping', value);
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) {
      const near = closest(name, allowed);
      throw new ConfigError(near ? `unknown key; did you mean ${near}?` : `unknown key (expected one of: ${allowed.join(', ')})`, join(key, name));
    }
  }
  return value as Record<string, unknown>;
}

/**
 * One mapping of the config under `path`: rejects unknown keys (the keys of `defaults`), substitutes the
 * default for each absent field and validates it. `origins` maps key paths to the env variable or flag
 * that set them, so an error about an overridden value says where the value came from.
 */
export class Section<D extends object> {
  private readonly fields: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly path: string,
    private readonly defaults: D,
    private readonly origins: ReadonlyMap<string, string> = new Map(),
  ) {
    this.fields = mapping(value, path, Object.keys(defaults));
  }

  /** The key path of a field, e.g. "server.port". */
  keyOf(name: keyof D & string): string {
    return join(this.path, name);
  }

  /** True when the YAML (or an override) set the field, as opposed to it taking its default. */
  has(name: keyof D & string): boolean {
    return this.fields[name] !== undefined;
  }

  /** Validates the field's value, or its default when absent, with `check`. */
  read<T>(name: keyof D & string, check: Check<T>): T {
    const key = this.keyOf(name);
    const value = this.fields[name] === undefined ? this.defaults[name as keyof D] : this.fields[name];
    try {
      return check(value, key);
    } catch (err) {
      throw blameOrigin(err, key, this.origins.get(key));
    }
  }

  /** The nested mapping `name`, with its own defaults. */
  section<N extends keyof D & string>(name: N): Section<D[N] & object> {
    return new Section(this.fields[name], this.keyOf(name), this.defaults[name] as D[N] & object, this.origins);
  }

  int(name: keyof D & string, range?: IntRange): number {
    return this.read(name, (v, k) => int(v, k, range));
  }

  positive(name: keyof D & string, max: number): number {
    return this.read(name, (v, k) => positive(v, k, max));
  }

  str(name: keyof D & string): string {
    return this.read(name, str);
  }

  bool(name: keyof D & string): boolean {
    return this.read(name, bool);
  }

  oneOf<T extends string>(name: keyof D & string, choices: readonly T[]): T {
    return this.read(name, (v, k) => oneOf(v, k, choices));
  }
}

/** Adds "(from KOUBOU_PORT)" to an error about a value that an override supplied. */
function blameOrigin(err: unknown, key: string, origin: string | undefined): unknown {
  if (!origin || !(err instanceof ConfigError) || err.key !== key) return err;
  return new ConfigError(`${err.reason} (from ${origin})`, key);
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
