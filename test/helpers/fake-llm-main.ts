/**
 * Runs the fake LLM server as its own process (for benchmarks) and prints {"url": "..."} on one line.
 * Usage: node dist/test/helpers/fake-llm-main.js [--port N | N] [--mode M] [--delay MS] [--chunk-delay MS] [--record]
 */
import { parseArgs } from 'node:util';
import { FAKE_MODES, type FakeMode } from './fake-llm-faults.js';
import { startFakeLlm } from './fake-llm.js';

const { values, positionals } = parseArgs({
  options: {
    port: { type: 'string' },
    mode: { type: 'string' },
    delay: { type: 'string' },
    'chunk-delay': { type: 'string' },
    record: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const mode = values.mode ?? 'ok';
if (!FAKE_MODES.includes(mode as FakeMode)) {
  process.stderr.write(`fake-llm: unknown --mode ${JSON.stringify(mode)} (one of ${FAKE_MODES.join(', ')})\n`);
  process.exit(2);
}

const fake = await startFakeLlm({
  port: Number(values.port ?? positionals[0] ?? 0),
  mode: mode as FakeMode,
  delayMs: Number(values.delay ?? 0),
  chunkDelayMs: Number(values['chunk-delay'] ?? 0),
  // A benchmark sends far too many requests to keep records of them.
  recordRequests: values.record,
});
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);

const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
