/**
 * A local Ollama as `codex exec --oss --local-provider ollama` sees it: `GET /v1/models` (the probe), `GET /api/version`
 * (codex needs at least 0.13.4 for the Responses API), `GET /api/tags` (is the model pulled?) and a streaming
 * `POST /v1/responses`, answered with the events Ollama writes (see responses-stream.ts). Bodies and headers follow
 * Ollama's server/routes.go and middleware/openai.go: gin's c.JSON for /api/* (no trailing newline), a json.Encoder for
 * /v1/models (one), `404 page not found` for anything else. Each generation request gets the next turn the test
 * scripts: reasoning, text, or a call of a tool the request declared.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { goMarshalOrdered } from './go-json.js';
import { responsesEvents, type ChatChunk } from './responses-stream.js';

/** What the model says in one answer. */
export interface ModelTurn {
  /** Streamed first, as gpt-oss does (Ollama's `thinking`). */
  thinking?: string;
  /** The assistant's text, streamed a word at a time. */
  text?: string;
  /** A call of a tool from the request's `tools`, arguments in this key order. */
  call?: { name: string; arguments: Record<string, unknown> };
}

export interface FakeOllamaResponsesOptions {
  /** Models the server has pulled. */
  models: readonly string[];
  /** The answer to the n-th generation request (from 0), given its JSON body. */
  turn(body: Record<string, any>, n: number): ModelTurn;
  /** Pause between streamed writes, ms. Default 5. */
  chunkDelayMs?: number;
}

export interface FakeOllamaResponses {
  /** The host root (http://127.0.0.1:port); codex takes `${url}/v1` as CODEX_OSS_BASE_URL. */
  url: string;
  /** Every request, in order, with the parsed body of generation requests. */
  requests: { method: string; path: string; body: Record<string, any> | null }[];
  close(): Promise<void>;
}

/** The Ollama release whose source these bytes follow. */
const OLLAMA_VERSION = '0.33.0-rc2';
const MODIFIED_AT = '2025-08-05T22:14:03.551493812Z';

export async function startFakeOllamaResponses(options: FakeOllamaResponsesOptions): Promise<FakeOllamaResponses> {
  const requests: FakeOllamaResponses['requests'] = [];
  let generations = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, any> | null = null;
      if (raw !== '') {
        try {
          body = JSON.parse(raw) as Record<string, any>;
        } catch {
          body = null;
        }
      }
      requests.push({ method: req.method ?? 'GET', path, body });
      if (req.method === 'GET' && path === '/api/version') return ginJson(res, { version: OLLAMA_VERSION });
      if (req.method === 'GET' && path === '/api/tags') return ginJson(res, { models: options.models.map(listedModel) });
      if (req.method === 'GET' && path === '/v1/models') {
        const data = options.models.map((id) => ({ id, object: 'model', created: Math.floor(Date.parse(MODIFIED_AT) / 1000), owned_by: 'library' }));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(goMarshalOrdered({ object: 'list', data }) + '\n');
      }
      if (req.method === 'POST' && path === '/v1/responses' && body?.stream === true) {
        return void stream(res, body, options.turn(body, generations++), options.chunkDelayMs ?? 5);
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function stream(res: http.ServerResponse, body: Record<string, any>, turn: ModelTurn, delayMs: number): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  for (const write of responsesEvents(body as never, chatChunks(turn, JSON.stringify(body).length))) {
    if (res.destroyed) return;
    res.write(write);
    await sleep(delayMs);
  }
  res.end();
}

/** The chunks Ollama's chat handler would stream for the turn: thinking, text, the tool call, then the done chunk. */
function chatChunks(turn: ModelTurn, requestBytes: number): ChatChunk[] {
  const words = (s: string | undefined) => (s ? s.split(/(?<= )/) : []);
  const chunks: ChatChunk[] = [...words(turn.thinking).map((thinking) => ({ thinking })), ...words(turn.text).map((content) => ({ content }))];
  if (turn.call) chunks.push({ toolCalls: [turn.call] });
  // Token counts stand in for the model's: a quarter of the request's bytes in, one per chunk out.
  chunks.push({ done: { promptEvalCount: Math.ceil(requestBytes / 4), evalCount: chunks.length } });
  return chunks;
}

/** One entry of /api/tags (api.ListModelResponse), as Ollama lists a pulled model. */
function listedModel(name: string) {
  return {
    name,
    model: name,
    modified_at: MODIFIED_AT,
    size: 13780173734,
    digest: 'f2b8351c629c005bd3f0a0e3046f17d8e6a0ce1a4a6bf4f4d9d6a0b7c5e1d2c3',
    details: { parent_model: '', format: 'gguf', family: 'gptoss', families: ['gptoss'], parameter_size: '20.9B', quantization_level: 'MXFP4' },
  };
}

/** gin's c.JSON: `application/json; charset=utf-8`, json.Marshal's bytes (struct fields in order), no newline. */
function ginJson(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(goMarshalOrdered(body));
}
