/** Preset parsers fed the real CLIs' bytes (codex exec --json, gemini stream-json), junk included; argv building; routing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codexParser } from '../../src/backends/command/codex-events.js';
import { childEnv } from '../../src/backends/command/env.js';
import { geminiParser } from '../../src/backends/command/gemini-events.js';
import { preset } from '../../src/backends/command/presets.js';
import { accepts, capabilities } from '../../src/routing/capabilities.js';

function feed(parser: ReturnType<typeof codexParser>, lines: string[]) {
  for (const l of lines) parser.line(l);
  return parser.answer();
}

describe('codex exec --json', () => {
  it('streams agent messages as they grow, answers with the last one, reads usage, skips junk and unknown events', () => {
    const chunks: string[] = [];
    const answer = feed(codexParser((c) => chunks.push(c)), [
      '{"type":"thread.started","thread_id":"019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"}',
      'WARNING: proceeding, even though we could not update PATH',
      '{"type":"turn.started"}',
      '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"**Providing simple answer**"}}',
      '{"type":"item.started","item":{"id":"item_1","type":"agent_message","text":"Fir"}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"First"}}',
      '{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"ls","aggregated_output":"a\\n","exit_code":0,"status":"completed"}}',
      '{"type":"brand.new","x":1}',
      '{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"4"}}',
      '{"type":"turn.completed","usage":{"input_tokens":2946,"cached_input_tokens":0,"output_tokens":7}}',
      '{not json',
    ]);
    assert.deepEqual(answer, { output: '4', promptTokens: 2946, completionTokens: 7, failure: undefined });
    assert.equal(chunks.join(''), 'First\n\n4');
  });

  it('turn.failed and error events become the failure', () => {
    assert.equal(feed(codexParser(() => {}), ['{"type":"turn.failed","error":{"message":"model not found"}}']).failure, 'model not found');
    assert.equal(feed(codexParser(() => {}), ['{"type":"error","message":"stream disconnected"}']).failure, 'stream disconnected');
  });

  it('warnings of a turn that completes are not a failure, even with no message (codex 0.171 with a local model)', () => {
    const answer = feed(codexParser(() => {}), [
      '{"type":"thread.started","thread_id":"01a22d72-5166-7e42-bebe-259d5def7dc4"}',
      '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-oss:20b` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}',
      '{"type":"turn.started"}',
      '{"type":"error","message":"Reconnecting... 1/5 (stream disconnected before completion: error sending request for url (http://127.0.0.1:11434/v1/responses))"}',
      '{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/w/hello.txt","kind":"add"}],"status":"completed"}}',
      '{"type":"turn.completed","usage":{"input_tokens":20638,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":16,"reasoning_output_tokens":0}}',
    ]);
    assert.deepEqual(answer, { output: '', promptTokens: 20638, completionTokens: 16, failure: undefined });
  });

  it('a run that ends after retries without a turn.completed fails with the last error', () => {
    const answer = feed(codexParser(() => {}), [
      '{"type":"turn.started"}',
      '{"type":"error","message":"Reconnecting... 5/5 (unexpected status 404 Not Found: 404 page not found, url: http://127.0.0.1:42245/v1/responses)"}',
      '{"type":"error","message":"unexpected status 404 Not Found: 404 page not found, url: http://127.0.0.1:42245/v1/responses"}',
    ]);
    assert.match(answer.failure ?? '', /^unexpected status 404/);
  });
});

describe('gemini stream-json', () => {
  it('answers with the assistant text after the last tool call, reads stats, ignores user messages and warnings', () => {
    const chunks: string[] = [];
    const answer = feed(geminiParser((c) => chunks.push(c)), [
      '{"type":"init","timestamp":"2025-10-10T12:00:00.000Z","session_id":"abc123","model":"gemini-2.5-flash"}',
      'Loaded cached credentials.',
      '{"type":"message","role":"user","content":"hi","timestamp":"2025-10-10T12:00:00.000Z"}',
      '{"type":"message","role":"assistant","content":"Checking.","delta":true}',
      '{"type":"tool_use","tool_name":"list_directory","tool_id":"t1","parameters":{"path":"."}}',
      '{"type":"tool_result","tool_id":"t1","status":"success","output":"a"}',
      '{"type":"error","severity":"warning","message":"loop detected"}',
      '{"type":"message","role":"assistant","content":"Here ","delta":true}',
      '{"type":"message","role":"assistant","content":"it is.","delta":true}',
      '{"type":"result","status":"success","stats":{"total_tokens":30,"input_tokens":20,"output_tokens":10,"duration_ms":5,"tool_calls":1}}',
    ]);
    assert.deepEqual(answer, { output: 'Here it is.', promptTokens: 20, completionTokens: 10, failure: undefined });
    assert.equal(chunks.join(''), 'Checking.\n\nHere it is.');
  });

  it('a result with status error is the failure', () => {
    const answer = feed(geminiParser(() => {}), ['{"type":"result","status":"error","error":{"type":"FatalTurnLimitedError","message":"turn limit"},"stats":{}}']);
    assert.equal(answer.failure, 'turn limit');
  });
});

describe('argv per preset', () => {
  const input = { command: null, prompt: '--help', model: 'gpt-oss:20b', workdir: '/w' };
  it('keeps the prompt one element where no CLI can read it as a flag', () => {
    assert.deepEqual(preset('codex').invocation(input).argv.slice(-2), ['--', '--help']);
    assert.equal(preset('gemini').invocation(input).argv.at(-1), '--prompt=--help');
    assert.equal(preset('aider').invocation(input).argv.at(-1), '--message=--help');
  });
  it('generic replaces placeholders only as whole elements, and uses stdin without {prompt}', () => {
    const g = preset('generic');
    assert.deepEqual(g.invocation({ ...input, command: ['run', '{model}', 'x{prompt}', '{prompt}'] }), { argv: ['run', 'gpt-oss:20b', 'x{prompt}', '--help'], stdin: null });
    assert.deepEqual(g.invocation({ ...input, command: ['run'] }), { argv: ['run'], stdin: '--help' });
  });
});

describe('child environment', () => {
  it('passes the allowlist and drops Koubou names and secret values, whole or within a longer value', () => {
    const token = 'kb-3f9a7c51e2';
    const env = childEnv({
      inherited: { PATH: '/bin', HOME: '/h', LC_ALL: 'C', SECRET_THING: 's', KOUBOU_API_TOKEN: token, NATS_CREDS: 'c', CODEX_HOME: '/c', COPY: token, HEADER: `Bearer ${token}` },
      presetNames: ['CODEX_HOME'],
      passNames: ['COPY', 'HEADER'],
      set: { EXTRA: '1', HOOK_URL: `http://127.0.0.1:8765/?token=${token}` },
      secrets: [token],
    });
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h', LC_ALL: 'C', CODEX_HOME: '/c', EXTRA: '1' });
  });
});

describe('routing', () => {
  const req = { type: 'code' as const, model: null, chat: false, maxTokens: null };
  it('a task naming a workdir goes only to command backends whose workspace_root holds it', () => {
    const agent = capabilities('m', { type: 'command', command: { workspace_root: '/work' } });
    assert.equal(accepts(capabilities('m', { type: 'ollama' }), { ...req, workdir: '/work/calc' }), false);
    assert.equal(accepts(agent, { ...req, workdir: '/work/calc' }), true);
    assert.equal(accepts(agent, { ...req, workdir: '/elsewhere/calc' }), false);
    assert.equal(accepts(capabilities('m', { type: 'command' }), { ...req, workdir: '/work/calc' }), false, 'no workspace_root: scratch runs only');
    // A koubou-node's announced roots.
    assert.equal(accepts(capabilities('m', { type: 'command', workspace_roots: ['/srv/ws'] }), { ...req, workdir: '/srv/ws/calc' }), true);
    assert.equal(accepts(capabilities('m', { type: 'ollama' }), { ...req, workdir: null }), true);
  });
});
