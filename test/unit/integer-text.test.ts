import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decimalInteger, integerInRange } from '../../src/integer-text.js';

describe('whole numbers sent as text', () => {
  it('takes decimal digits only, with an optional minus', () => {
    assert.equal(decimalInteger('7'), 7);
    assert.equal(decimalInteger('007'), 7);
    assert.equal(decimalInteger('-3'), -3);
    for (const text of ['1e1', '0x9', '0b1', '0o7', '1.0', '+5', ' 5', '5 ', '', '-', 'Infinity', '1_000', '１']) assert.equal(decimalInteger(text), null, JSON.stringify(text));
  });

  it('keeps to the range, both ends included', () => {
    assert.equal(integerInRange('1', 1, 10), 1);
    assert.equal(integerInRange('10', 1, 10), 10);
    assert.equal(integerInRange('0', 1, 10), null);
    assert.equal(integerInRange('11', 1, 10), null);
    assert.equal(integerInRange('1e1', 1, 10), null);
  });
});
