/**
 * HTTP as a hostile client sends it: any Host (fetch will not let a test set one), any Origin and Content-Type, and
 * WebSocket upgrades whose answer is read straight off the socket.
 */
import http from 'node:http';
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the text when it is not JSON. */
  body: any;
}

/** The whole body of an answer: parsed JSON, or the text when it is not JSON. */
export function readBody(res: http.IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(text); // the test sees the text
      }
    });
    res.on('error', reject);
  });
}

/** One request on a fresh connection; `headers` are sent as given (Host too: no default is added). */
export function rawRequest(baseUrl: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawAnswer> {
  const { hostname, port, host } = new URL(baseUrl);
  const headers = { host, ...opts.headers };
  if (opts.body !== undefined) (headers as Record<string, string>)['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method: opts.method ?? 'GET', path: opts.path, headers, setHost: false, agent: false }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends a WebSocket upgrade for `path` with these headers and returns the status code of the answer (101 = accepted). */
export async function upgradeStatus(baseUrl: string, path: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port, host } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const all: Record<string, string> = {
      host,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      ...headers,
    };
    socket.write(`GET ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    const head = await new Promise<string>((resolve, reject) => {
      let buf = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        buf += d;
        if (buf.includes('\r\n')) resolve(buf);
      });
      socket.once('error', reject);
      socket.once('close', () => resolve(buf));
    });
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
    if (!status) throw new Error(`no HTTP status line in ${JSON.stringify(head.slice(0, 100))}`);
    return Number(status);
  } finally {
    socket.destroy();
  }
}
