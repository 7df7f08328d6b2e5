/**
 * Watchers that never read: raw TCP sockets that send their request (an SSE GET, or a WebSocket upgrade and a
 * subscribe frame) and then stop reading, so the server's writes pile up. Each can later be read to its end.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface StalledClient {
  /** Resumes reading and resolves with everything the server sent, once it closed the connection. */
  readToEnd(): Promise<Buffer>;
  /** Resumes reading and resolves with what was received once `done` holds for it (or the connection closed). */
  readUntil(done: (received: Buffer) => boolean): Promise<Buffer>;
  destroy(): void;
}

function connect(url: string, request: string, then?: Buffer): StalledClient {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.pause();
  socket.write(request);
  if (then) socket.write(then);
  const readUntil = (done: (received: Buffer) => boolean) =>
    new Promise<Buffer>((resolve) => {
      let received = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        if (done(received)) resolve(received);
      });
      socket.once('close', () => resolve(received));
      socket.resume();
    });
  return {
    readToEnd: () => readUntil(() => false),
    readUntil,
    destroy: () => socket.destroy(),
  };
}

/** GET path as Server-Sent Events, never read. */
export function stalledSse(url: string, path: string): StalledClient {
  const { host } = new URL(url);
  return connect(url, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n\r\n`);
}

/** POST path with a JSON body and these headers, never read (an MCP call answered as a stream, say). */
export function stalledPost(url: string, path: string, headers: Record<string, string>, body: string): StalledClient {
  const { host } = new URL(url);
  const lines = Object.entries({ ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).map(([k, v]) => `${k}: ${v}\r\n`);
  return connect(url, `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${lines.join('')}\r\n${body}`);
}

/** A WebSocket on path that sends `message` (a masked text frame, RFC 6455 §5.2-5.3) and never reads. */
export function stalledWebSocket(url: string, path: string, message: string): StalledClient {
  const { host } = new URL(url);
  const upgrade =
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return connect(url, upgrade, maskedTextFrame(message));
}

/** A client's text frame: FIN + opcode 1, the mask bit, the length (7 or 7+16 bits), the key, the masked payload. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 65_536) throw new Error('frame too long for this helper');
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}
