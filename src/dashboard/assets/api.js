// Talking to the coordinator: the API token, JSON requests, and the URLs of the live streams.

const STORAGE_KEY = 'koubou.apiToken';
let token = null;
let unauthorized = () => {};

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field ?? null;
  }
}

/**
 * The token comes from ?access_token= in the page's address (kept, then removed from the address bar so it does not
 * linger in history or get copied along), else from this browser's storage.
 */
export function initToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get('access_token');
  if (given) {
    setToken(given);
    url.searchParams.delete('access_token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return;
  }
  try {
    token = localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    token = null; // storage may be disabled; the page asks when it needs one
  }
}

export function setToken(value) {
  token = value ? String(value).trim() || null : null;
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Kept for this page only.
  }
}

export const hasToken = () => token !== null;

/** Called whenever the API answers 401: the page asks for a token. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** A JSON request with the bearer token; throws ApiError with the API's {error:{code,message,field}}. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const sent = { accept: 'application/json', ...headers };
  if (token) sent.authorization = `Bearer ${token}`;
  if (body !== undefined) sent['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'unreachable', `cannot reach the coordinator (${err.message})`);
  }
  const data = await res.json().catch(() => null);
  if (res.status === 401) unauthorized();
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'http_error', e.message ?? `HTTP ${res.status}`, e.field);
  }
  return data;
}

/** An absolute URL for EventSource or (ws: true) WebSocket; they cannot send headers, so the token goes in the query. */
export function streamUrl(path, params = {}, { ws = false } = {}) {
  const url = new URL(path, location.href);
  if (ws) url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (token) url.searchParams.set('access_token', token);
  return url.href;
}

/** A fresh idempotency key per submit: a retried request never creates a second task. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Plain http on a LAN address is not a secure context, and randomUUID needs one.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
