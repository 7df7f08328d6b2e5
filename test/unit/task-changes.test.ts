/** A node's `outcome.changes` is checked field by field; a malformed one is refused naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.js';
import { parseTaskChanges } from '../../src/tasks/changes.js';

const good = { branch: 'koubou/t1', base: 'abc', diff: '+x\n', diff_truncated: false, files: [{ path: 'a.txt', status: 'renamed', from: 'b.txt', additions: 1, deletions: null }] };

describe('parseTaskChanges', () => {
  it('keeps a well-formed value and nothing else', () => {
    assert.deepEqual(parseTaskChanges({ ...good, extra: 1 }, 'outcome.changes'), good);
    assert.equal(parseTaskChanges(undefined, 'outcome.changes'), null);
  });

  it('names the field that is wrong', () => {
    const cases: [unknown, string][] = [
      ['a diff', 'outcome.changes'],
      [{ ...good, branch: 7 }, 'outcome.changes.branch'],
      [{ ...good, files: 'a.txt' }, 'outcome.changes.files'],
      [{ ...good, files: [{ path: 'a.txt', status: 'exploded' }] }, 'outcome.changes.files[0]'],
    ];
    for (const [value, field] of cases) {
      assert.throws(() => parseTaskChanges(value, 'outcome.changes'), (err: unknown) => err instanceof ValidationError && err.field === field, field);
    }
  });
});
