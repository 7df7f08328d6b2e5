import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendGate, BackendGates, type CallContext } from '../../src/supervision/backend-gate.js';
import { ManualClock } from '../helpers/manual-clock.js';

const settings = { failureThreshold: 3, probeBaseMs: 1000, probeMaxMs: 30_000 };
/** No jitter, so the waits are exact. */
const noJitter = () => 0;

function setup() {
  const clock = new ManualClock();
  const gate = new BackendGate(settings, clock, noJitter);
  const call = (inFlight: number, startedAt = clock.now()): CallContext => ({ inFlight, ceiling: 4, startedAt });
  return { clock, gate, call };
}

describe('backend gate: circuit', () => {
  it('opens after consecutive connection failures, probes once after a backoff, and closes on an answer', () => {
    const { clock, gate, call } = setup();
    const opened = clock.now();
    assert.deepEqual(gate.record({ kind: 'unreachable' }, call(1)), []);
    assert.deepEqual(gate.record({ kind: 'unreachable' }, call(1)), []);
    assert.ok(gate.admits(0), 'still closed below the threshold');
    assert.deepEqual(gate.record({ kind: 'unreachable' }, call(1)), [{ kind: 'circuit', from: 'closed', to: 'open', probeInMs: 1000 }]);
    assert.equal(gate.admits(0), false);
    assert.equal(gate.wakeAt(), opened + 1000);

    clock.advance(999);
    assert.deepEqual(gate.advance(), []);
    clock.advance(1);
    assert.deepEqual(gate.advance(), [{ kind: 'circuit', from: 'open', to: 'half_open', probeInMs: null }]);
    assert.ok(gate.admits(0), 'one probe may go');
    assert.equal(gate.admits(1), false, 'but only one');

    // The probe fails: open again, for twice as long.
    assert.deepEqual(gate.record({ kind: 'unreachable' }, call(1)), [{ kind: 'circuit', from: 'half_open', to: 'open', probeInMs: 2000 }]);
    clock.advance(2000);
    gate.advance();
    assert.equal(gate.status().circuit, 'half_open');
    assert.equal(gate.status().since, opened, 'the outage started at the first opening');
    assert.deepEqual(gate.record({ kind: 'ok' }, call(1)), [{ kind: 'circuit', from: 'half_open', to: 'closed', probeInMs: null }]);
    assert.ok(gate.admits(3));
    assert.equal(gate.status().failures, 0);
    assert.equal(gate.wakeAt(), null);
  });

  it('backs off probes exponentially up to the maximum', () => {
    const { clock, gate, call } = setup();
    for (let i = 0; i < 3; i++) gate.record({ kind: 'unreachable' }, call(1));
    const waits: (number | null)[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(gate.wakeAt()! - clock.now());
      gate.advance();
      const [change] = gate.record({ kind: 'unreachable' }, call(1));
      waits.push(change?.kind === 'circuit' ? change.probeInMs : null);
    }
    assert.deepEqual(waits, [2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('any answer from the server, even a failed one, resets the failure count', () => {
    const { gate, call } = setup();
    gate.record({ kind: 'unreachable' }, call(1));
    gate.record({ kind: 'unreachable' }, call(1));
    gate.record({ kind: 'answered' }, call(1));
    gate.record({ kind: 'unreachable' }, call(1));
    gate.record({ kind: 'unknown' }, call(1));
    gate.record({ kind: 'unreachable' }, call(1));
    assert.equal(gate.status().circuit, 'closed');
  });
});

describe('backend gate: what it says of itself', () => {
  it('a start-up check that found no server opens the circuit at once; the half-open probe decides when it is back', () => {
    const { clock, gate, call } = setup();
    assert.deepEqual(gate.markUnreachable(), [{ kind: 'circuit', from: 'closed', to: 'open', probeInMs: 1000 }]);
    assert.equal(gate.admits(0), false);
    assert.equal(gate.status().failures, 1, 'one failed connection: the check');
    assert.deepEqual(gate.markUnreachable(), [], 'already open: nothing changes');
    clock.advance(1000);
    gate.advance();
    assert.ok(gate.admits(0), 'one probe task may go');
    assert.deepEqual(gate.record({ kind: 'ok' }, call(1)), [{ kind: 'circuit', from: 'half_open', to: 'closed', probeInMs: null }]);
  });

  it('a check that found no server is out of date once a call has had an answer', () => {
    const { gate, call } = setup();
    gate.record({ kind: 'answered' }, call(1));
    assert.deepEqual(gate.markUnreachable(), []);
    assert.ok(gate.admits(0));
  });

  it('says how long it takes no call: until its pause ends or its probe falls due, whichever is later; 0 when it takes one', () => {
    const { clock, gate, call } = setup();
    assert.equal(gate.closedForMs(), 0);
    gate.record({ kind: 'busy', retryAfterMs: null }, call(1));
    assert.equal(gate.closedForMs(), 1000, 'a busy answer without Retry-After: its backoff pause');
    clock.advance(400);
    assert.equal(gate.closedForMs(), 600);
    gate.record({ kind: 'busy', retryAfterMs: 5000 }, call(1));
    assert.equal(gate.closedForMs(), 5000, 'the longer pause the server asked for');
    for (let i = 0; i < 3; i++) gate.record({ kind: 'unreachable' }, call(1));
    assert.equal(gate.status().circuit, 'open');
    assert.equal(gate.closedForMs(), 5000, 'the pause outlasts the probe wait');
    clock.advance(5000);
    gate.advance();
    assert.equal(gate.closedForMs(), 0, 'half-open: the probe may go now');
    gate.record({ kind: 'unreachable' }, call(1));
    assert.equal(gate.closedForMs(), 2000, 'open again: until the next probe');
  });
});

describe('backend gate: busy and rate limits', () => {
  it('halves the in-flight limit once per congestion episode and grows it by one per success in use', () => {
    const { clock, gate, call } = setup();
    const sent = clock.now();
    clock.advance(10);
    assert.deepEqual(gate.record({ kind: 'busy', retryAfterMs: null }, call(4, sent)), [
      { kind: 'limit', from: null, to: 2 },
      { kind: 'paused', forMs: 1000 },
    ]);
    // A second busy answer to a call sent before the decrease is the same episode.
    assert.deepEqual(gate.record({ kind: 'busy', retryAfterMs: null }, call(3, sent)), []);
    assert.equal(gate.status().limit, 2);
    assert.equal(gate.admits(0), false, 'paused');
    clock.advance(1000);
    gate.advance();
    assert.ok(gate.admits(1));
    assert.equal(gate.admits(2), false, 'at the limit');

    // A success with the limit in use: one more. One not in use: no change.
    assert.deepEqual(gate.record({ kind: 'ok' }, call(2)), [{ kind: 'limit', from: 2, to: 3 }]);
    assert.deepEqual(gate.record({ kind: 'ok' }, call(1)), []);
    // Reaching the worker count lifts the limit.
    assert.deepEqual(gate.record({ kind: 'ok' }, call(3)), [{ kind: 'limit', from: 3, to: null }]);
    assert.ok(gate.admits(10));
  });

  it('a new busy episode halves again, never below one, and pauses longer each time', () => {
    const { clock, gate, call } = setup();
    gate.record({ kind: 'busy', retryAfterMs: null }, call(2));
    clock.advance(1000);
    const changes = gate.record({ kind: 'busy', retryAfterMs: null }, call(1));
    assert.deepEqual(changes, [{ kind: 'paused', forMs: 2000 }], 'already at 1');
    assert.equal(gate.status().limit, 1);
  });

  it('a Retry-After is the pause, and the gate wakes when it ends', () => {
    const { clock, gate, call } = setup();
    const t0 = clock.now();
    gate.record({ kind: 'busy', retryAfterMs: 6000 }, call(1));
    assert.equal(gate.status().pausedUntil, t0 + 6000);
    assert.equal(gate.wakeAt(), t0 + 6000);
    clock.advance(5999);
    assert.equal(gate.admits(0), false);
    clock.advance(1);
    gate.advance();
    assert.ok(gate.admits(0));
    assert.equal(gate.status().pausedUntil, null);
  });

  it('a busy answer closes an open circuit: the server is there', () => {
    const { clock, gate, call } = setup();
    for (let i = 0; i < 3; i++) gate.record({ kind: 'unreachable' }, call(1));
    clock.advance(1000);
    gate.advance();
    const changes = gate.record({ kind: 'busy', retryAfterMs: 2000 }, call(1));
    assert.deepEqual(changes[0], { kind: 'circuit', from: 'half_open', to: 'closed', probeInMs: null });
    assert.equal(gate.status().pausedUntil, clock.now() + 2000);
  });

  it('Retry-After: 0 (or a date already past) pauses a second, not nothing', () => {
    const { clock, gate, call } = setup();
    gate.record({ kind: 'busy', retryAfterMs: 0 }, call(1));
    assert.equal(gate.status().pausedUntil, clock.now() + 1000);
    assert.equal(gate.admits(0), false);
    clock.advance(1000);
    gate.advance();
    assert.equal(gate.admits(0), true);
  });
});

describe('backend gates', () => {
  it('keeps one gate per key and reports the earliest wake-up', () => {
    const clock = new ManualClock();
    const gates = new BackendGates(settings, clock);
    assert.equal(gates.status('local:a'), null);
    const ctx = { inFlight: 1, ceiling: 1, startedAt: clock.now() };
    gates.get('local:a').record({ kind: 'busy', retryAfterMs: 5000 }, ctx);
    gates.get('local:b').record({ kind: 'busy', retryAfterMs: 2000 }, ctx);
    assert.equal(gates.wakeAt(), clock.now() + 2000);
    assert.equal(gates.get('local:a'), gates.get('local:a'));
    assert.equal(gates.status('local:a')?.pausedUntil, clock.now() + 5000);
  });
});
