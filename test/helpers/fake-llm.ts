import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A protocol-faithful fake LLM server for tests and benchmarks. It speaks Ollama (/api/chat,
 * /api/generate, /api/tags, /api/version) and OpenAI (/v1/chat/completions, /v1/models) and answers
 * `echo(<model>): <last user message>`, streamed word by word.
 *
 * Behaviour per generation request, first match wins: a marker in the prompt (`[[mode:hang]]`,
 * `[[delay:200]]`, `[[chunk-delay:20]]`, `[[split]]`), then the next scripted entry (`script()`: a mode, or a
 * ScriptedResponse played back byte for byte), then the global behaviour (`configure()`). Listing endpoints follow
 * the global mode only.
 */

/**
 * ok: answers normally. error500 / error400: that status with the protocol's error body.
 * hang: never finishes (streaming: headers and the first piece, then silence; otherwise nothing at all).
 * garbage: 200 with a body that is not the protocol. truncate: a streamed answer stops halfway
 * (no done / finish_reason / [DONE]) and the response ends; a single JSON body is cut in half.
 */
export type FakeMode = 'ok' | 'error500' | 'error400' | 'hang' | 'garbage' | 'truncate';

export const FAKE_MODES: readonly FakeMode[] = ['ok', 'error500', 'error400', 'hang', 'garbage', 'truncate'];

/** One chunk of a scripted response: exact bytes, written after an optional pause. */
export type ScriptedChunk = string | Uint8Array | { bytes: string | Uint8Array; delayMs?: number };

/**
 * A response played back exactly as given, whatever the request asked for: the status, the headers, then each chunk
 * as its own write (so the client reads them as separate pieces when they are apart in time).
 */
export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  /** Default: the protocol's streaming content-type (text/event-stream for OpenAI, application/x-ndjson for Ollama). */
  headers?: Record<string, string>;
  chunks: readonly ScriptedChunk[];
  /** After the chunks, write this one again and again (each after delayMs, default 0) until the client goes away. */
  repeat?: { bytes: string | Uint8Array; delayMs?: number };
  /** Leave the response open after the chunks instead of ending it. */
  hang?: boolean;
}

export type ScriptEntry = FakeMode | ScriptedResponse;

export interface FakeBehaviour {
  mode: FakeMode;
  /** Wait before answering at all. */
  delayMs: number;
  /** Wait between streamed pieces. */
  chunkDelayMs: number;
  /** Write each streamed piece in two parts cut inside a multi-byte UTF-8 character (or mid-line). */
  splitWrites: boolean;
}

export interface FakeLlmOptions extends Partial<FakeBehaviour> {
  /** Default 0 (any free port). */
  port?: number;
  /** Keep a record of each request in `requests`. Default true; turn off for benchmarks. */
  recordRequests?: boolean;
  /** At most this many recent records are kept (older ones are dropped in batches). Default 10000. */
  maxRecordedRequests?: number;
  /** Names listed by /api/tags and /v1/models. Default ["fake-model"]. */
  models?: string[];
  /** When set, the OpenAI endpoints demand `Authorization: Bearer <apiKey>` and answer 401 otherwise. */
  apiKey?: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  model: string | undefined;
  /** Last user message (chat) or prompt (generate). */
  prompt: string | undefined;
  system: string | undefined;
  stream: boolean;
  /** 'script' when a ScriptedResponse answered it. */
  mode: FakeMode | 'script';
  authorization: string | undefined;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** The whole response was written. */
  finished: boolean;
}

export interface FakeLlm {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Recent requests in arrival order (see recordRequests / maxRecordedRequests). */
  readonly requests: readonly FakeRequest[];
  /** Requests received since start or reset(). */
  readonly count: number;
  /** Requests whose response is not closed yet. */
  readonly inFlight: number;
  /** Requests the client abandoned before the response was complete. */
  readonly abortedCount: number;
  /** TCP connections accepted since start or reset(): shows whether clients reuse keep-alive sockets. */
  readonly connectionCount: number;
  /** Changes the global behaviour (only the given fields). */
  configure(behaviour: Partial<FakeBehaviour>): void;
  /** The next generation requests take these entries in order, then the global mode applies again. */
  script(entries: readonly ScriptEntry[]): void;
  /** Scripted entries not played yet. */
  readonly scriptLeft: number;
  /** Back to the start options' behaviour; clears the script, the records and the counters. */
  reset(): void;
  /** Stops listening and destroys open sockets, hanging requests included. */
  close(): Promise<void>;
}

type Protocol = 'ollama-chat' | 'ollama-generate' | 'openai';

/** What a generation request asked for, in protocol-neutral terms. */
interface Generation {
  protocol: Protocol;
  model: string;
  prompt: string;
  stream: boolean;
  includeUsage: boolean;
}

/** A rendered answer: streamed pieces (content, then closing ones) or a single body. */
interface Rendered {
  status: number;
  contentType: string;
  contentPieces: string[];
  closingPieces: string[];
}

const MARKER = /\[\[(mode|delay|chunk-delay|split)(?::([\w-]+))?\]\]/g;
const NDJSON = 'application/x-ndjson';
const JSON_TYPE = 'application/json; charset=utf-8';
const SSE = 'text/event-stream';
/** Minimum pause between the two halves of a split write, so they reach the client as separate chunks. */
const SPLIT_PAUSE_MS = 2;

/** Starts a fake LLM server on 127.0.0.1. */
export async function startFakeLlm(opts: FakeLlmOptions = {}): Promise<FakeLlm> {
  const fake = new FakeLlmServer(opts);
  await fake.listen(opts.port ?? 0);
  return fake;
}

class FakeLlmServer implements FakeLlm {
  private readonly server: http.Server;
  private readonly initial: FakeBehaviour;
  private behaviour: FakeBehaviour;
  private scripted: ScriptEntry[] = [];
  private readonly records: FakeRequest[] = [];
  private readonly recordRequests: boolean;
  private readonly maxRecords: number;
  private readonly models: string[];
  private readonly apiKey: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private served = 0;
  private open = 0;
  private abandoned = 0;
  private connections = 0;
  private boundPort = 0;

  constructor(opts: FakeLlmOptions) {
    this.initial = {
      mode: opts.mode ?? 'ok',
      delayMs: opts.delayMs ?? 0,
      chunkDelayMs: opts.chunkDelayMs ?? 0,
      splitWrites: opts.splitWrites ?? false,
    };
    this.behaviour = { ...this.initial };
    this.recordRequests = opts.recordRequests ?? true;
    this.maxRecords = Math.max(1, opts.maxRecordedRequests ?? 10_000);
    this.models = opts.models ?? ['fake-model'];
    this.apiKey = opts.apiKey;
    this.server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => this.handle(req, res));
    this.server.on('connection', () => {
      this.connections++;
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }
  get port(): number {
    return this.boundPort;
  }
  get requests(): readonly FakeRequest[] {
    return this.records;
  }
  get count(): number {
    return this.served;
  }
  get inFlight(): number {
    return this.open;
  }
  get abortedCount(): number {
    return this.abandoned;
  }
  get connectionCount(): number {
    return this.connections;
  }

  configure(behaviour: Partial<FakeBehaviour>): void {
    if (behaviour.mode !== undefined && !FAKE_MODES.includes(behaviour.mode)) {
      throw new Error(`fake-llm: unknown mode ${JSON.stringify(behaviour.mode)}`);
    }
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  script(entries: readonly ScriptEntry[]): void {
    for (const entry of entries) {
      if (typeof entry === 'string' && !FAKE_MODES.includes(entry)) throw new Error(`fake-llm: unknown mode ${JSON.stringify(entry)}`);
    }
    this.scripted = [...entries];
  }

  get scriptLeft(): number {
    return this.scripted.length;
  }

  reset(): void {
    this.behaviour = { ...this.initial };
    this.scripted = [];
    this.records.length = 0;
    this.served = 0;
    this.abandoned = 0;
    this.connections = 0;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.served++;
    this.open++;
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const record: FakeRequest = {
      method: req.method ?? 'GET',
      path,
      model: undefined,
      prompt: undefined,
      system: undefined,
      stream: false,
      mode: this.behaviour.mode,
      authorization: req.headers.authorization,
      aborted: false,
      finished: false,
    };
    this.remember(record);
    res.on('finish', () => {
      record.finished = true;
    });
    res.on('close', () => {
      this.open--;
      if (!res.writableFinished) {
        record.aborted = true;
        this.abandoned++;
      }
    });

    if (req.method === 'GET') {
      req.resume();
      this.handleListing(path, record, res);
      return;
    }
    if (req.method === 'POST' && (path === '/v1/embeddings' || path === '/api/embed')) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.handleEmbedding(path, Buffer.concat(chunks).toString('utf8'), record, res));
      return;
    }
    if (req.method !== 'POST' || !isGenerationPath(path)) {
      req.resume();
      sendText(res, 404, '404 page not found');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.handleGeneration(path, Buffer.concat(chunks).toString('utf8'), record, res));
  }

  private remember(record: FakeRequest): void {
    if (!this.recordRequests) return;
    // Dropping half at once keeps the cost per request constant.
    if (this.records.length >= this.maxRecords) this.records.splice(0, Math.ceil(this.maxRecords / 2));
    this.records.push(record);
  }

  private handleListing(path: string, record: FakeRequest, res: http.ServerResponse): void {
    const mode = this.behaviour.mode;
    if (path === '/api/tags' || path === '/api/version') {
      if (this.failInstead(mode, 'ollama-chat', false, res)) return;
      const body =
        path === '/api/version'
          ? { version: '0.6.8' }
          : {
              models: this.models.map((name) => ({
                name: name.includes(':') ? name : `${name}:latest`,
                model: name.includes(':') ? name : `${name}:latest`,
                modified_at: '2025-01-01T00:00:00.000000000Z',
                size: 2019393189,
                digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
                details: {
                  parent_model: '',
                  format: 'gguf',
                  family: 'llama',
                  families: ['llama'],
                  parameter_size: '3.2B',
                  quantization_level: 'Q4_K_M',
                },
              })),
            };
      sendJson(res, 200, body);
      return;
    }
    if (path === '/v1/models') {
      if (!this.authorised(record, res)) return;
      if (this.failInstead(mode, 'openai', false, res)) return;
      sendJson(res, 200, {
        object: 'list',
        data: this.models.map((id) => ({ id, object: 'model', created: 1735689600, owned_by: 'fake-llm' })),
      });
      return;
    }
    sendText(res, 404, '404 page not found');
  }

  private handleGeneration(
    path: string,
    rawBody: string,
    record: FakeRequest,
    res: http.ServerResponse,
  ): void {
    const protocol: Protocol =
      path === '/api/chat' ? 'ollama-chat' : path === '/api/generate' ? 'ollama-generate' : 'openai';
    if (protocol === 'openai' && !this.authorised(record, res)) return;
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      sendJson(res, 400, errorBody(protocol, 'invalid character in request body: not JSON'));
      return;
    }
    const parsed = parseGeneration(protocol, body);
    if (typeof parsed === 'string') {
      sendJson(res, 400, errorBody(protocol, parsed));
      return;
    }
    record.model = parsed.model;
    record.prompt = parsed.prompt;
    record.system = parsed.system;
    record.stream = parsed.generation.stream;

    const markers = parsed.prompt.includes('[[') ? readMarkers(parsed.prompt) : undefined;
    const entry = markers?.mode ?? this.scripted.shift() ?? this.behaviour.mode;
    if (typeof entry !== 'string') {
      record.mode = 'script';
      this.play(entry, parsed.generation.protocol, res);
      return;
    }
    const mode = entry;
    record.mode = mode;
    const behaviour: FakeBehaviour = {
      mode,
      delayMs: markers?.delayMs ?? this.behaviour.delayMs,
      chunkDelayMs: markers?.chunkDelayMs ?? this.behaviour.chunkDelayMs,
      splitWrites: markers?.splitWrites ?? this.behaviour.splitWrites,
    };
    if (behaviour.delayMs > 0) this.later(behaviour.delayMs, () => this.answer(parsed.generation, behaviour, res));
    else this.answer(parsed.generation, behaviour, res);
  }

  /**
   * /v1/embeddings ({object:"list", data:[{object:"embedding", index, embedding}], model, usage}) or /api/embed
   * ({model, embeddings, total_duration, load_duration, prompt_eval_count}): per input the vector
   * [characters, first character's code, 0.5], so a test can tell which vector belongs to which input.
   */
  private handleEmbedding(path: string, rawBody: string, record: FakeRequest, res: http.ServerResponse): void {
    const protocol: Protocol = path === '/api/embed' ? 'ollama-chat' : 'openai';
    if (protocol === 'openai' && !this.authorised(record, res)) return;
    let body: { model?: unknown; input?: unknown };
    try {
      body = JSON.parse(rawBody) as typeof body;
    } catch {
      sendJson(res, 400, errorBody(protocol, 'invalid character in request body: not JSON'));
      return;
    }
    const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input.filter((i): i is string => typeof i === 'string') : [];
    if (typeof body.model !== 'string' || inputs.length === 0) {
      sendJson(res, 400, errorBody(protocol, 'model and input are required'));
      return;
    }
    record.model = body.model;
    record.prompt = inputs[0];
    const vectors = inputs.map((text) => [text.length, text.codePointAt(0) ?? 0, 0.5]);
    const tokens = inputs.reduce((n, text) => n + Math.max(1, Math.ceil(text.length / 4)), 0);
    if (this.failInstead(this.behaviour.mode, protocol, false, res)) return;
    sendJson(
      res,
      200,
      protocol === 'openai'
        ? { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }
        : { model: body.model, embeddings: vectors, total_duration: 1_000_000, load_duration: 100_000, prompt_eval_count: tokens },
    );
  }

  private authorised(record: FakeRequest, res: http.ServerResponse): boolean {
    if (this.apiKey === undefined || record.authorization === `Bearer ${this.apiKey}`) return true;
    sendJson(res, 401, {
      error: {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    return false;
  }

  /** Answers with an error, garbage or silence when the mode says so; false when a real answer is due. */
  private failInstead(mode: FakeMode, protocol: Protocol, stream: boolean, res: http.ServerResponse): boolean {
    switch (mode) {
      case 'error500':
        sendJson(res, 500, errorBody(protocol, 'fake-llm: internal server error'));
        return true;
      case 'error400':
        sendJson(res, 400, errorBody(protocol, 'fake-llm: bad request'));
        return true;
      case 'garbage':
        res.writeHead(200, { 'content-type': stream ? (protocol === 'openai' ? SSE : NDJSON) : JSON_TYPE });
        res.end('<html><body>502 Bad Gateway, or anything else that is not the protocol</body></html>\n');
        return true;
      case 'hang':
        // Non-streaming: the request is accepted and nothing is ever sent.
        return true;
      default:
        return false;
    }
  }

  private answer(generation: Generation, behaviour: FakeBehaviour, res: http.ServerResponse): void {
    if (res.destroyed) return;
    const { mode } = behaviour;
    const rendered = render(generation);
    if (mode === 'hang' && generation.stream) {
      // Send the first piece that carries text (OpenAI opens with an empty role-only chunk), then stall.
      res.writeHead(rendered.status, { 'content-type': rendered.contentType });
      res.write(rendered.contentPieces.slice(0, generation.protocol === 'openai' ? 2 : 1).join(''));
      return;
    }
    if (this.failInstead(mode, generation.protocol, generation.stream, res)) return;
    if (!generation.stream) {
      const body = rendered.contentPieces.join('');
      res.writeHead(rendered.status, { 'content-type': rendered.contentType });
      if (mode === 'truncate') res.end(body.slice(0, Math.floor(body.length / 2)));
      else res.end(body);
      return;
    }
    res.writeHead(rendered.status, { 'content-type': rendered.contentType, 'cache-control': 'no-cache' });
    const pieces =
      mode === 'truncate'
        ? rendered.contentPieces.slice(0, Math.max(1, Math.ceil(rendered.contentPieces.length / 2)))
        : [...rendered.contentPieces, ...rendered.closingPieces];
    if (behaviour.chunkDelayMs <= 0 && !behaviour.splitWrites) {
      // Without pauses the client would get the pieces in one read anyway; one write is cheaper.
      res.write(pieces.join(''));
      res.end();
      return;
    }
    this.writeSlowly(res, pieces, behaviour);
  }

  /** Writes pieces one timer tick apart (and each in two halves when splitting), then ends. */
  private writeSlowly(res: http.ServerResponse, pieces: string[], behaviour: FakeBehaviour): void {
    const parts: Buffer[] = [];
    for (const piece of pieces) {
      const bytes = Buffer.from(piece, 'utf8');
      if (behaviour.splitWrites) parts.push(...splitInsideCharacter(bytes));
      else parts.push(bytes);
    }
    const pause = behaviour.splitWrites ? Math.max(behaviour.chunkDelayMs, SPLIT_PAUSE_MS) : behaviour.chunkDelayMs;
    let next = 0;
    const step = (): void => {
      if (res.destroyed) return;
      const part = parts[next++];
      if (part === undefined) {
        res.end();
        return;
      }
      res.write(part);
      this.later(pause, step);
    };
    step();
  }

  /** Plays a scripted response back: status, headers, each chunk as a write after its pause, then end/repeat/hang. */
  private play(script: ScriptedResponse, protocol: Protocol, res: http.ServerResponse): void {
    const contentType = protocol === 'openai' ? SSE : NDJSON;
    res.writeHead(script.status ?? 200, script.headers ?? { 'content-type': contentType, 'cache-control': 'no-cache' });
    res.flushHeaders();
    const chunks = script.chunks.map((c) => (typeof c === 'string' || c instanceof Uint8Array ? { bytes: c, delayMs: 0 } : c));
    let next = 0;
    const step = (): void => {
      if (res.destroyed) return;
      const chunk = chunks[next++];
      if (chunk !== undefined) {
        const write = () => {
          if (res.destroyed) return;
          res.write(chunk.bytes);
          step();
        };
        if (chunk.delayMs) this.later(chunk.delayMs, write);
        // Apart in time even without a pause, so each chunk reaches the client as its own read.
        else if (next > 1) this.later(1, write);
        else write();
        return;
      }
      if (script.repeat) this.repeatForever(res, script.repeat.bytes, script.repeat.delayMs ?? 0);
      else if (!script.hang) res.end();
    };
    step();
  }

  /** Writes the same bytes until the client goes away, waiting for 'drain' when the socket is full. */
  private repeatForever(res: http.ServerResponse, bytes: string | Uint8Array, delayMs: number): void {
    const again = (): void => {
      if (res.destroyed) return;
      if (!res.write(bytes)) res.once('drain', () => this.later(delayMs, again));
      else this.later(delayMs, again);
    };
    again();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }
}

function isGenerationPath(path: string): boolean {
  return path === '/api/chat' || path === '/api/generate' || path === '/v1/chat/completions';
}

/** Validates a generation request like the real servers do; returns the error text when it is invalid. */
function parseGeneration(
  protocol: Protocol,
  body: unknown,
): { generation: Generation; model: string; prompt: string; system: string | undefined } | string {
  if (typeof body !== 'object' || body === null) return 'request body must be a JSON object';
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return 'model is required';
  const model = fields.model;
  let prompt: string;
  let system: string | undefined;
  if (protocol === 'ollama-generate') {
    prompt = typeof fields.prompt === 'string' ? fields.prompt : '';
    system = typeof fields.system === 'string' ? fields.system : undefined;
  } else {
    if (!Array.isArray(fields.messages)) return protocol === 'openai' ? "'messages' is a required property" : 'messages are required';
    const messages = fields.messages as Array<{ role?: unknown; content?: unknown }>;
    const lastUser = messages.findLast((m) => m?.role === 'user');
    prompt = typeof lastUser?.content === 'string' ? lastUser.content : '';
    const systemMessage = messages.find((m) => m?.role === 'system');
    system = typeof systemMessage?.content === 'string' ? systemMessage.content : undefined;
  }
  // Ollama streams unless told otherwise; OpenAI does not.
  const stream = protocol === 'openai' ? fields.stream === true : fields.stream !== false;
  const streamOptions = fields.stream_options as { include_usage?: unknown } | undefined;
  const includeUsage = protocol === 'openai' && stream && streamOptions?.include_usage === true;
  return { generation: { protocol, model, prompt, stream, includeUsage }, model, prompt, system };
}

/** Renders the deterministic echo answer in the protocol's exact wire format. */
function render(generation: Generation): Rendered {
  const { protocol, model, prompt, stream } = generation;
  const answer = `echo(${model}): ${prompt}`;
  const words = answer.split(/(?<=\s)/);
  const promptTokens = Math.max(1, Math.ceil(prompt.length / 4));
  const completionTokens = words.length;
  const createdAt = new Date().toISOString();

  if (protocol === 'openai') {
    const created = Math.floor(Date.now() / 1000);
    const id = `chatcmpl-fake${created}`;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    if (!stream) {
      const completion = {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, logprobs: null, finish_reason: 'stop' }],
        usage,
      };
      return { status: 200, contentType: JSON_TYPE, contentPieces: [JSON.stringify(completion)], closingPieces: [] };
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null): string => {
      const body: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: 'fp_fake',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      };
      if (generation.includeUsage) body.usage = null;
      return `data: ${JSON.stringify(body)}\n\n`;
    };
    const contentPieces = [chunk({ role: 'assistant', content: '' }, null), ...words.map((w) => chunk({ content: w }, null))];
    const closingPieces = [chunk({}, 'stop')];
    if (generation.includeUsage) {
      const usageChunk = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage };
      closingPieces.push(`data: ${JSON.stringify(usageChunk)}\n\n`);
    }
    closingPieces.push('data: [DONE]\n\n');
    return { status: 200, contentType: SSE, contentPieces, closingPieces };
  }

  const chat = protocol === 'ollama-chat';
  const piece = (text: string): Record<string, unknown> =>
    chat
      ? { model, created_at: createdAt, message: { role: 'assistant', content: text }, done: false }
      : { model, created_at: createdAt, response: text, done: false };
  const closing = (text: string): Record<string, unknown> => ({
    ...piece(text),
    done: true,
    done_reason: 'stop',
    ...(chat ? {} : { context: [1, 2, 3] }),
    total_duration: 1_000_000,
    load_duration: 100_000,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: 200_000,
    eval_count: completionTokens,
    eval_duration: 700_000,
  });
  if (!stream) {
    return { status: 200, contentType: JSON_TYPE, contentPieces: [JSON.stringify(closing(answer))], closingPieces: [] };
  }
  return {
    status: 200,
    contentType: NDJSON,
    contentPieces: words.map((w) => `${JSON.stringify(piece(w))}\n`),
    closingPieces: [`${JSON.stringify(closing(''))}\n`],
  };
}

function errorBody(protocol: Protocol, message: string): unknown {
  return protocol === 'openai'
    ? { error: { message, type: 'server_error', param: null, code: null } }
    : { error: message };
}

/** Reads `[[mode:x]]`, `[[delay:ms]]`, `[[chunk-delay:ms]]` and `[[split]]` from a prompt. */
function readMarkers(prompt: string): Partial<FakeBehaviour> {
  const found: Partial<FakeBehaviour> = {};
  for (const [, name, value] of prompt.matchAll(MARKER)) {
    if (name === 'mode' && FAKE_MODES.includes(value as FakeMode)) found.mode = value as FakeMode;
    else if (name === 'delay') found.delayMs = Number(value) || 0;
    else if (name === 'chunk-delay') found.chunkDelayMs = Number(value) || 0;
    else if (name === 'split') found.splitWrites = true;
  }
  return found;
}

/** Cuts bytes in two inside the first multi-byte character, or in the middle when there is none. */
function splitInsideCharacter(bytes: Buffer): Buffer[] {
  if (bytes.length < 2) return [bytes];
  // A continuation byte (10xxxxxx) is never the first byte of a character.
  let cut = bytes.findIndex((b) => (b & 0xc0) === 0x80);
  if (cut <= 0) cut = Math.floor(bytes.length / 2);
  return [bytes.subarray(0, cut), bytes.subarray(cut)];
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE });
  res.end(JSON.stringify(body));
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
