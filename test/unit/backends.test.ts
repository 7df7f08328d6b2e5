import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createBackend, type Backend, type BackendSettings, type BackendType } from '../../src/backends/index.js';
import { LineSplitter } from '../../src/backends/lines.js';
import { readSseEvents } from '../../src/backends/sse.js';
import { normaliseFinishReason, utf8Prefix } from '../../src/backends/answer.js';
import { AnswerTruncated, OutputTooLarge } from '../../src/backends/answer-errors.js';
import {
  Aborted,
  BackendHttpError,
  BackendProtocolError,
  BackendReportedError,
  BackendUnavailable,
  ConfigError,
} from '../../src/errors.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm, type FakeRequest } from '../helpers/fake-llm.js';
import { closedPort } from '../helpers/ports.js';

/** How long after abort() a call may take to reject and still count as prompt. */
const PROMPT_MS = 500;

let fake: FakeLlm;
const opened: Backend[] = [];

before(async () => {
  fake = await startFakeLlm();
});

after(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

function backend(type: BackendType, overrides: Partial<BackendSettings> = {}): Backend {
  const b = createBackend({ name: `test-${type}`, type, url: fake.url, model: 'fake-model', ...overrides });
  opened.push(b);
  return b;
}


/** A one-off server writing a fixed raw body, for wire shapes the fake does not produce. */
async function serveRaw(contentType: string, body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function findRequest(marker: string): FakeRequest | undefined {
  return fake.requests.find((r) => r.prompt?.includes(marker));
}

async function rejectsWith<T extends Error>(promise: Promise<unknown>, kind: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${kind.name}, but the call succeeded`);
}

for (const type of ['ollama', 'openai'] as const) {
  describe(`${type} backend against the fake`, () => {
    it('streams the answer in order through onChunk', async () => {
      const chunks: string[] = [];
      const result = await backend(type).generate({
        prompt: 'hello there world',
        signal: new AbortController().signal,
        onChunk: (text) => chunks.push(text),
      });
      assert.equal(result.output, 'echo(fake-model): hello there world');
      assert.deepEqual(chunks, ['echo(fake-model): ', 'hello ', 'there ', 'world']);
      assert.equal(result.model, 'fake-model');
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.truncated, false);
      assert.equal(result.usage.completionTokens, 4);
      assert.equal(typeof result.usage.promptTokens, 'number');
      assert.equal(fake.requests[0]?.stream, true);
    });

    it('reads a non-streaming answer', async () => {
      const chunks: string[] = [];
      const result = await backend(type, { stream: false }).generate({
        prompt: 'one shot',
        signal: new AbortController().signal,
        onChunk: (text) => chunks.push(text),
      });
      assert.equal(result.output, 'echo(fake-model): one shot');
      assert.deepEqual(chunks, ['echo(fake-model): one shot'], 'the whole answer is one piece');
      assert.equal(result.usage.completionTokens, 3);
      assert.equal(result.finishReason, 'stop');
      assert.equal(fake.requests[0]?.stream, false);
    });

    it("uses the request's model over the default and sends the system prompt", async () => {
      const result = await backend(type).generate({
        prompt: 'hi',
        system: 'be brief',
        model: 'other-model',
        signal: new AbortController().signal,
      });
      assert.equal(result.output, 'echo(other-model): hi');
      assert.equal(result.model, 'other-model');
      assert.equal(fake.requests[0]?.model, 'other-model');
      assert.equal(fake.requests[0]?.system, 'be brief');
    });

    it('keeps multi-byte UTF-8 characters cut across chunks intact', async () => {
      const prompt = '工房 で 🏯🎉 naïve [[split]]';
      for (const stream of [true, false]) {
        const chunks: string[] = [];
        const result = await backend(type, { stream }).generate({
          prompt,
          signal: new AbortController().signal,
          onChunk: (text) => chunks.push(text),
        });
        assert.equal(result.output, `echo(fake-model): ${prompt}`);
        if (stream) assert.equal(chunks.join(''), result.output);
      }
    });

    it('turns HTTP 500 into a retryable BackendHttpError with a body excerpt', async () => {
      fake.configure({ mode: 'error500' });
      const err = await rejectsWith(
        backend(type).generate({ prompt: 'x', signal: new AbortController().signal }),
        BackendHttpError,
      );
      assert.equal(err.httpStatus, 500);
      assert.equal(err.retryable, true);
      assert.match(err.message, /500/);
      assert.match(err.message, /internal server error/);
    });

    it('turns HTTP 400 into a BackendHttpError that is not retryable', async () => {
      const err = await rejectsWith(
        backend(type).generate({ prompt: 'x [[mode:error400]]', signal: new AbortController().signal }),
        BackendHttpError,
      );
      assert.equal(err.httpStatus, 400);
      assert.equal(err.retryable, false);
    });

    it('follows a scripted sequence of failures', async () => {
      fake.script(['error500', 'error500', 'ok']);
      const b = backend(type);
      const call = () => b.generate({ prompt: 'again', signal: new AbortController().signal });
      await rejectsWith(call(), BackendHttpError);
      await rejectsWith(call(), BackendHttpError);
      assert.equal((await call()).output, 'echo(fake-model): again');
      assert.deepEqual(
        fake.requests.map((r) => r.mode),
        ['error500', 'error500', 'ok'],
      );
    });

    it('rejects a body that is not the protocol with BackendProtocolError', async () => {
      fake.configure({ mode: 'garbage' });
      for (const stream of [true, false]) {
        const err = await rejectsWith(
          backend(type, { stream }).generate({ prompt: 'x', signal: new AbortController().signal }),
          BackendProtocolError,
        );
        assert.equal(err.retryable, true);
      }
    });

    it('rejects a truncated answer with BackendProtocolError', async () => {
      fake.configure({ mode: 'truncate' });
      const streamed = await rejectsWith(
        backend(type).generate({ prompt: 'a b c d e f', signal: new AbortController().signal }),
        BackendProtocolError,
      );
      assert.match(streamed.message, type === 'ollama' ? /done/ : /\[DONE\]/);
      await rejectsWith(
        backend(type, { stream: false }).generate({ prompt: 'a b c d e f', signal: new AbortController().signal }),
        BackendProtocolError,
      );
    });

    it('reports a closed port as BackendUnavailable and probes false', async () => {
      const b = backend(type, { url: `http://127.0.0.1:${await closedPort()}` });
      const err = await rejectsWith(
        b.generate({ prompt: 'x', signal: new AbortController().signal }),
        BackendUnavailable,
      );
      assert.equal(err.retryable, true);
      assert.ok(err.cause !== undefined);
      assert.equal(await b.probe(), false);
    });

    for (const stream of [true, false]) {
      it(`cancels a hanging ${stream ? 'stream' : 'request'} promptly on abort`, async () => {
        const controller = new AbortController();
        const chunks: string[] = [];
        const marker = `hang-${type}-${stream}`;
        const pending = backend(type, { stream }).generate({
          prompt: `${marker} [[mode:hang]]`,
          signal: controller.signal,
          onChunk: (text) => chunks.push(text),
        });
        pending.catch(() => undefined);
        // Abort only once the request is really underway (mid-body when streaming).
        await eventually(() => findRequest(marker) !== undefined && (!stream || chunks.length > 0)).catch((err) => {
          controller.abort();
          throw err;
        });
        const reason = new Error('stop now');
        const abortedAt = Date.now();
        controller.abort(reason);
        await assert.rejects(pending, (err) => err === reason);
        assert.ok(Date.now() - abortedAt < PROMPT_MS, 'the call rejected promptly');
        await eventually(() => findRequest(marker)?.aborted === true);
        assert.equal(findRequest(marker)?.finished, false);
      });
    }

    it('wraps a non-Error abort reason in Aborted', async () => {
      const controller = new AbortController();
      const pending = backend(type).generate({ prompt: 'wait [[mode:hang]]', signal: controller.signal });
      pending.catch(() => undefined);
      await eventually(() => findRequest('wait') !== undefined).catch((err) => {
        controller.abort();
        throw err;
      });
      controller.abort('client cancelled');
      const err = await rejectsWith(pending, Aborted);
      assert.match(err.message, /client cancelled/);
    });

    it('rejects at once when the signal is already aborted', async () => {
      const reason = new Error('too late');
      await assert.rejects(backend(type).generate({ prompt: 'x', signal: AbortSignal.abort(reason) }), (err) => err === reason);
    });

    it('probes true when the server lists its models, false when it fails or hangs', async () => {
      const b = backend(type);
      assert.equal(await b.probe(), true);
      fake.configure({ mode: 'error500' });
      assert.equal(await b.probe(), false);
      fake.configure({ mode: 'hang' });
      const started = Date.now();
      assert.equal(await b.probe(AbortSignal.timeout(50)), false);
      assert.ok(Date.now() - started < PROMPT_MS);
    });

    it('reuses keep-alive connections across calls, errors included', async () => {
      const b = backend(type);
      for (let i = 0; i < 5; i++) {
        await b.generate({ prompt: `call ${i}`, signal: new AbortController().signal });
        await rejectsWith(b.generate({ prompt: '[[mode:error500]]', signal: new AbortController().signal }), BackendHttpError);
        assert.equal(await b.probe(), true);
      }
      // undici frees a socket a tick after the body ends, so a call made at once may open a second one;
      // a body left unconsumed would cost one connection per call instead.
      assert.ok(fake.connectionCount <= 2, `${fake.connectionCount} connections for 15 calls`);
    });

    it('rejects calls still in flight when closed, instead of waiting for them', async () => {
      const b = backend(type);
      const pending = b.generate({ prompt: 'closing [[mode:hang]]', signal: new AbortController().signal });
      pending.catch(() => undefined);
      await eventually(() => findRequest('closing') !== undefined);
      await b.close();
      await rejectsWith(pending, BackendUnavailable);
      await eventually(() => findRequest('closing')?.aborted === true);
    });
  });
}

describe('ollama specifics', () => {
  it('uses /api/generate when endpoint is "generate"', async () => {
    for (const stream of [true, false]) {
      const chunks: string[] = [];
      const result = await backend('ollama', { endpoint: 'generate', stream }).generate({
        prompt: 'make it',
        system: 'sys',
        signal: new AbortController().signal,
        onChunk: (text) => chunks.push(text),
      });
      assert.equal(result.output, 'echo(fake-model): make it');
      if (stream) assert.deepEqual(chunks, ['echo(fake-model): ', 'make ', 'it']);
    }
    assert.deepEqual(
      fake.requests.map((r) => [r.path, r.system]),
      [
        ['/api/generate', 'sys'],
        ['/api/generate', 'sys'],
      ],
    );
  });

  it('turns an {"error"} line in the stream into a retryable BackendReportedError with its text', async () => {
    const server = await serveRaw(
      'application/x-ndjson',
      '{"model":"m","message":{"role":"assistant","content":"par"},"done":false}\n{"error":"model runner crashed"}\n',
    );
    const b = createBackend({ name: 'raw', type: 'ollama', url: server.url, model: 'm' });
    try {
      const err = await rejectsWith(b.generate({ prompt: 'x', signal: new AbortController().signal }), BackendReportedError);
      assert.match(err.message, /model runner crashed/);
      assert.equal(err.retryable, true, 'no code says the request was at fault');
    } finally {
      await b.close();
      await server.close();
    }
  });
});

describe('openai specifics', () => {
  it('sends requests to <base>/v1/chat/completions whether or not the URL ends in /v1', async () => {
    for (const url of [fake.url, `${fake.url}/`, `${fake.url}/v1`, `${fake.url}/v1/`]) {
      const b = backend('openai', { url });
      await b.generate({ prompt: 'x', signal: new AbortController().signal });
      assert.equal(await b.probe(), true);
    }
    assert.deepEqual(
      [...new Set(fake.requests.map((r) => r.path))].sort(),
      ['/v1/chat/completions', '/v1/models'],
    );
  });

  it('sends the api key as a bearer token', async () => {
    const locked = await startFakeLlm({ apiKey: 'sk-test' });
    const withKey = createBackend({ name: 'k', type: 'openai', url: locked.url, model: 'm', api_key: 'sk-test' });
    const withoutKey = createBackend({ name: 'n', type: 'openai', url: locked.url, model: 'm' });
    try {
      assert.equal((await withKey.generate({ prompt: 'x', signal: new AbortController().signal })).output, 'echo(m): x');
      assert.equal(await withKey.probe(), true);
      const err = await rejectsWith(
        withoutKey.generate({ prompt: 'x', signal: new AbortController().signal }),
        BackendHttpError,
      );
      assert.equal(err.httpStatus, 401);
      assert.equal(err.retryable, false);
      assert.equal(await withoutKey.probe(), false);
      assert.equal(locked.requests[0]?.authorization, 'Bearer sk-test');
    } finally {
      await Promise.all([withKey.close(), withoutKey.close()]);
      await locked.close();
    }
  });

  it('turns an error object in a 200 body into BackendReportedError with its message', async () => {
    const bodies: Array<[string, string, boolean]> = [
      ['application/json', '{"error":{"message":"context length exceeded","type":"invalid_request_error"}}', false],
      ['text/event-stream', 'data: {"error":{"message":"context length exceeded"}}\n\n', true],
    ];
    for (const [contentType, body, stream] of bodies) {
      const server = await serveRaw(contentType, body);
      const b = createBackend({ name: 'raw', type: 'openai', url: server.url, model: 'm', stream });
      try {
        const err = await rejectsWith(b.generate({ prompt: 'x', signal: new AbortController().signal }), BackendReportedError);
        assert.match(err.message, /context length exceeded/);
      } finally {
        await b.close();
        await server.close();
      }
    }
  });

  it('accepts a stream that has a finish_reason but no [DONE]', async () => {
    const server = await serveRaw(
      'text/event-stream',
      ': keep-alive comment\n\nid: 1\ndata: {"choices":[{"index":0,"delta":{"content":"fine"},"finish_reason":null}]}\n\n' +
        'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n',
    );
    const b = createBackend({ name: 'raw', type: 'openai', url: server.url, model: 'm' });
    try {
      const result = await b.generate({ prompt: 'x', signal: new AbortController().signal });
      assert.deepEqual(result, {
        output: 'fine',
        model: 'm',
        finishReason: 'stop',
        truncated: false,
        usage: { promptTokens: 3, completionTokens: 1, reasoningTokens: null },
      });
    } finally {
      await b.close();
      await server.close();
    }
  });
});

describe('createBackend', () => {
  it('rejects a URL that is not http(s)', () => {
    assert.throws(() => createBackend({ name: 'bad', type: 'ollama', url: 'ftp://x', model: 'm' }), ConfigError);
    assert.throws(() => createBackend({ name: 'bad', type: 'openai', url: 'not a url', model: 'm' }), ConfigError);
  });

  it('rejects an unknown type', () => {
    const settings = { name: 'bad', type: 'nope', url: 'http://127.0.0.1:1', model: 'm' } as unknown as BackendSettings;
    assert.throws(() => createBackend(settings), ConfigError);
  });
});

describe('stream framing', () => {
  const text = 'first line 工房\r\nsecond 🏯 line\n\nlast without newline é';
  const bytes = Buffer.from(text, 'utf8');

  it('LineSplitter gives the same lines wherever the bytes are cut', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2 += 3) {
        const splitter = new LineSplitter();
        const lines = [
          ...splitter.push(bytes.subarray(0, cut)),
          ...splitter.push(bytes.subarray(cut, cut2)),
          ...splitter.push(bytes.subarray(cut2)),
          ...splitter.end(),
        ];
        assert.deepEqual(lines, ['first line 工房', 'second 🏯 line', '', 'last without newline é'], `cuts at ${cut}, ${cut2}`);
      }
    }
  });

  it('readSseEvents joins data lines and skips comments and other fields', async () => {
    async function* lines(): AsyncGenerator<string> {
      yield* [': comment', 'event: delta', 'id: 7', 'data: one', 'data:two', '', 'retry: 10', '', 'data: [DONE]'];
    }
    const events = [];
    for await (const event of readSseEvents(lines())) events.push(event);
    assert.deepEqual(events, [
      { event: 'delta', data: 'one\ntwo' },
      { event: 'message', data: '[DONE]' },
    ]);
  });
});

describe('eventually', () => {
  it('names the condition when it times out', async () => {
    await assert.rejects(eventually(() => false, 30, 5), /condition still false after 30 ms/);
  });
});

describe('answer judgement', () => {
  it('normalises the finish reasons servers send', () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'stop'], ['stop', 'stop'], ['eos_token', 'stop'], ['length', 'length'], ['MAX_TOKENS', 'length'],
      ['tool_calls', 'tool_calls'], ['content_filter', 'content_filter'], ['abort', 'error'], ['error', 'error'], ['load', 'stop'],
    ];
    for (const [raw, expected] of cases) assert.equal(normaliseFinishReason(raw), expected, String(raw));
  });

  it('cuts text to a byte budget without splitting a character', () => {
    assert.equal(utf8Prefix('ab工房', 4), 'ab');
    assert.equal(utf8Prefix('ab工房', 5), 'ab工');
    assert.equal(utf8Prefix('🏯x', 3), '');
    assert.equal(utf8Prefix('short', 99), 'short');
  });

  it('a non-streamed reasoning-only answer cut on length (content null) fails with AnswerTruncated', async () => {
    const body = {
      id: 'c', object: 'chat.completion', created: 1, model: 'served',
      choices: [{ index: 0, message: { role: 'assistant', content: null, reasoning_content: 'thinking…' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 5, completion_tokens: 16, total_tokens: 21, completion_tokens_details: { reasoning_tokens: 16 } },
    };
    const server = await serveRaw('application/json', JSON.stringify(body));
    const b = createBackend({ name: 'raw', type: 'openai', url: server.url, model: 'm', stream: false });
    try {
      const err = await rejectsWith(b.generate({ prompt: 'x', signal: new AbortController().signal, keepReasoning: true }), AnswerTruncated);
      assert.equal(err.retryable, false);
      assert.match(err.message, /budget \(16 tokens\) went on reasoning/);
      assert.deepEqual(err.answer, {
        finishReason: 'length', truncated: true, model: 'served',
        usage: { promptTokens: 5, completionTokens: 16, reasoningTokens: 16 }, reasoning: 'thinking…',
      });
    } finally {
      await b.close();
      await server.close();
    }
  });

  it('a non-streamed body past the cap is refused with OutputTooLarge', async () => {
    const answer = 'y'.repeat(4096);
    const body = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] };
    const server = await serveRaw('application/json', JSON.stringify(body));
    const b = createBackend({ name: 'raw', type: 'openai', url: server.url, model: 'm', stream: false });
    try {
      const err = await rejectsWith(b.generate({ prompt: 'x', signal: new AbortController().signal, maxOutputBytes: 1024 }), OutputTooLarge);
      assert.equal(err.partialOutput, 'y'.repeat(1024), 'the first bytes are kept');
      assert.equal(err.retryable, false);
    } finally {
      await b.close();
      await server.close();
    }
  });

  it('reads a 4xx code from an error inside the answer as permanent, anything else as retryable', async () => {
    for (const [body, retryable] of [
      ['error: {"code":400,"message":"too long","type":"exceed_context_size_error"}\n\ndata: [DONE]\n\n', false],
      ['error: {"code":500,"message":"Context size has been exceeded.","type":"server_error"}\n\n', true],
      ['event: error\ndata: {"error":{"message":"overloaded","code":"429"}}\n\n', true],
      ['data: {"error":{"message":"bad param","type":"invalid_request_error","code":422}}\n\n', false],
    ] as const) {
      const server = await serveRaw('text/event-stream', body);
      const b = createBackend({ name: 'raw', type: 'openai', url: server.url, model: 'm' });
      try {
        const err = await rejectsWith(b.generate({ prompt: 'x', signal: new AbortController().signal }), BackendReportedError);
        assert.equal(err.retryable, retryable, body);
      } finally {
        await b.close();
        await server.close();
      }
    }
  });
});
