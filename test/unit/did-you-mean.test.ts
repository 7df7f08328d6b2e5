/** "did you mean …?": near misspellings and unique abbreviations are suggested; far guesses are not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest } from '../../src/did-you-mean.js';

const FLAGS = ['port', 'priority', 'prompt', 'concurrency', 'config', 'type'];

describe('closest', () => {
  it('suggests the nearest name within a few edits', () => {
    assert.equal(closest('prot', FLAGS), 'port');
    assert.equal(closest('concurency', FLAGS), 'concurrency');
  });

  it('suggests the one name an abbreviation starts', () => {
    assert.equal(closest('prio', FLAGS), 'priority');
    assert.equal(closest('concur', FLAGS), 'concurrency');
  });

  it('guesses nothing for an ambiguous abbreviation, a too-short one, or a far word', () => {
    assert.equal(closest('con', FLAGS), null);
    assert.equal(closest('pr', FLAGS), null);
    assert.equal(closest('elephant', FLAGS), null);
  });
});
