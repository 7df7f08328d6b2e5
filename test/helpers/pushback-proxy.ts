/**
 * A stand-in for a server that pushes back, put in front of the fake LLM: it answers generation requests the way a busy
 * or rate-limited server does (exact bytes below), and passes everything else (and the requests it lets through) on to
 * the fake. It records when each generation request arrived, how many were open then, and what it answered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Ollama's answer when its queue is full (OLLAMA_MAX_QUEUE): gin's c.JSON of ErrMaxQueue, status 503. */
export const OLLAMA_BUSY_BODY = '{"error":"server busy, please try again.  maximum pending requests exceeded"}';
/** A rate-limited gateway in cooldown (LiteLLM's shape), status 429 with a Retry-After header. */
export const RATE_LIMITED_BODY =
  '{"error":{"message":"No deployments available for selected model, Try again in 6 seconds. Passed model=fake-model.","type":"None","param":"None","code":"429"}}';

/** What to answer one generation request with: pass it on, or push back. */
export type Pushback = 'pass' | { status: 503 | 429; retryAfter?: string };

export interface PushbackRecord {
  at: number;
  /** Generation requests open when this one arrived, this one included. */
  open: number;
  status: number;
}

export interface PushbackProxy {
  readonly url: string;
  readonly port: number;
  readonly records: readonly PushbackRecord[];
  /** Answers for the next generation requests, after any still scripted. */
  script(...answers: Pushback[]): void;
  close(): Promise<void>;
}

export interface PushbackOptions {
  /** The fake LLM answering what is let through. */
  upstream: string;
  /** Busy (503, Ollama's body) whenever more than this many generation requests would be open. */
  maxOpen?: number;
  /** Answers for the first generation requests, in order; then `maxOpen` (or pass) decides. */
  script?: Pushback[];
  /** Listen on this port (0: any). */
  port?: number;
}

const GENERATION = new Set(['/api/chat', '/api/generate', '/v1/chat/completions']);

export async function startPushbackProxy(opts: PushbackOptions): Promise<PushbackProxy> {
  const upstream = new URL(opts.upstream);
  const script = [...(opts.script ?? [])];
  const records: PushbackRecord[] = [];
  let open = 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const generation = req.method === 'POST' && GENERATION.has(req.url ?? '');
    if (!generation) return forward(req, res);
    open++;
    res.on('close', () => open--);
    const scripted = script.shift();
    const answer: Pushback = scripted ?? (opts.maxOpen !== undefined && open > opts.maxOpen ? { status: 503 } : 'pass');
    records.push({ at: Date.now(), open, status: answer === 'pass' ? 200 : answer.status });
    if (answer === 'pass') return forward(req, res);
    // Read the request to the end first, as a real server does, so the client sees the answer, not a reset.
    req.resume();
    req.on('end', () => {
      const body = answer.status === 503 ? OLLAMA_BUSY_BODY : RATE_LIMITED_BODY;
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
      if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
      res.writeHead(answer.status, headers).end(body);
    });
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const out = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    script: (...answers) => void script.push(...answers),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
