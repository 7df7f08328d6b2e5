import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaneQueue } from '../../src/routing/lanes.js';
import { plan } from '../../src/routing/planner.js';
import type { RoutingRule } from '../../src/routing/policy.js';
import { NODE_RETURN_MS, type PoolView } from '../../src/routing/pool-view.js';
import { poolOf as poolFrom, type GroupSpec } from '../helpers/pool.js';
import { capabilities } from '../../src/routing/capabilities.js';
import type { QueuedTask, TaskType } from '../../src/tasks/task.js';

const NOW = 1_000_000;
let seq = 0;

function task(id: string, opts: { priority?: number; type?: TaskType; anyType?: boolean; model?: string; chat?: boolean; maxTokens?: number } = {}): QueuedTask {
  const { anyType = false, chat = false } = opts;
  return { id, seq: ++seq, priority: opts.priority ?? 5, type: opts.type ?? 'general', anyType, model: opts.model ?? null, chat, maxTokens: opts.maxTokens ?? null, workdir: null };
}

/** A pool of idle workers in the given groups. */
const poolOf = (...specs: GroupSpec[]): PoolView => poolFrom(specs);

/** A backend's gate as the planner sees it: blocked outright, or at most `limit` in flight. */
type Gate = { blocked?: boolean; limit?: number };

/** Runs one planning turn; returns task id → the group of the worker that took it. */
function turn(pool: PoolView, lanes: LaneQueue, speedAware = true, now = NOW, gates: Record<string, Gate> = {}): Map<string, string> {
  const taken = new Map<string, string>();
  plan(lanes, pool, {
    speedAware,
    now,
    admits: (g) => !gates[g.key]?.blocked && g.running.size < (gates[g.key]?.limit ?? Infinity),
    blocked: (g) => gates[g.key]?.blocked === true,
    assign(workerId, t) {
      pool.assign(workerId, { taskId: t.id, lease: 'l', startedAt: now });
      taken.set(t.id, workerId.split('#')[0]!);
    },
  });
  return taken;
}

function queue(tasks: QueuedTask[], rules: RoutingRule[] = []): LaneQueue {
  const lanes = new LaneQueue(rules);
  for (const t of tasks) lanes.push(t);
  return lanes;
}

describe('planner: measured speed', () => {
  it('gives the most urgent tasks to the fast group and leaves a slow one idle when the fast ones finish sooner', () => {
    const pool = poolOf({ key: 'fast', workers: 2, runMs: 100 }, { key: 'slow', workers: 1, runMs: 800 });
    const lanes = queue([task('a', { priority: 9 }), task('b'), task('c')]);
    const taken = turn(pool, lanes);
    assert.deepEqual([...taken], [['a', 'fast'], ['b', 'fast']]);
    // Two fast workers finish c long before 800 ms: the slow worker waits.
    assert.equal(lanes.size, 1);
    assert.equal(pool.groups.get('slow')!.idle.size, 1);
  });

  it('lets the slow group take the least urgent task when the backlog is deeper than the fast ones can reach', () => {
    const pool = poolOf({ key: 'fast', workers: 2, runMs: 100 }, { key: 'slow', workers: 1, runMs: 800 });
    const tasks = Array.from({ length: 40 }, (_, i) => task(`t${i}`, { priority: i === 39 ? 1 : 5 }));
    const lanes = queue(tasks);
    const taken = turn(pool, lanes);
    assert.equal(taken.get('t0'), 'fast');
    assert.equal(taken.get('t1'), 'fast');
    // The lowest-priority task, not the head, goes to the slow worker.
    assert.equal(taken.get('t39'), 'slow');
    assert.equal(taken.size, 3);
  });

  it('never gives a lone high-priority task to a slow idle worker while a fast one will free up sooner', () => {
    const pool = poolOf({ key: 'fast', workers: 1, runMs: 100 }, { key: 'slow', workers: 1, runMs: 800 });
    pool.assign('fast#0', { taskId: 'x', lease: 'l', startedAt: NOW - 50 });
    const lanes = queue([task('urgent', { priority: 10 })]);
    assert.equal(turn(pool, lanes).size, 0);
    pool.release('fast#0', NOW + 50, true);
    assert.deepEqual([...turn(pool, lanes, true, NOW + 50)], [['urgent', 'fast']]);
  });

  it('treats groups within 25% of each other as equally fast', () => {
    const pool = poolOf({ key: 'a', workers: 1, runMs: 100 }, { key: 'b', workers: 1, runMs: 120 });
    const taken = turn(pool, queue([task('1'), task('2')]));
    assert.deepEqual([...taken.values()].sort(), ['a', 'b']);
  });

  it('without speed awareness hands the head to whichever capable worker is idle', () => {
    const pool = poolOf({ key: 'slow', workers: 1, runMs: 800 }, { key: 'fast', workers: 1, runMs: 100 });
    const taken = turn(pool, queue([task('1'), task('2')]), false);
    assert.deepEqual([...taken], [['1', 'slow'], ['2', 'fast']]);
  });
});

describe('planner: capabilities', () => {
  it('sends a task only to groups that take its type, without blocking the tasks behind it', () => {
    const pool = poolOf({ key: 'coder', workers: 1, caps: { types: ['code'] } });
    const lanes = queue([task('translate', { type: 'translation', priority: 9 }), task('code', { type: 'code' })]);
    assert.deepEqual([...turn(pool, lanes)], [['code', 'coder']]);
    assert.equal(lanes.size, 1);
  });

  it('prefers workers serving the requested model, and asks any worker when none does', () => {
    const pool = poolOf({ key: 'small', workers: 1, model: 'small' }, { key: 'big', workers: 1, model: 'big' });
    assert.deepEqual([...turn(pool, queue([task('1', { model: 'big' })]))], [['1', 'big']]);
    const other = poolOf({ key: 'small', workers: 1, model: 'small' });
    assert.deepEqual([...turn(other, queue([task('2', { model: 'unknown' })]))], [['2', 'small']]);
  });

  it('waits for a local backend serving the requested model that has no worker yet, rather than asking another', () => {
    const pool = poolFrom([{ key: 'small', workers: 1, model: 'small' }], 0, [capabilities('big', {})]);
    const lanes = queue([task('1', { model: 'big' })]);
    assert.equal(turn(pool, lanes).size, 0);
    assert.equal(lanes.find('1')?.id, '1');
  });

  it("waits NODE_RETURN_MS for a node that left with the requested model, rather than asking a backend that lacks it; then asks any", () => {
    const pool = poolOf({ key: 'local', workers: 1, model: 'small' }, { key: 'remote:n1:gpu', workers: 1, model: 'big', location: 'remote' });
    pool.remove('remote:n1:gpu#0', NOW);
    const lanes = queue([task('1', { model: 'big' })]);
    assert.equal(turn(pool, lanes).size, 0, 'the node may be restarting: its model is waited for');
    assert.deepEqual(pool.expireAway(NOW + NODE_RETURN_MS - 1), []);
    assert.equal(turn(pool, lanes).size, 0);
    assert.deepEqual(pool.expireAway(NOW + NODE_RETURN_MS), ['remote:n1:gpu']);
    assert.deepEqual([...turn(pool, lanes)], [['1', 'local']]);
    // A node that comes back within the time is no longer waited for: it is there.
    const back = poolOf({ key: 'local', workers: 1, model: 'small' }, { key: 'remote:n1:gpu', workers: 1, model: 'big', location: 'remote' });
    back.remove('remote:n1:gpu#0', NOW);
    back.add({ ...back.handle('local#0')!, id: 'remote:n1:gpu#0', group: 'remote:n1:gpu', location: 'remote', backend: 'remote:n1:gpu', model: 'big', caps: capabilities('big', {}) }, NOW);
    assert.deepEqual(back.expireAway(NOW + NODE_RETURN_MS), [], 'nothing left to wait for');
    assert.deepEqual([...turn(back, queue([task('2', { model: 'big' })]))], [['2', 'remote:n1:gpu']]);
  });

  it('runs a gateway request only on workers serving its model, m and m:latest alike, and else keeps it waiting', () => {
    const pool = poolOf({ key: 'other', workers: 1, model: 'llama' }, { key: 'qwen', workers: 1, model: 'qwen-oai' });
    assert.deepEqual([...turn(pool, queue([task('1', { model: 'qwen-oai:latest', chat: true })]))], [['1', 'qwen']]);
    const withoutIt = poolOf({ key: 'other', workers: 1, model: 'llama' });
    const lanes = queue([task('2', { model: 'qwen-oai', chat: true }), task('3', { model: 'llama:latest', chat: true })]);
    assert.deepEqual([...turn(withoutIt, lanes)], [['3', 'other']], 'the one it serves runs; the other waits');
    assert.equal(lanes.find('2')?.id, '2');
  });

  it("runs a task that named no type on a worker serving its model whatever types the worker takes", () => {
    const pool = poolOf({ key: 'coder', workers: 1, model: 'qwen', caps: { types: ['code'] } });
    assert.equal(turn(pool, queue([task('typed', { model: 'qwen', chat: true })])).size, 0, 'general is not a type it takes');
    assert.deepEqual([...turn(pool, queue([task('any', { model: 'qwen', chat: true, anyType: true })]))], [['any', 'coder']]);
  });

  it('keeps tasks wanting long answers off workers with a lower token limit', () => {
    const pool = poolOf({ key: 'short', workers: 1, caps: { max_tokens: 1000 } }, { key: 'long', workers: 1, caps: { max_tokens: 32000 } });
    pool.assign('long#0', { taskId: 'x', lease: 'l', startedAt: NOW });
    const lanes = queue([task('big', { maxTokens: 4000 }), task('small', { maxTokens: 500 })]);
    assert.deepEqual([...turn(pool, lanes)], [['small', 'short']]);
    assert.equal(lanes.find('big')?.id, 'big');
  });
});

describe('planner: backend gates', () => {
  it('gives a blocked backend nothing; its tasks go to another backend serving the model', () => {
    const pool = poolOf({ key: 'down', workers: 2, runMs: 100 }, { key: 'up', workers: 2, runMs: 1000 });
    const taken = turn(pool, queue([task('a'), task('b'), task('c')]), true, NOW, { down: { blocked: true } });
    assert.deepEqual([...taken.values()], ['up', 'up'], 'the slow backend is not held back by a fast one that takes nothing');
  });

  it('keeps the calls in flight to a backend under its limit, idle workers or not', () => {
    const pool = poolOf({ key: 'busy', workers: 4 });
    const taken = turn(pool, queue([task('a'), task('b'), task('c'), task('d')]), true, NOW, { busy: { limit: 2 } });
    assert.equal(taken.size, 2);
    assert.equal(pool.groups.get('busy')!.idle.size, 2);
  });
});

describe('planner: routing rules', () => {
  const rules: RoutingRule[] = [
    { min_priority: 8, max_priority: 10, prefer: 'local', fallback: true },
    { min_priority: 1, max_priority: 3, prefer: 'remote', fallback: false },
  ];

  it('keeps high priority on local workers and low priority on remote ones', () => {
    const pool = poolOf({ key: 'here', workers: 1 }, { key: 'lan', workers: 1, location: 'remote' });
    const taken = turn(pool, queue([task('high', { priority: 9 }), task('low', { priority: 2 })], rules));
    assert.deepEqual(Object.fromEntries(taken), { high: 'here', low: 'lan' });
  });

  it('waits for the preferred side while it has workers, even busy ones', () => {
    const pool = poolOf({ key: 'here', workers: 1 }, { key: 'lan', workers: 1, location: 'remote' });
    pool.assign('here#0', { taskId: 'x', lease: 'l', startedAt: NOW });
    assert.equal(turn(pool, queue([task('high', { priority: 9 })], rules)).size, 0);
  });

  it('falls back when the preferred side has no workers, unless the rule says not to', () => {
    const remoteOnly = poolOf({ key: 'lan', workers: 1, location: 'remote' });
    assert.deepEqual([...turn(remoteOnly, queue([task('high', { priority: 9 })], rules))], [['high', 'lan']]);
    const localOnly = poolOf({ key: 'here', workers: 1 });
    const lanes = queue([task('low', { priority: 2 }), task('mid', { priority: 5 })], rules);
    assert.deepEqual([...turn(localOnly, lanes)], [['mid', 'here']]);
    assert.equal(lanes.size, 1);
  });
});
