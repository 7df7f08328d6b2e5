/** Which of several Ollama versions /api/version reports: the oldest that says which release it is, ordered as semver. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oldestRelease } from '../../src/gateway/release-order.js';

describe('oldestRelease', () => {
  it('orders as semver: numbers as numbers, a pre-release before its release, build metadata ignored', () => {
    assert.equal(oldestRelease(['0.13.10', '0.13.9', '0.14.0']), '0.13.9');
    assert.equal(oldestRelease(['0.14.0', '0.14.0-rc1']), '0.14.0-rc1');
    assert.equal(oldestRelease(['0.14.0-rc.10', '0.14.0-rc.9']), '0.14.0-rc.9');
    assert.equal(oldestRelease(['0.14.0-rc.1', '0.14.0-1']), '0.14.0-1');
    assert.equal(oldestRelease(['0.14.0-rc', '0.14.0-rc.1']), '0.14.0-rc');
    assert.equal(oldestRelease(['1.0.0+build.5', '1.0.1']), '1.0.0+build.5');
    assert.equal(oldestRelease(['v0.12.0', '0.13.0']), '0.12.0');
  });

  it('leaves out versions that say nothing: a source build\'s 0.0.0 and text that is not a version', () => {
    assert.equal(oldestRelease(['0.0.0', '0.13.5', 'unknown', '', '0.13']), '0.13.5');
    assert.equal(oldestRelease(['0.0.0', 'dev']), null);
    assert.equal(oldestRelease([]), null);
    assert.equal(oldestRelease(['0.0.0-rc1', '0.13.5']), '0.0.0-rc1');
  });
});
