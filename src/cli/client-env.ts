/** The one place the client side of the CLI reads the environment; everything else gets these values passed in. */

import { DEFAULT_URL } from '../config.js';

export interface ClientEnv {
  /** Base URL of the coordinator, without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | null;
}

/** `--url` wins over KOUBOU_URL, which wins over the default; KOUBOU_API_TOKEN is the token. Empty counts as unset. */
export function clientEnv(urlFlag?: string): ClientEnv {
  const fromEnv = process.env.KOUBOU_URL || undefined;
  const url = (urlFlag ?? fromEnv ?? DEFAULT_URL).replace(/\/+$/, '');
  return { url, token: process.env.KOUBOU_API_TOKEN || null };
}

/** The whole environment, for the commands that configure a server from it (start, stop, mcp). */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
