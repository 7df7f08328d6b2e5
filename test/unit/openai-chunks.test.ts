/**
 * The streamed chat.completion.chunk events are written piece by piece from a kept head (openai-chat.ts); these tests
 * hold them to the bytes JSON.stringify gives for the whole chunk object, key order included, whatever the delta.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAiChatStream } from '../../src/gateway/openai-chat.js';
import type { ChatDelta } from '../../src/tasks/chat.js';

const META = { id: 'chatcmpl-01abc', created: 1_764_547_200, model: 'gpt-oss:20b' };

/** The events of an SSE text, each `data:` value as sent. */
function events(text: string): string[] {
  assert.ok(text.endsWith('\n\n'), 'every event ends with a blank line');
  return text.split('\n\n').slice(0, -1).map((e) => {
    assert.ok(e.startsWith('data: '), e);
    return e.slice('data: '.length);
  });
}

/** What the chunk is, written whole by JSON.stringify in the API's key order. */
function reference(chunk: Record<string, unknown>, includeUsage: boolean): string {
  const { id, object, created, model, system_fingerprint, choices } = chunk;
  return JSON.stringify({ id, object, created, model, system_fingerprint, choices, ...(includeUsage ? { usage: null } : {}) });
}

describe('streamed chat completion chunks', () => {
  for (const includeUsage of [false, true]) {
    it(`are the bytes of the whole chunk object (include_usage ${includeUsage})`, () => {
      const stream = new OpenAiChatStream(META, includeUsage);
      const deltas: ChatDelta[] = [
        { content: 'こんにちは "quoted" \\ back\nslash \u2028' },
        { reasoning: 'thinking…', systemFingerprint: 'fp_1' },
        { content: 'x', logprobs: { content: [{ token: 'x', logprob: -0.1, bytes: [120], top_logprobs: [] }] } },
        { toolCalls: [{ index: 0, id: 'call_1', name: 'get_weather', arguments: '{"ci' }] },
        { toolCalls: [{ index: 0, arguments: 'ty":"Tokyo"}' }] },
        { content: 'after a fingerprint change', systemFingerprint: 'fp_2' },
      ];
      const sent = deltas.flatMap((d) => events(stream.delta(d)));
      sent.push(...events(stream.finish({ finishReason: 'stop', model: 'gpt-oss:20b-served', usage: { promptTokens: 3, completionTokens: 9 } })));
      assert.equal(sent.at(-1), '[DONE]');
      const chunks = sent.slice(0, -1);
      assert.ok(chunks.length >= deltas.length + 2, `${chunks.length} chunks`);
      for (const bytes of chunks) {
        const chunk = JSON.parse(bytes) as Record<string, unknown>;
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0) continue; // the usage chunk, written whole
        assert.equal(bytes, reference(chunk, includeUsage));
      }
      const models = chunks.map((b) => (JSON.parse(b) as { model: string }).model);
      assert.deepEqual([...new Set(models)], ['gpt-oss:20b'], 'every chunk, the closing and usage ones too, names the model as asked');
      const fingerprints = chunks.map((b) => (JSON.parse(b) as { system_fingerprint: string | null }).system_fingerprint);
      // The role chunk and the first content chunk go out before the server names a fingerprint.
      assert.deepEqual(fingerprints.slice(0, 4), [null, null, 'fp_1', 'fp_1']);
      assert.ok(fingerprints.includes('fp_2'));
    });
  }
});
