/**
 * Why a pending task waits, worked out from the scheduler's lanes, pool and backend gates after a planning turn has
 * run: each code from the situation that causes it, with a real gate on a manual clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaneQueue } from '../../src/routing/lanes.js';
import { plan } from '../../src/routing/planner.js';
import type { RoutingRule } from '../../src/routing/policy.js';
import type { Group } from '../../src/routing/pool-view.js';
import { heldReason, queuedReason, type WaitingFor } from '../../src/routing/waiting.js';
import { BackendGates } from '../../src/supervision/backend-gate.js';
import type { QueuedTask, TaskType } from '../../src/tasks/task.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poolOf, type GroupSpec } from '../helpers/pool.js';

let seq = 0;
const task = (id: string, opts: { priority?: number; type?: TaskType; anyType?: boolean; model?: string; chat?: boolean; maxTokens?: number; workdir?: string } = {}): QueuedTask => ({
  id,
  seq: ++seq,
  priority: opts.priority ?? 5,
  type: opts.type ?? 'general',
  anyType: opts.anyType ?? false,
  model: opts.model ?? null,
  chat: opts.chat ?? false,
  maxTokens: opts.maxTokens ?? null,
  workdir: opts.workdir ?? null,
});

/** The scheduler's state in small: a pool, lanes, gates; `turn()` plans as the scheduler does, `why()` asks. */
function scene(specs: GroupSpec[], tasks: QueuedTask[], opts: { rules?: RoutingRule[]; speedAware?: boolean; draining?: boolean } = {}) {
  const clock = new ManualClock();
  const pool = poolOf(specs, clock.now());
  const lanes = new LaneQueue(opts.rules ?? []);
  for (const t of tasks) lanes.push(t);
  const gates = new BackendGates({ failureThreshold: 2, probeBaseMs: 1000, probeMaxMs: 8000 }, clock);
  const admits = (g: Group) => gates.get(g.key).admits(g.running.size);
  const blocked = (g: Group) => gates.get(g.key).blocked;
  const speedAware = opts.speedAware ?? true;
  return {
    clock,
    pool,
    gates,
    turn() {
      plan(lanes, pool, {
        speedAware,
        now: clock.now(),
        admits,
        blocked,
        assign: (workerId, t) => pool.assign(workerId, { taskId: t.id, lease: 'l', startedAt: clock.now() }),
      });
    },
    why(id: string): WaitingFor | null {
      const t = lanes.find(id);
      assert.ok(t, `${id} is still queued`);
      return queuedReason(t, {
        lanes,
        pool,
        rules: opts.rules ?? [],
        speedAware,
        draining: opts.draining ?? false,
        now: clock.now(),
        admits,
        blocked,
        gate: (g) => gates.status(g.key),
        backendOf: (g) => g.key,
      });
    },
  };
}

/** A call to the group's backend that found nobody there. */
const call = (inFlight: number, startedAt: number) => ({ inFlight, ceiling: 4, startedAt });

describe('why a pending task waits', () => {
  it('workers_busy: every worker that can run it is running something, with how many tasks go first', () => {
    const s = scene([{ key: 'a', workers: 1 }], [task('t1'), task('t2'), task('t3')]);
    s.turn();
    assert.deepEqual(s.why('t3'), { code: 'workers_busy', message: 'all 1 worker that can run it is busy; 1 task ahead of it' });
  });

  it('no_capable_worker: names the type no worker takes, or the max_tokens no worker allows', () => {
    const s = scene([{ key: 'a', workers: 2, caps: { types: ['code'], max_tokens: 2048 } }], [task('doc', { type: 'documentation' }), task('long', { type: 'code', maxTokens: 9000 })]);
    s.turn();
    assert.equal(s.why('doc')!.code, 'no_capable_worker');
    assert.match(s.why('doc')!.message, /type documentation/);
    assert.equal(s.why('long')!.code, 'no_capable_worker');
    assert.match(s.why('long')!.message, /max_tokens 9000 \(largest allowed: 2048\)/);
    const workdir = scene([{ key: 'a', workers: 1 }], [task('agent', { workdir: '/work/calc' })]);
    assert.equal(workdir.why('agent')!.code, 'no_capable_worker');
    assert.match(workdir.why('agent')!.message, /names a workdir/);
    const empty = scene([], [task('x')]);
    assert.deepEqual(empty.why('x'), { code: 'no_capable_worker', message: 'no worker is in the pool' });
  });

  it('no_capable_worker: a gateway request names the model no worker serves, or the type no worker serving it takes', () => {
    const s = scene(
      [{ key: 'a', workers: 1, model: 'llama' }, { key: 'coder', workers: 1, model: 'qwen', caps: { types: ['code'] } }],
      [task('away', { model: 'on-node', chat: true }), task('typed', { type: 'documentation', model: 'qwen', chat: true })],
    );
    s.turn();
    assert.equal(s.why('away')!.code, 'no_capable_worker');
    assert.match(s.why('away')!.message, /no worker in the pool serves the model on-node: it waits for one \(a koubou-node serving it may be away/);
    assert.equal(s.why('typed')!.message, 'no worker serving the model qwen takes tasks of type documentation');
  });

  it('routing_rule: no worker of the preferred side without fallback, or all of them busy while others idle', () => {
    const noFallback: RoutingRule[] = [{ min_priority: 8, max_priority: 10, prefer: 'remote', fallback: false }];
    const s = scene([{ key: 'here', workers: 2 }], [task('urgent', { priority: 9 })], { rules: noFallback });
    s.turn();
    const why = s.why('urgent')!;
    assert.equal(why.code, 'routing_rule');
    assert.match(why.message, /routing rule 1 \(priority 8-10 prefers remote workers, no fallback\): no remote worker/);

    const preferLocal: RoutingRule[] = [{ min_priority: 1, max_priority: 10, prefer: 'local', fallback: true }];
    const busy = scene([{ key: 'here', workers: 1 }, { key: 'lan', workers: 2, location: 'remote' }], [task('first'), task('second')], { rules: preferLocal });
    busy.turn();
    assert.equal(busy.why('second')!.code, 'routing_rule');
    assert.match(busy.why('second')!.message, /all 1 of them are busy while 2 other workers are idle/);
  });

  it('faster_worker: a slow idle group leaves the task to a faster group that reaches it sooner', () => {
    const s = scene([{ key: 'fast', workers: 1, runMs: 100 }, { key: 'slow', workers: 1, runMs: 800 }], [task('t1'), task('t2')]);
    s.turn();
    const why = s.why('t2')!;
    assert.equal(why.code, 'faster_worker');
    assert.match(why.message, /fast.*slow/);
    const plain = scene([{ key: 'fast', workers: 1, runMs: 100 }, { key: 'slow', workers: 1, runMs: 800 }], [task('t1'), task('t2'), task('t3')], { speedAware: false });
    plain.turn();
    assert.equal(plain.why('t3')!.code, 'workers_busy', 'without speed-aware routing nothing is held for speed');
  });

  it('circuit_open: the idle workers\' backend is not answering; says when the next probe goes', () => {
    const s = scene([{ key: 'a', workers: 2 }], [task('t1')]);
    s.gates.get('a').record({ kind: 'unreachable' }, call(1, s.clock.now()));
    s.gates.get('a').record({ kind: 'unreachable' }, call(1, s.clock.now()));
    s.turn();
    const why = s.why('t1')!;
    assert.equal(why.code, 'circuit_open');
    assert.match(why.message, /backend a is not answering \(2 failed connections\): its circuit is open; next probe in [12] s/);
    s.clock.advance(10_000);
    s.gates.advance();
    s.pool.assign('a#0', { taskId: 'probe', lease: 'p', startedAt: s.clock.now() });
    assert.match(s.why('t1')!.message, /half-open/);
  });

  it('retry_after and backend_busy: a pause the server asked for, our own backoff, and a full in-flight limit', () => {
    const asked = scene([{ key: 'a', workers: 2 }], [task('t1')]);
    asked.gates.get('a').record({ kind: 'busy', retryAfterMs: 30_000 }, call(1, asked.clock.now()));
    asked.turn();
    assert.deepEqual(asked.why('t1'), { code: 'retry_after', message: 'backend a asked for a pause (Retry-After): no new requests for 30 s' });

    const backoff = scene([{ key: 'a', workers: 2 }], [task('t1')]);
    backoff.gates.get('a').record({ kind: 'busy', retryAfterMs: null }, call(1, backoff.clock.now()));
    backoff.turn();
    assert.equal(backoff.why('t1')!.code, 'backend_busy');
    assert.match(backoff.why('t1')!.message, /no new requests for/);

    // Limit 1 of 4 after a busy answer; once the pause is over one call goes and the next task waits for the limit.
    const limited = scene([{ key: 'a', workers: 4 }], [task('t1'), task('t2')]);
    limited.gates.get('a').record({ kind: 'busy', retryAfterMs: 1000 }, call(2, limited.clock.now()));
    limited.clock.advance(1001);
    limited.turn();
    assert.equal(limited.why('t2')!.code, 'backend_busy');
    assert.match(limited.why('t2')!.message, /in-flight limit \(1 of 4 workers\) is in use/);
  });

  it('draining, and null for a task nothing holds', () => {
    assert.equal(scene([{ key: 'a', workers: 1 }], [task('t1')], { draining: true }).why('t1')!.code, 'draining');
    // Not planned yet: an idle worker that may take it is there, so nothing holds it.
    assert.equal(scene([{ key: 'a', workers: 1 }], [task('t1')]).why('t1'), null);
  });

  it('a held task: its Retry-After wait, or its retry backoff, with the time left', () => {
    const t = task('t1');
    assert.deepEqual(heldReason({ task: t, until: 12_500, why: { kind: 'retry_after', backend: 'ollama', error: 'backend_busy' } }, 1_000), {
      code: 'retry_after',
      message: 'backend ollama pushed back (backend_busy) and asked to be retried later (Retry-After): runs again in 12 s',
    });
    assert.deepEqual(heldReason({ task: t, until: 4_000, why: { kind: 'retry_backoff', backend: 'ollama', error: 'backend_error' } }, 1_000), {
      code: 'retry_backoff',
      message: 'its last attempt failed (backend_error): the next attempt is in 3 s',
    });
  });
});
