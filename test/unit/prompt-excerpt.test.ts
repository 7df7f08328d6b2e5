import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROMPT_EXCERPT_CHARS, promptExcerpt } from '../../src/delegation/view.js';

describe('prompt excerpts for listings', () => {
  it('are one line: line breaks, tabs and runs of spaces collapse to one space, ends trimmed', () => {
    assert.equal(promptExcerpt('  Write tests\n\nfor the\tparser  \n'), 'Write tests for the parser');
  });

  it('are cut to PROMPT_EXCERPT_CHARS characters with an ellipsis, short prompts kept whole', () => {
    const long = 'x'.repeat(PROMPT_EXCERPT_CHARS + 1);
    assert.equal(promptExcerpt(long), `${'x'.repeat(PROMPT_EXCERPT_CHARS)}…`);
    assert.equal(promptExcerpt('x'.repeat(PROMPT_EXCERPT_CHARS)), 'x'.repeat(PROMPT_EXCERPT_CHARS));
  });
});
