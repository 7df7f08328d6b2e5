/**
 * The one module that imports the `nats` client. Everything else sees NatsLink: JSON in, JSON out, errors as data,
 * and a connection that reconnects by itself for as long as the process lives.
 */
import { readFileSync } from 'node:fs';
import type { Authenticator, NatsConnection } from 'nats';
import { describeError, ValidationError } from '../errors.js';
import { loadOnce } from '../load-once.js';
import type { Logger } from '../logger.js';
import { decode, encode, PROTOCOL_VERSION } from './codec.js';

export type Payload = Record<string, unknown>;

export interface NatsLink {
  /** Answers requests on `subject`; a thrown KoubouError becomes {error:{code, message, field?}}. */
  serve(subject: string, handler: (payload: Payload, subject: string) => Promise<Payload>): void;
  publish(subject: string, payload: Payload): void;
  /** Sends a request and returns the decoded answer. */
  request(subject: string, payload: Payload, timeoutMs: number): Promise<Payload>;
  /** Receives messages on `subject` (wildcards allowed); returns the unsubscribe function. */
  subscribe(subject: string, handler: (payload: Payload, subject: string) => void): () => void;
  /** The largest message the server takes, bytes (its max_payload; 1 MiB until it has said). */
  maxPayload(): number;
  /** Lets pending replies go out, then closes. */
  close(): Promise<void>;
  /** The same connection, encoding and checking another protocol version (the node protocol has its own). */
  speaking(version: number): NatsLink;
}

export interface NatsOptions {
  url: string;
  /** Shown in the server's connection list. */
  name: string;
  log: Logger;
  /** Files holding an nkey seed (`SU…`) or a `.creds` file (JWT and seed): read at each (re)connection. */
  nkeySeedFile?: string | null | undefined;
  credsFile?: string | null | undefined;
  /** A CA certificate (PEM file) to trust besides the system's, for a server whose TLS certificate it signed. */
  tlsCaFile?: string | null | undefined;
  /**
   * Where replies to this connection's requests arrive (default `_INBOX`). A subject of its own lets the NATS server
   * give each user read access to its replies only.
   */
  inboxPrefix?: string;
}

/** The client is loaded with the first connection: a coordinator without nats.url never needs it. */
const loadNats = loadOnce(() => import('./nats-client.js'));
type Nats = Awaited<ReturnType<typeof loadNats>>;

/** Connects (waiting for the first connection up to 10 s), then reconnects forever with a short wait. */
export async function connectNats(opts: NatsOptions): Promise<NatsLink> {
  const nats = await loadNats();
  const authenticator = authenticatorFor(nats, opts);
  const nc = await nats.connect({
    ...serversAndCredentials(opts.url),
    ...(authenticator ? { authenticator } : {}),
    name: opts.name,
    ...(opts.inboxPrefix ? { inboxPrefix: opts.inboxPrefix } : {}),
    // The client upgrades whenever the server asks for TLS; a tls:// URL (or a CA to trust) insists on it, so a server
    // posing as ours cannot talk the client out of it.
    ...(opts.tlsCaFile || /^tls:\/\//i.test(opts.url.trim()) ? { tls: opts.tlsCaFile ? { caFile: opts.tlsCaFile } : {} } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: 10_000,
  });
  watchStatus(nc, opts.log);
  return linkOver(nc, opts.log, PROTOCOL_VERSION);
}

function linkOver(nc: NatsConnection, log: Logger, version: number): NatsLink {
  return {
    serve(subject, handler) {
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return log.warn('NATS subscription error', { subject, error: err.message });
          const answer = (async () => {
            try {
              return await handler(decode(msg.data, version), msg.subject);
            } catch (e) {
              return errorPayload(e);
            }
          })();
          answer.then((payload) => {
            // A requester that gave up, or a connection closing at shutdown, leaves nobody to answer.
            if (msg.reply && !nc.isClosed()) msg.respond(encode(payload, version));
          });
        },
      });
    },
    publish: (subject, payload) => nc.publish(subject, encode(payload, version)),
    async request(subject, payload, timeoutMs) {
      return decode((await nc.request(subject, encode(payload, version), { timeout: timeoutMs })).data, version);
    },
    subscribe(subject, handler) {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return log.warn('NATS subscription error', { subject, error: err.message });
          try {
            handler(decode(msg.data, version), msg.subject);
          } catch (e) {
            log.warn('dropped an invalid NATS message', { subject: msg.subject, error: (e as Error).message });
          }
        },
      });
      return () => sub.unsubscribe();
    },
    maxPayload: () => nc.info?.max_payload ?? 1024 * 1024,
    close: () => nc.drain(),
    speaking: (other) => linkOver(nc, log, other),
  };
}

/**
 * The nats client ignores credentials written into a URL, so they are lifted out: `nats://user:pass@host:4222`
 * (user and password) or `nats://token@host:4222` (token). Several servers may be listed, separated by commas.
 */
export function serversAndCredentials(url: string): { servers: string[]; user?: string; pass?: string; token?: string } {
  const servers: string[] = [];
  let credentials: { user?: string; pass?: string; token?: string } = {};
  for (const entry of url.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parsed = new URL(entry);
    if (parsed.username && parsed.password) credentials = { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
    else if (parsed.username) credentials = { token: decodeURIComponent(parsed.username) };
    parsed.username = '';
    parsed.password = '';
    servers.push(parsed.toString().replace(/\/$/, ''));
  }
  return { servers, ...credentials };
}

/** nkeys sign the server's challenge with the seed, so the seed never crosses the wire. */
function authenticatorFor({ credsAuthenticator, nkeyAuthenticator }: Nats, opts: NatsOptions): Authenticator | null {
  const read = (file: string, what: string) => () => {
    try {
      return new Uint8Array(readFileSync(file));
    } catch (err) {
      throw new Error(`cannot read the NATS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  if (opts.credsFile) return credsAuthenticator(read(opts.credsFile, 'credentials file'));
  if (opts.nkeySeedFile) {
    const seed = read(opts.nkeySeedFile, 'nkey seed file');
    return nkeyAuthenticator(() => new TextEncoder().encode(new TextDecoder().decode(seed()).trim()));
  }
  return null;
}

/** The server list without credentials, for logs and error messages. */
export function redactedServers(url: string): string {
  return serversAndCredentials(url).servers.join(',');
}

/** The same error shape as the HTTP API: {error:{code, message, field?}}. */
function errorPayload(err: unknown): Payload {
  const { code, message } = describeError(err);
  const field = err instanceof ValidationError && err.field ? { field: err.field } : {};
  return { error: { code, message, ...field } };
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect' || s.type === 'reconnect') log.info(`NATS ${s.type}`, { server: String(s.data) });
    // A permissions violation (a subject this user may not use) arrives here, not at the publish that caused it.
    else if (s.type === 'error') log.warn('the NATS server refused an operation', { error: String(s.data) });
  }
}
