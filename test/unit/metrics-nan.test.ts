/** A figure with no samples yet is written as the exposition format spells it, so strict scrapers take the page. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spellNaN } from '../../src/metrics/metrics.js';
import { parsePrometheus } from '../helpers/prometheus.js';

describe('spellNaN', () => {
  it("turns prom-client's `Nan` into `NaN` and leaves every other value and name alone", () => {
    const page = ['# HELP koubou_nodejs_eventloop_lag_mean_seconds Mean', 'koubou_nodejs_eventloop_lag_mean_seconds Nan', 'koubou_Nan_like 1', 'x{a="Nan"} 2', ''].join('\n');
    const fixed = spellNaN(page);
    assert.equal(fixed, page.replace('seconds Nan', 'seconds NaN'));
    const samples = parsePrometheus(fixed);
    assert.ok(Number.isNaN(samples[0]!.value));
    assert.deepEqual(samples.slice(1).map((s) => s.value), [1, 2]);
  });
});
