/** The one place the CLI reads the environment; everything else gets values passed in (through the settings tables). */

export interface ClientEnv {
  /** Base URL of the coordinator, without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | null;
}

/** The client side of a parsed command: --url (or KOUBOU_URL, or the default) and KOUBOU_API_TOKEN. */
export function clientEnv(values: { url?: string | undefined; 'api-token'?: string | undefined }, fallbackUrl: string): ClientEnv {
  return { url: (values.url ?? fallbackUrl).replace(/\/+$/, ''), token: values['api-token'] ?? null };
}

/** The whole environment, for parsing settings and for the children a command starts. */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
