/** A node's outcome fits in one NATS message: the diff gives way first, then the task fails as output_too_large. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitOutcome } from '../../src/nodes/fit-outcome.js';
import type { TaskOutcome } from '../../src/tasks/task.js';

const changes = (diff: string) => ({ branch: 'koubou/t1', base: 'abc', diff, diff_truncated: false, files: [{ path: 'big.txt', status: 'added' as const, additions: 1, deletions: 0 }] });
const size = (o: TaskOutcome) => Buffer.byteLength(JSON.stringify(o));

describe('fitOutcome', () => {
  it('leaves an outcome that fits alone', () => {
    const o: TaskOutcome = { status: 'completed', output: 'ok', changes: changes('+x\n') };
    assert.deepEqual(fitOutcome(o, 64 * 1024), { outcome: o, cut: 'none' });
  });

  it('cuts a diff that escapes larger than it is (quotes, tabs, newlines, non-ASCII) to fit, never mid-character', () => {
    const diff = '+"é"\t\n'.repeat(50_000);
    const { outcome, cut } = fitOutcome({ status: 'completed', output: 'done', changes: changes(diff) }, 64 * 1024);
    assert.equal(cut, 'diff');
    assert.ok(size(outcome) <= 64 * 1024 - 4096, `${size(outcome)} bytes`);
    assert.ok(outcome.status === 'completed' && outcome.changes);
    assert.equal(outcome.changes.diff_truncated, true);
    assert.ok(diff.startsWith(outcome.changes.diff) && outcome.changes.diff.length > 10_000, `${outcome.changes.diff.length} characters kept`);
    assert.equal(outcome.changes.files.length, 1);
    assert.equal(outcome.output, 'done');
  });

  it('fails an answer that cannot fit even without its diff, saying why', () => {
    const { outcome, cut } = fitOutcome({ status: 'completed', output: 'x'.repeat(70_000), changes: changes('+y\n') }, 64 * 1024);
    assert.equal(cut, 'answer');
    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.status === 'failed' && outcome.error.code === 'output_too_large' && /70000 bytes.*max_payload is 65536/.test(outcome.error.message), JSON.stringify(outcome));
  });
});
