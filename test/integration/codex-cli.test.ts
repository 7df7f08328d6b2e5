/**
 * The real Codex CLI (npm @openai/codex) as a worker through the `codex` preset, against a stand-in for the local
 * Ollama it talks to with --oss (test/helpers/fake-ollama-responses.ts, which sends Ollama's bytes). The CLI is about
 * 400 MB, so it is not a devDependency: `.ci/run` installs it into `.tools/codex`; where that folder is absent, these
 * tests are skipped and say why.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeOllamaResponses, type FakeOllamaResponses, type ModelTurn } from '../helpers/fake-ollama-responses.js';
import { git, makeRepo } from '../helpers/git-repo.js';
import { tempDir } from '../helpers/temp.js';

const CODEX = fileURLToPath(new URL('../../../.tools/codex/node_modules/.bin/codex', import.meta.url));
const MODEL = 'gpt-oss:20b';
const skip = existsSync(CODEX) ? false : 'the Codex CLI is not installed in .tools/codex (.ci/run installs it: npm install --prefix .tools/codex @openai/codex)';


/** apply_patch as gpt-oss calls it under codex 0.171: a heredoc through the exec_command tool, which codex intercepts. */
const PATCH = [
  "apply_patch <<'EOF'",
  '*** Begin Patch',
  '*** Add File: hello.txt',
  '+Hello from codex',
  '*** Update File: README.md',
  '@@',
  ' # calc',
  '+Patched by codex.',
  '*** End Patch',
  'EOF',
].join('\n');

describe('the real Codex CLI with the codex preset', { skip }, () => {
  const temp = tempDir();
  const ws = join(temp.path, 'ws');
  const repo = join(ws, 'calc');
  let model: FakeOllamaResponses;
  let coord: TestCoordinator;
  let client: ReturnType<typeof api>;
  /** The model's turns per prompt: the last user message picks the script. */
  const script = (body: Record<string, any>, turnOfTask: number): ModelTurn => {
    const prompt = JSON.stringify(body.input);
    if (prompt.includes('Add a greeting')) {
      return turnOfTask === 0
        ? { thinking: 'I will add the file with apply_patch.', call: { name: 'exec_command', arguments: { cmd: PATCH } } }
        : { thinking: 'The patch applied.', text: 'Added hello.txt and a line in README.md.' };
    }
    return { thinking: 'The user wants a greeting.', text: 'Hello <from> the stand-in & its model.' };
  };

  before(async () => {
    makeRepo(repo);
    // Codex 0.171 needs a CODEX_HOME that exists and is writable; under a temp dir it warns that it will not place its
    // helper binaries there, and goes on.
    const codexHome = join(temp.path, 'codex-home');
    mkdirSync(codexHome);
    const turns = new Map<string, number>();
    model = await startFakeOllamaResponses({
      models: [MODEL],
      turn: (body) => {
        // One codex session (prompt_cache_key) is one task: count its turns.
        const session = String(body.prompt_cache_key);
        const n = turns.get(session) ?? 0;
        turns.set(session, n + 1);
        return script(body, n);
      },
    });
    mkdirSync(join(temp.path, 'coord'));
    coord = await startTestCoordinator({
      dir: join(temp.path, 'coord'),
      backends: [
        {
          name: 'codex-local',
          type: 'command',
          model: MODEL,
          types: ['code'],
          timeout_s: 120,
          settings: {
            preset: 'codex',
            command: [CODEX],
            workspace_root: ws,
            env: { CODEX_HOME: codexHome, HOME: temp.path, CODEX_OSS_BASE_URL: `${model.url}/v1` },
          },
        },
      ],
    });
    client = api(coord.url);
  });

  after(async () => {
    await coord?.close();
    await model?.close();
    temp.remove();
  });

  it('a plain answer completes: the agent message is the output, usage comes from turn.completed', { timeout: 120_000 }, async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ type: 'code', prompt: 'Say hello', workdir: repo, sync: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const result = res.body.result;
    assert.equal(result.success, true, JSON.stringify(result));
    assert.equal(result.output, 'Hello <from> the stand-in & its model.');
    assert.equal(result.finish_reason, 'stop');
    assert.ok(result.usage.prompt_tokens > 0 && result.usage.completion_tokens > 0, JSON.stringify(result.usage));
    assert.deepEqual(result.changes.files, []);
    // What codex --oss asked the local model for, in order, and that the prompt reached it as the user's message.
    const calls = model.requests.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(calls.slice(0, 4), ['GET /v1/models', 'GET /api/version', 'GET /api/tags', 'POST /v1/responses']);
    const request = model.requests.find((r) => r.path === '/v1/responses')!.body!;
    assert.equal(request.model, MODEL);
    assert.equal(request.stream, true);
    assert.match(JSON.stringify(request.input.at(-1)), /Say hello/);
    assert.equal(git(repo, 'rev-parse', 'HEAD'), head);
    assert.equal(git(repo, 'status', '--porcelain'), '');
  });

  it('an apply_patch call lands on the task\'s branch; the checkout is untouched', { timeout: 120_000 }, async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const res = await client.delegate({ type: 'code', prompt: 'Add a greeting', workdir: repo, sync: true });
    const result = res.body.result;
    assert.equal(result?.success, true, JSON.stringify(res.body));
    assert.equal(result.output, 'Added hello.txt and a line in README.md.');
    const { changes } = result;
    assert.equal(changes.branch, `koubou/${res.body.task_id}`);
    assert.deepEqual(
      changes.files.map((f: any) => [f.path, f.status, f.additions, f.deletions]).sort(),
      [['README.md', 'modified', 1, 0], ['hello.txt', 'added', 1, 0]],
    );
    assert.equal(git(repo, 'show', `${changes.branch}:hello.txt`), 'Hello from codex');
    assert.equal(git(repo, 'log', '-1', '--format=%s', changes.branch), 'koubou: Add a greeting');
    // Codex told the model the patch worked, in the call's output.
    const followUp = model.requests.filter((r) => r.path === '/v1/responses').at(-1)!.body!;
    const output = followUp.input.find((i: any) => i.type === 'function_call_output');
    assert.match(String(output?.output), /Success\. Updated the following files/);
    assert.equal(git(repo, 'rev-parse', 'HEAD'), head);
    assert.equal(git(repo, 'status', '--porcelain'), '');
    assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), '# calc\n');
  });
});
