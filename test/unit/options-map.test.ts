/** Ollama options → OpenAI request fields: whole-number options arrive whole, as Ollama itself reads them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ollamaToOpenAiOptions } from '../../src/backends/chat/options-map.js';

describe('ollamaToOpenAiOptions', () => {
  it('truncates num_predict and seed as Ollama does, and treats what is not a positive count as no limit', () => {
    assert.deepEqual(ollamaToOpenAiOptions({ options: { num_predict: 1.5, seed: 3.7, temperature: 0.5 } }), { max_tokens: 1, seed: 3, temperature: 0.5 });
    for (const none of [0.5, 0, -1, -2]) assert.equal(ollamaToOpenAiOptions({ options: { num_predict: none } }).max_tokens, undefined, String(none));
    assert.equal(ollamaToOpenAiOptions({ options: { num_predict: 1e300 } }).max_tokens, 2 ** 31 - 1);
  });
});
