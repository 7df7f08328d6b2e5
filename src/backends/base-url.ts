import { ConfigError } from '../errors.js';

export interface BaseUrl {
  /** Scheme, host and port, e.g. "http://127.0.0.1:11434": what the connection pool is keyed on. */
  origin: string;
  /** Path prefix without trailing slash ("" or e.g. "/proxy/ollama"), for servers behind a reverse proxy. */
  basePath: string;
}

/** Splits a backend's configured URL into origin and path prefix; throws ConfigError when it is not http(s). */
export function parseBaseUrl(url: string, backendName: string): BaseUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`backend "${backendName}": url ${JSON.stringify(url)} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`backend "${backendName}": url ${JSON.stringify(url)} must start with http:// or https://`);
  }
  return { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, '') };
}
