/**
 * One Server-Sent Events client, written straight to its Node response so that what it may have buffered is known and
 * bounded. Frames go out while `write()` accepts them; after a `false` they wait for 'drain'. Once the frames held for
 * the client (ours plus the socket's own buffer) would pass `maxBufferedBytes`, the backlog is thrown away, the client
 * gets a last `dropped` event and the response ends; a client that does not even read that is cut off after a grace.
 * Frame format: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** How long a dropped client has to read its last event before its socket is destroyed. */
/** As long as ws waits for a closing handshake. */
const DROP_GRACE_MS = 30_000;
/** A comment this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/** One `event:` frame; `data` is a single line (JSON), as every frame we send is. */
export function sseFrame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

export interface SseOutletOptions {
  /** Most bytes held for this client (its backlog and the socket's buffer) before it is dropped; one frame always fits. */
  maxBufferedBytes: number;
  /** Told once, when the client is dropped for falling behind (not when it leaves). */
  onDrop(reason: string): void;
  /** Told once, when nothing more will be sent: the client left, was dropped, or the stream was ended. */
  onDone(): void;
  /** Times the keepalive and the dropped client's grace. */
  clock: Clock;
}

export class SseOutlet {
  /** Frames of this client's own, and batches shared with other clients (never copied per client). */
  private backlog: (string | Buffer)[] = [];
  private backlogBytes = 0;
  private waitingForDrain = false;
  private flushScheduled = false;
  private ended = false;
  private keepalive: TimerHandle | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: SseOutletOptions,
    head: { status: number; headers: Record<string, string> } = { status: 200, headers: SSE_HEADERS },
  ) {
    res.writeHead(head.status, { ...head.headers, ...SECURITY_HEADERS });
    res.flushHeaders();
    res.on('drain', () => this.flush());
    res.once('close', () => this.finish());
  }

  /** Queues one frame (see sseFrame) or comment; never blocks, never buffers past the bound. */
  send(frame: string): void {
    const bytes = Buffer.byteLength(frame);
    if (!this.admit(bytes)) return;
    this.backlog.push(frame);
    this.backlogBytes += bytes;
    // Frames sent in one turn of the event loop leave in one write: with many watchers, writes are the cost.
    if (!this.waitingForDrain && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends a comment every KEEPALIVE_MS until the stream ends, so proxies do not close it while nothing happens. */
  keepAlive(): void {
    if (this.ended || this.keepalive) return;
    this.keepalive = this.opts.clock.setInterval(() => this.send(': keepalive\n\n'), KEEPALIVE_MS);
  }

  /**
   * Writes a batch of frames already joined for many clients (see SseFanout): the same Buffer goes to every socket,
   * so clients that are behind hold references to it, not copies. Same bound as send(); order with send() is kept.
   */
  sendBatch(batch: Buffer): void {
    if (!this.admit(batch.length)) return;
    if (this.waitingForDrain || this.flushScheduled) {
      this.backlog.push(batch);
      this.backlogBytes += batch.length;
    } else if (!this.res.write(batch)) this.waitingForDrain = true;
  }

  /** Whether `bytes` more fit within the bound; drops the client when not. */
  private admit(bytes: number): boolean {
    if (this.ended) return false;
    const held = this.res.writableLength + this.backlogBytes;
    if (held > 0 && held + bytes > this.opts.maxBufferedBytes) {
      this.drop(`the client fell behind: more than ${this.opts.maxBufferedBytes} bytes of events waited for it`);
      return false;
    }
    return true;
  }

  /** Ends the stream normally after what is queued (the route is done). */
  end(): void {
    if (this.ended) return;
    const rest = this.backlog;
    this.finish();
    this.writeAll(rest);
    this.res.end();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepalive) this.opts.clock.clearInterval(this.keepalive);
    this.backlog = [];
    this.backlogBytes = 0;
    this.opts.onDone();
  }

  private flush(): void {
    this.flushScheduled = false;
    this.waitingForDrain = false;
    if (this.ended || this.backlog.length === 0) return;
    const chunks = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    if (!this.writeAll(chunks)) this.waitingForDrain = true;
  }

  /** Writes frames of our own as one string, shared batches as they are; false once the socket asks to wait. */
  private writeAll(chunks: (string | Buffer)[]): boolean {
    const own = chunks.every((c) => typeof c === 'string');
    let accepted = true;
    // Writes in one tick leave the socket as one writev (node:http corks the connection until the next tick).
    for (const chunk of own ? [chunks.join('')] : chunks) accepted = this.res.write(chunk) && accepted;
    return accepted;
  }

  private drop(reason: string): void {
    this.finish();
    this.opts.onDrop(reason);
    // Behind what the socket already holds: the client reads it last, then the end of the stream.
    this.res.end(sseFrame('dropped', JSON.stringify({ reason })));
    const cutOff = this.opts.clock.setTimeout(() => this.res.destroy(), DROP_GRACE_MS);
    this.res.once('close', () => this.opts.clock.clearTimeout(cutOff));
  }
}

/** What a stream route needs to bound its clients: the byte bound, and who hears of watchers coming, going and being dropped. */
export interface StreamLimits {
  maxBufferedBytes: number;
  /** Times keepalives, grace periods and periodic pushes. */
  clock: Clock;
  onOpen(stream: string): void;
  onClose(stream: string): void;
  onDrop(stream: string, reason: string): void;
}

/**
 * Starts an SSE answer on the Node response behind a Hono context. Return `response` from the handler: it tells
 * @hono/node-server that the answer is already being written. Throws when there is no Node response (app.request()).
 */
export function startSse(
  env: unknown,
  stream: string,
  limits: StreamLimits,
  onDone: () => void,
  head?: { status: number; headers: Record<string, string> },
): { outlet: SseOutlet; response: Response } {
  const res = nodeResponse(env);
  if (!res) throw new Error(`${stream} needs a Node HTTP server (served by @hono/node-server)`);
  limits.onOpen(stream);
  const done = () => {
    limits.onClose(stream);
    onDone();
  };
  const outlet = new SseOutlet(res, { maxBufferedBytes: limits.maxBufferedBytes, onDrop: (reason) => limits.onDrop(stream, reason), onDone: done, clock: limits.clock }, head);
  return { outlet, response: RESPONSE_ALREADY_SENT };
}

/** The Node response @hono/node-server passes as the context's env, or undefined (app.request() in tests). */
export function nodeResponse(env: unknown): ServerResponse | undefined {
  return (env as Partial<HttpBindings> | undefined)?.outgoing;
}
