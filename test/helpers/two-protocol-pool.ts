/** A coordinator with one backend of each protocol on one fake LLM: model oll-model on Ollama, oai-model on OpenAI. */
import { startTestCoordinator, type TestCoordinator } from './coordinator.js';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

/** Each backend's model, protocol and the path a request for it reaches on the fake. */
export const TWO_PROTOCOL_BACKENDS = [
  { model: 'oll-model', protocol: 'ollama', path: '/api/chat' },
  { model: 'oai-model', protocol: 'openai', path: '/v1/chat/completions' },
] as const;

export async function startTwoProtocolPool(): Promise<{ fake: FakeLlm; koubou: TestCoordinator; close(): Promise<void> }> {
  const fake = await startFakeLlm({ models: TWO_PROTOCOL_BACKENDS.map((b) => b.model) });
  const koubou = await startTestCoordinator({
    backends: [
      { name: 'oll', type: 'ollama', url: fake.url, model: 'oll-model' },
      { name: 'oai', type: 'openai', url: fake.url, model: 'oai-model' },
    ],
  });
  return {
    fake,
    koubou,
    async close() {
      await koubou.close();
      await fake.close();
    },
  };
}
