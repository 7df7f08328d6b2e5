/**
 * The submission schema: MCP's flat arguments and REST's body are one submission; every refusal names its field by
 * its path, the way REST reports it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.js';
import { DELEGATE_ARGS, delegateBody } from '../../src/mcp/api.js';
import { delegateBodySchema, fieldName, OPTION_FIELDS } from '../../src/tasks/submission-schema.js';
import { parseDelegateInput } from '../../src/tasks/validate.js';

function refusal(body: unknown): { message: string; field: string | undefined } {
  try {
    parseDelegateInput(body);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return { message: err.message, field: err.field };
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('the submission schema', () => {
  it("MCP's flat arguments make the same submission as the REST body with options", () => {
    const mcp = { prompt: 'p', type: 'code' as const, priority: 7, files: ['a.ts'], model: 'm', timeout: 30, max_tokens: 100, include_reasoning: true, idempotency_key: 'k' };
    const rest = { prompt: 'p', type: 'code', priority: 7, files: ['a.ts'], options: { model: 'm', timeout: 30, max_tokens: 100, include_reasoning: true }, idempotency_key: 'k' };
    assert.deepEqual(delegateBody(mcp), rest);
    assert.deepEqual(parseDelegateInput(delegateBody(mcp)), parseDelegateInput(rest));
    assert.deepEqual(delegateBody({ prompt: 'p' }), { prompt: 'p' });
  });

  it('MCP takes every field of a submission but sync and task_type, and every option', () => {
    const rest = Object.keys(delegateBodySchema.shape).filter((k) => k !== 'options' && k !== 'sync' && k !== 'task_type');
    assert.deepEqual(Object.keys(DELEGATE_ARGS).sort(), [...rest, ...Object.keys(OPTION_FIELDS)].sort());
  });

  it('refuses a model that would read as a flag when passed to an agent CLI', () => {
    const r = refusal({ prompt: 'p', options: { model: '--yolo' } });
    assert.equal(r.field, 'options.model');
    assert.match(r.message, /starts with "-"/);
    assert.equal(parseDelegateInput({ prompt: 'p', options: { model: 'qwen2.5-coder:7b' } }).options.model, 'qwen2.5-coder:7b');
  });

  it('names fields by their path', () => {
    assert.equal(fieldName(['options', 'timeout']), 'options.timeout');
    assert.equal(fieldName(['files', 2]), 'files[2]');
    assert.equal(fieldName([]), '');
    assert.deepEqual(refusal({ prompt: 'x', files: ['ok', ''] }), { message: 'files[1] must be a non-empty path, got the string ""', field: 'files[1]' });
    assert.deepEqual(refusal({ prompt: 'x', options: { timeout: 0 } }), { message: 'options.timeout must be a number of seconds above 0 and at most 86400, got number 0', field: 'options.timeout' });
    assert.deepEqual(refusal({}), { message: 'prompt is required', field: 'prompt' });
    assert.deepEqual(refusal([]), { message: 'the request body must be a JSON object, got an array', field: undefined });
  });

  it('refuses unknown fields at every depth, after the known ones are checked', () => {
    assert.deepEqual(refusal({ prompt: 'x', prority: 1 }), { message: 'unknown field "prority"; did you mean "priority"?', field: 'prority' });
    assert.deepEqual(refusal({ prompt: 'x', options: { timout: 1 } }), { message: 'unknown field "options.timout"; did you mean "options.timeout"?', field: 'options.timout' });
    assert.equal(refusal({ prompt: 'x', prority: 1, priority: 11 }).field, 'priority');
    assert.match(refusal({ prompt: 'x', a: 1, b: 2 }).message, /unknown field "a".*; unknown field "b"/);
  });

  it('takes the original system’s task_type, and refuses it disagreeing with type', () => {
    assert.equal(parseDelegateInput({ prompt: 'x', task_type: 'code' }).type, 'code');
    assert.deepEqual(refusal({ prompt: 'x', type: 'code', task_type: 'analysis' }), { message: 'type and task_type disagree; send one of them', field: 'type' });
  });
});
