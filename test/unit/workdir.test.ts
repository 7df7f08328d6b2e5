/** Whether a workdir is under a workspace root: `..` as a path segment leaves it, a name that starts with dots does not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUnder } from '../../src/backends/command/workdir.js';

describe('isUnder', () => {
  it('takes the root itself and what is below it, including names that start with two dots', () => {
    assert.equal(isUnder('/ws', '/ws'), true);
    assert.equal(isUnder('/ws', '/ws/repo/src'), true);
    assert.equal(isUnder('/ws', '/ws/..data'), true);
    assert.equal(isUnder('/ws', '/ws/...'), true);
  });

  it('refuses the parent, siblings and everything outside', () => {
    assert.equal(isUnder('/ws', '/'), false);
    assert.equal(isUnder('/ws', '/ws-other'), false);
    assert.equal(isUnder('/ws', '/other/ws'), false);
    assert.equal(isUnder('/ws/repo', '/ws'), false);
  });
});
