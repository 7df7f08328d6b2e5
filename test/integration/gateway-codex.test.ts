/**
 * The real Codex CLI (npm @openai/codex) on the whole pool: `codex exec --oss --local-provider ollama` pointed at the
 * coordinator's Ollama-compatible listener (gateway.ollama_listen) takes it for a local Ollama (GET /v1/models,
 * GET /api/version, GET /api/tags, then a streamed POST /v1/responses), and its question is answered through a task
 * by a stand-in LLM server of either protocol. The CLI is about 400 MB, so it is not a devDependency: `.ci/run`
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

  for (const b of BACKENDS) {
    it(`answers a plain question on an ${b.protocol} backend, as a task`, { timeout: 120_000 }, async () => {
      const home = join(temp.path, b.protocol);
      const work = join(home, 'work');
      mkdirSync(join(home, 'codex-home'), { recursive: true });
      mkdirSync(work);
      fake.reset();
      const run = promisify(execFile)(
        CODEX,
        ['exec', '--json', '--oss', '--local-provider', 'ollama', '-m', b.model, '--cd', work, '--sandbox', 'read-only', '--skip-git-repo-check', '--', 'Say hello'],
        // Only what codex needs: no key or token of this process's environment reaches it.
        { env: { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: join(home, 'codex-home'), CODEX_OSS_BASE_URL: `${ollamaUrl}/v1` }, timeout: 110_000 },
      );
      // codex exec reads more of the prompt from a stdin that is not a terminal: there is none.
      run.child.stdin?.end();
      const { stdout } = await run;
      const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; item?: { type: string; text?: string } });
      const said = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message').map((e) => e.item!.text);
      assert.deepEqual(said, [`echo(${b.model}): Say hello`], stdout);
      assert.ok(events.some((e) => e.type === 'turn.completed'), stdout);
      // The question reached the backend through the pool, translated to its protocol.
      const asked = fake.requests.filter((r) => r.method === 'POST');
      assert.deepEqual(asked.map((r) => r.path), [b.path]);
      assert.equal(asked[0]!.prompt, 'Say hello');
      const tasks = (await (await fetch(`${koubou.url}/tasks?limit=5`)).json()) as { tasks: { status: string; prompt_excerpt: string }[] };
      assert.ok(tasks.tasks.some((t) => t.status === 'completed' && t.prompt_excerpt === 'Say hello'), JSON.stringify(tasks));
    });
  }
});
