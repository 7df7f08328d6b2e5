import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMode, GARBAGE, play, readMarkers, writeSlowly, type FakeBehaviour, type FakeMode, type ScriptEntry } from './fake-llm-faults.js';
import { NDJSON, OLLAMA_VERSION, ollamaError, ollamaTags, parseOllama, renderOllama } from './fake-llm-ollama.js';
import { LoadedModels, ollamaShow } from './fake-llm-ollama-models.js';
import { OPENAI_BAD_KEY, openAiError, openAiModels, parseOpenAi, parseOpenAiCompletion, renderOpenAi, SSE } from './fake-llm-openai.js';
import { JSON_TYPE, sendJson, sendText, type Generation, type ParsedGeneration, type Protocol, type Rendered } from './fake-llm-wire.js';

/**
 * A protocol-faithful fake LLM server for tests and benchmarks. It speaks Ollama (/api/chat,
 * /api/generate, /api/embed, /api/tags, /api/show, /api/ps, /api/version) and OpenAI (/v1/chat/completions, /v1/completions, /v1/models) and answers
 * `echo(<model>): <last user message>`, streamed word by word.
 *
 * Behaviour per generation request, first match wins: a marker in the prompt (`[[mode:hang]]`,
 * `[[delay:200]]`, `[[chunk-delay:20]]`, `[[split]]`), then the next scripted entry (`script()`: a mode, or a
 * ScriptedResponse played back byte for byte), then the global behaviour (`configure()`). Listing endpoints follow
 * the global mode only. The wire formats are in fake-llm-ollama.ts and fake-llm-openai.ts, the fault modes and
 * scripted answers in fake-llm-faults.ts; this file is the server: routing, behaviour, records.
 */

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
  /** What GET /api/version says the server is. Default OLLAMA_VERSION (0.6.8). */
  ollamaVersion?: string;
  /** Which of `models` POST /api/show and GET /api/ps call embedding models (the rest are chat models). */
  embeddingModels?: string[];
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
  /** A generation request's parsed JSON body (what the client asked for, field by field). */
  body?: unknown;
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
  private readonly ollamaVersion: string;
  private readonly embeddingModels: string[];
  private readonly loaded = new LoadedModels();
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
    this.ollamaVersion = opts.ollamaVersion ?? OLLAMA_VERSION;
    this.embeddingModels = opts.embeddingModels ?? [];
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
    if (behaviour.mode !== undefined) checkMode(behaviour.mode);
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  script(entries: readonly ScriptEntry[]): void {
    for (const entry of entries) {
      if (typeof entry === 'string') checkMode(entry);
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
    this.loaded.clear();
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
    if (req.method === 'POST' && path === '/api/show') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.handleShow(Buffer.concat(chunks).toString('utf8'), record, res));
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
      const body = path === '/api/version' ? { version: this.ollamaVersion } : ollamaTags(this.models);
      sendJson(res, 200, body);
      return;
    }
    if (path === '/api/ps') {
      if (this.failInstead(mode, 'ollama-chat', false, res)) return;
      sendJson(res, 200, this.loaded.body(this.embeddingModels, Date.now()));
      return;
    }
    if (path === '/v1/models') {
      if (!this.authorised(record, res)) return;
      if (this.failInstead(mode, 'openai', false, res)) return;
      sendJson(res, 200, openAiModels(this.models));
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
    if (protocol === 'ollama-generate' && isLoadRequest(body)) {
      // server/routes.go GenerateHandler: no prompt loads the model; with keep_alive 0 it expires the runner.
      record.body = body;
      record.model = body.model;
      const unload = body.keep_alive === 0 || body.keep_alive === '0' || body.keep_alive === '0s';
      if (unload) this.loaded.unload(body.model);
      else this.loaded.used(body.model, Date.now());
      sendJson(res, 200, { model: body.model, created_at: new Date().toISOString(), response: '', done: true, done_reason: unload ? 'unload' : 'load' });
      return;
    }
    const parsed = parseGeneration(path, protocol, body);
    if (typeof parsed === 'string') {
      sendJson(res, 400, errorBody(protocol, parsed));
      return;
    }
    record.body = body;
    record.model = parsed.model;
    if (protocol !== 'openai') this.loaded.used(parsed.model, Date.now());
    record.prompt = parsed.prompt;
    record.system = parsed.system;
    record.stream = parsed.generation.stream;

    const markers = parsed.prompt.includes('[[') ? readMarkers(parsed.prompt) : undefined;
    const entry = markers?.mode ?? this.scripted.shift() ?? this.behaviour.mode;
    if (typeof entry !== 'string') {
      record.mode = 'script';
      play(entry, parsed.generation.protocol === 'openai' ? SSE : NDJSON, res, this.later);
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

  /** POST /api/show {"model"}: the model's facts, or Ollama's 404 for a model it does not have. */
  private handleShow(rawBody: string, record: FakeRequest, res: http.ServerResponse): void {
    let body: { model?: unknown; name?: unknown };
    try {
      body = JSON.parse(rawBody) as typeof body;
    } catch {
      sendJson(res, 400, ollamaError('invalid character in request body: not JSON'));
      return;
    }
    const name = typeof body.model === 'string' && body.model !== '' ? body.model : String(body.name ?? '');
    record.model = name;
    if (this.failInstead(this.behaviour.mode, 'ollama-chat', false, res)) return;
    const known = this.models.find((m) => m.replace(/:latest$/, '') === name.replace(/:latest$/, ''));
    if (known === undefined) {
      sendJson(res, 404, ollamaError(`model '${name}' not found`));
      return;
    }
    sendJson(res, 200, ollamaShow(known, this.embeddingModels.includes(known)));
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
    record.body = body;
    if (protocol !== 'openai') this.loaded.used(body.model, Date.now());
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
    sendJson(res, 401, OPENAI_BAD_KEY);
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
        res.end(GARBAGE);
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
    writeSlowly(res, pieces, behaviour, this.later);
  }

  private readonly later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  };
}

function isGenerationPath(path: string): boolean {
  return path === '/api/chat' || path === '/api/generate' || path === '/v1/chat/completions' || path === '/v1/completions';
}

/** Validates a generation request like the real servers do; returns the error text when it is invalid. */
/** An Ollama /api/generate body without a prompt: a request to load (or, keep_alive 0, unload) the model. */
function isLoadRequest(body: unknown): body is { model: string; keep_alive?: unknown } {
  if (typeof body !== 'object' || body === null) return false;
  const fields = body as Record<string, unknown>;
  return typeof fields.model === 'string' && fields.model !== '' && (fields.prompt === undefined || fields.prompt === '');
}

function parseGeneration(path: string, protocol: Protocol, body: unknown): ParsedGeneration | string {
  if (typeof body !== 'object' || body === null) return 'request body must be a JSON object';
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return 'model is required';
  if (path === '/v1/completions') return parseOpenAiCompletion(fields, fields.model);
  return protocol === 'openai' ? parseOpenAi(fields, fields.model) : parseOllama(protocol === 'ollama-chat', fields, fields.model);
}

/** Renders the deterministic echo answer in the protocol's exact wire format. */
function render(generation: Generation): Rendered {
  return generation.protocol === 'openai' ? renderOpenAi(generation) : renderOllama(generation);
}

function errorBody(protocol: Protocol, message: string): unknown {
  return protocol === 'openai' ? openAiError(message) : ollamaError(message);
}
