/** The valve between a gateway client and the call producing its answer (src/tasks/flow.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TaskFlows } from '../../src/tasks/flow.js';

/** A call's body as the valve sees it: how often it was paused and resumed. */
function body() {
  const seen: string[] = [];
  return { seen, target: { pause: () => seen.push('pause'), resume: () => seen.push('resume') } };
}

describe('task flows', () => {
  it('pauses and resumes the call that follows a valve, once per change', () => {
    const flows = new TaskFlows();
    const { valve } = flows.open('t1');
    const b = body();
    valve.bind(b.target);
    assert.equal(valve.followed, true);
    valve.hold();
    valve.hold();
    valve.release();
    valve.release();
    assert.deepEqual(b.seen, ['pause', 'resume']);
  });

  it('pauses a call that starts reading while its client is already behind (a retry after a first run)', () => {
    const flows = new TaskFlows();
    const { valve } = flows.open('t1');
    valve.hold();
    const b = body();
    const unbind = valve.bind(b.target);
    assert.deepEqual(b.seen, ['pause']);
    unbind();
    assert.equal(valve.followed, false);
    valve.release();
    assert.deepEqual(b.seen, ['pause'], 'a call no longer reading is not resumed');
  });

  it('finds only the valves of open readers, and releases a valve when its reader goes', () => {
    const flows = new TaskFlows();
    const reader = flows.open('t1');
    assert.equal(flows.find('t1'), reader.valve);
    assert.equal(flows.find('t2'), undefined);
    const b = body();
    reader.valve.bind(b.target);
    reader.valve.hold();
    reader.close();
    assert.deepEqual(b.seen, ['pause', 'resume'], 'no call stays paused for a reader gone');
    assert.equal(flows.find('t1'), undefined);
    assert.equal(flows.size, 0);
  });

  it('keeps the newer reader of a task id when an older one closes', () => {
    const flows = new TaskFlows();
    const older = flows.open('t1');
    const newer = flows.open('t1');
    older.close();
    assert.equal(flows.find('t1'), newer.valve);
  });
});
