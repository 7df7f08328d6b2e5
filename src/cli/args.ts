/** Checks of a command's positionals and flag values; each mistake is a UsageError for the command. */
import { UsageError } from '../client/errors.js';
import { integerInRange } from '../integer-text.js';

/** Exactly `names.length` positionals, returned in order. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length < names.length) throw new UsageError(`missing ${names[given.length]}`, command);
  if (given.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`, command);
  return given;
}

export function intFlag(command: string, flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = integerInRange(raw, min, max);
  if (n === null) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`, command);
  return n;
}

export function positiveFlag(command: string, flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${flag} must be a number above 0, got ${JSON.stringify(raw)}`, command);
  }
  return n;
}

export function oneOfFlag<T extends string>(command: string, flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`, command);
  }
  return raw as T;
}

/** An http(s) base URL, from --url or KOUBOU_URL. */
export function checkUrl(command: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url / KOUBOU_URL must be an http(s) URL, got ${JSON.stringify(url)}`, command);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url / KOUBOU_URL must be an http(s) URL, got ${JSON.stringify(url)}`, command);
  }
  return url;
}
