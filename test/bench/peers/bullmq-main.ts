/**
 * The peer a Node user would build instead of Koubou: BullMQ on Redis. One process, as Koubou is one: a node:http
 * server whose POST /task/delegate does `queue.add` (202 with the id; with `sync: true` it waits with
 * `job.waitUntilFinished` and answers 200 with the result), and a Worker of concurrency N that makes the same
 * streaming Ollama chat call a Koubou worker makes, through undici, and returns the answer's text and finish reason.
 * GET /health answers {queue:{completed, failed}} as Koubou's does, counted from the Worker's events.
 * Prints {"url": "..."} on one line once it listens.
 * Usage: node dist/test/bench/peers/bullmq-main.js --redis-port N --backend URL [--model M] [--concurrency 32]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: { 'redis-port': { type: 'string' }, backend: { type: 'string' }, model: { type: 'string' }, concurrency: { type: 'string' } },
});
const connection = { host: '127.0.0.1', port: Number(values['redis-port']), maxRetriesPerRequest: null };
const model = values.model ?? 'bench-model';
const concurrency = Number(values.concurrency ?? 32);
const backend = new Pool(values.backend!, { connections: concurrency });

interface Answer {
  content: string;
  finish_reason: string | null;
}

/** One streaming /api/chat call, read to the end; the NDJSON lines are parsed as Koubou's reader does. */
async function chat(prompt: string): Promise<Answer> {
  const res = await backend.request({
    method: 'POST',
    path: '/api/chat',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], stream: true }),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`backend answered ${res.statusCode}`);
  }
  let content = '';
  let finish: string | null = null;
  for (const line of (await res.body.text()).split('\n')) {
    if (line.trim() === '') continue;
    const piece = JSON.parse(line) as { message?: { content?: string }; done?: boolean; done_reason?: string };
    content += piece.message?.content ?? '';
    if (piece.done) finish = piece.done_reason ?? null;
  }
  return { content, finish_reason: finish };
}

const queue = new Queue('delegate', { connection });
const events = new QueueEvents('delegate', { connection });
const worker = new Worker<{ prompt: string }, Answer>('delegate', (job) => chat(job.data.prompt), { connection, concurrency });
let completed = 0;
let failed = 0;
worker.on('completed', () => completed++);
worker.on('failed', () => failed++);
await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function delegate(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let input: { prompt?: unknown; sync?: unknown };
  try {
    input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof input;
  } catch {
    return send(res, 400, { error: { code: 'invalid_json', message: 'body is not JSON' } });
  }
  if (typeof input.prompt !== 'string' || input.prompt === '') return send(res, 400, { error: { code: 'invalid_input', message: 'prompt: a non-empty string' } });
  const job = await queue.add('delegate', { prompt: input.prompt });
  if (input.sync !== true) return send(res, 202, { id: job.id, status: 'pending' });
  const result = await job.waitUntilFinished(events, 300_000);
  send(res, 200, { id: job.id, status: 'completed', result });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/task/delegate') {
    delegate(req, res).catch((err: Error) => send(res, 500, { error: { code: 'internal', message: err.message } }));
  } else if (req.method === 'GET' && req.url === '/health') {
    send(res, 200, { queue: { completed, failed } });
  } else {
    send(res, 404, { error: { code: 'not_found', message: `${req.method} ${req.url}` } });
  }
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});

const stop = async (): Promise<void> => {
  server.close();
  await worker.close();
  await Promise.all([queue.close(), events.close(), backend.close()]);
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
