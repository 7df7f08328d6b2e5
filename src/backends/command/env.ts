/**
 * The environment an agent CLI sees: an allowlist, never a copy of ours. Koubou's own secrets are removed even when a
 * backend's `env:` names them, by name and by value.
 */

/** Always passed when set: what any program needs to find itself, its home and its locale. */
const BASE_NAMES = ['PATH', 'HOME', 'LANG', 'TERM', 'TMPDIR', 'USER', 'LOGNAME', 'TZ'];

/** Never passed: Koubou's settings (its API token among them) and NATS credentials. */
const FORBIDDEN = /^(KOUBOU_|NATS_)/;

export interface ChildEnvSpec {
  /** The environment the coordinator (or node) was started with. */
  inherited: Readonly<Record<string, string | undefined>>;
  /** Names the preset needs (e.g. CODEX_HOME, GEMINI_API_KEY, OLLAMA_HOST), passed when set. */
  presetNames: readonly string[];
  /** The backend's `env:`: names to pass through, and NAME: value pairs to set. */
  passNames: readonly string[];
  set: Readonly<Record<string, string>>;
  /** Values that must never reach a child (API token, pool token): a variable holding one, even within a longer value, is dropped. */
  secrets: readonly string[];
}

/** Builds the child's environment from the allowlist; returns a fresh object. */
export function childEnv(spec: ChildEnvSpec): Record<string, string> {
  const out: Record<string, string> = {};
  const allowed = new Set([...BASE_NAMES, ...spec.presetNames, ...spec.passNames]);
  for (const [name, value] of Object.entries(spec.inherited)) {
    if (value === undefined) continue;
    if (allowed.has(name) || name.startsWith('LC_')) out[name] = value;
  }
  Object.assign(out, spec.set);
  const secrets = spec.secrets.filter((s) => s !== '');
  for (const [name, value] of Object.entries(out)) {
    // Within a longer value too: `Authorization: Bearer <token>`, a URL with the token in it.
    if (FORBIDDEN.test(name) || secrets.some((secret) => value.includes(secret))) delete out[name];
  }
  return out;
}

/** True for a name the allowlist refuses whatever the config says (config validation names the key with it). */
export function isForbiddenEnvName(name: string): boolean {
  return FORBIDDEN.test(name);
}
