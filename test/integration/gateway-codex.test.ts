/**
 * The real Codex CLI (npm @openai/codex) on the whole pool: `codex exec --oss --local-provider ollama` pointed at the
 * coordinator's Ollama-compatible listener (gateway.ollama_listen) takes it for a local Ollama (GET /v1/models,
 * GET /api/version, GET /api/tags, then a streamed POST /v1/responses), and its question is answered through a task
 * by a stand-in LLM server of either protocol; a tool call the model makes is run by codex and its output comes back
 * to the model as a tool message, the reasoning before the call as that turn's reasoning. The CLI is about 400 MB, so it is not a devDependency: `.ci/run`
 * installs it into `.tools/codex`; where that folder is absent, these tests are skipped and say why.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { tempDir } from '../helpers/temp.js';

const CODEX = fileURLToPath(new URL('../../../.tools/codex/node_modules/.bin/codex', import.meta.url));
const skip = existsSync(CODEX) ? false : 'the Codex CLI is not installed in .tools/codex (.ci/run installs it: npm install --prefix .tools/codex @openai/codex)';

/** One model per backend protocol, both on one stand-in server. */
const BACKENDS = [
  { model: 'gpt-oss:20b', protocol: 'openai', path: '/v1/chat/completions' },
  { model: 'qwen3:8b', protocol: 'ollama', path: '/api/chat' },
] as const;

describe('the real Codex CLI through the gateway\'s Ollama-compatible listener', { skip }, () => {
  const temp = tempDir();
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let ollamaUrl: string;

  before(async () => {
    fake = await startFakeLlm({ models: BACKENDS.map((b) => b.model) });
    koubou = await startTestCoordinator({
      backends: BACKENDS.map((b) => ({ name: b.protocol, type: b.protocol, url: fake.url, model: b.model })),
      // The stand-in Ollama says it is 0.6.8, older than Codex accepts; the gateway reports the configured version.
      extra: { gateway: { ollama_listen: '127.0.0.1:0', ollama_version: '0.13.5' } },
    });
    ollamaUrl = koubou.coordinator.ollamaHttp!.url;
  });

  after(async () => {
    await koubou?.close();
    await fake?.close();
    temp.remove();
  });

  /** Runs `codex exec` on `model` through the listener in a home of its own; its JSONL events. */
  async function codex(name: string, model: string, prompt: string): Promise<{ type: string; item?: { type: string; text?: string; aggregated_output?: string } }[]> {
    const home = join(temp.path, name);
    const work = join(home, 'work');
    mkdirSync(join(home, 'codex-home'), { recursive: true });
    mkdirSync(work);
    const run = promisify(execFile)(
      CODEX,
      ['exec', '--json', '--oss', '--local-provider', 'ollama', '-m', model, '--cd', work, '--sandbox', 'read-only', '--skip-git-repo-check', '--', prompt],
      // Only what codex needs: no key or token of this process's environment reaches it.
      { env: { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: join(home, 'codex-home'), CODEX_OSS_BASE_URL: `${ollamaUrl}/v1` }, timeout: 110_000 },
    );
    // codex exec reads more of the prompt from a stdin that is not a terminal: there is none.
    run.child.stdin?.end();
    const { stdout } = await run;
    return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  }

  for (const b of BACKENDS) {
    it(`answers a plain question on an ${b.protocol} backend, as a task`, { timeout: 120_000 }, async () => {
      fake.reset();
      const events = await codex(b.protocol, b.model, 'Say hello');
      const said = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message').map((e) => e.item!.text);
      assert.deepEqual(said, [`echo(${b.model}): Say hello`], JSON.stringify(events));
      assert.ok(events.some((e) => e.type === 'turn.completed'), JSON.stringify(events));
      // The question reached the backend through the pool, translated to its protocol.
      const asked = fake.requests.filter((r) => r.method === 'POST');
      assert.deepEqual(asked.map((r) => r.path), [b.path]);
      assert.equal(asked[0]!.prompt, 'Say hello');
      const tasks = (await (await fetch(`${koubou.url}/tasks?limit=5`)).json()) as { tasks: { status: string; prompt_excerpt: string }[] };
      assert.ok(tasks.tasks.some((t) => t.status === 'completed' && t.prompt_excerpt === 'Say hello'), JSON.stringify(tasks));
    });
  }

  it('runs a tool the model calls and sends its output back as the next request\'s tool message', { timeout: 120_000 }, async () => {
    fake.reset();
    // The model (an OpenAI server) first calls codex's exec_command tool, then answers as usual.
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: 'gpt-oss:20b', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const args = JSON.stringify({ cmd: 'echo from-the-pool' });
    fake.script([
      {
        chunks: [
          chunk({ role: 'assistant', content: null }, null),
          chunk({ reasoning_content: 'I should run it.' }, null),
          chunk({ tool_calls: [{ index: 0, id: 'call_pool1', type: 'function', function: { name: 'exec_command', arguments: args.slice(0, 9) } }] }, null),
          chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(9) } }] }, null),
          chunk({}, 'tool_calls'),
          'data: [DONE]\n\n',
        ],
      },
    ]);
    const events = await codex('tool', 'gpt-oss:20b', 'Run a command');
    const ran = events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    assert.match(String(ran?.item?.aggregated_output), /from-the-pool/, JSON.stringify(events));
    const said = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message').map((e) => e.item!.text);
    assert.deepEqual(said, ['echo(gpt-oss:20b): Run a command']);
    const asked = fake.requests.filter((r) => r.method === 'POST');
    assert.equal(asked.length, 2);
    const first = asked[0]!.body as { tools: { function: { name: string } }[] };
    assert.ok(first.tools.some((t) => t.function.name === 'exec_command'), 'codex\'s function tools reach the backend as chat tools');
    const messages = (asked[1]!.body as { messages: { role: string; content: unknown; reasoning?: string; tool_calls?: unknown[]; tool_call_id?: string }[] }).messages;
    const call = messages.find((m) => m.tool_calls);
    assert.deepEqual(call?.tool_calls, [{ id: 'call_pool1', type: 'function', function: { name: 'exec_command', arguments: args } }]);
    // codex sent the reasoning item back, and the model sees it as that turn's reasoning, not as its text.
    assert.equal(call?.reasoning, 'I should run it.');
    assert.ok(!JSON.stringify(messages.map((m) => m.content)).includes('I should run it.'));
    const output = messages.find((m) => m.role === 'tool');
    assert.equal(output?.tool_call_id, 'call_pool1');
    assert.match(String(output?.content), /from-the-pool/);
  });
});
