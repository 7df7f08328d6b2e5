/** The CLI's stderr notes about a finished task: how a cut answer is explained, and which branch holds an agent's work. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskStatus } from '../../src/client/api-types.js';
import { changesNote, truncationWarning } from '../../src/cli/format.js';

const finished = (result: Partial<NonNullable<TaskStatus['result']>>): TaskStatus =>
  ({ task_id: 't1', status: 'completed', result: { success: true, output: 'x', truncated: false, finish_reason: 'stop', usage: { prompt_tokens: null, completion_tokens: 12 }, ...result } }) as TaskStatus;

describe('CLI notes on a finished task', () => {
  it('a length cut asks for more tokens; a content filter says what stopped it', () => {
    assert.match(truncationWarning(finished({ truncated: true, finish_reason: 'length' })), /cut short \(finish reason length after 12 tokens\); ask for more with options.max_tokens/);
    const filtered = truncationWarning(finished({ truncated: true, finish_reason: 'content_filter' }));
    assert.match(filtered, /stopped by the server's content filter/);
    assert.doesNotMatch(filtered, /max_tokens/);
    assert.equal(truncationWarning(finished({})), '');
  });

  it("names the branch an agent's changes are on, with the files and lines, and how to merge it", () => {
    const changes = {
      branch: 'koubou/t1',
      base: 'abc',
      diff: '',
      diff_truncated: false,
      files: [
        { path: 'a.ts', status: 'modified' as const, additions: 3, deletions: 1 },
        { path: 'b.bin', status: 'added' as const, additions: null, deletions: null },
      ],
    };
    assert.equal(changesNote(finished({ changes })), 'koubou: 2 files changed, +3 -1 on branch koubou/t1; merge with: git merge koubou/t1\n');
    assert.equal(changesNote(finished({})), '');
  });
});
