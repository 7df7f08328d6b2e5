import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode, InvalidMessage } from '../../src/nats/codec.js';
import { subjects } from '../../src/nats/subjects.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('NATS payloads and subjects', () => {
  it('round-trips with the version field added and removed', () => {
    assert.deepEqual(JSON.parse(new TextDecoder().decode(encode({ a: 1 }))), { v: 1, a: 1 });
    assert.deepEqual(decode(encode({ prompt: '工房' })), { prompt: '工房' });
  });

  it('refuses what is not a version-1 JSON object, naming the problem', () => {
    assert.throws(() => decode(bytes('{nope')), (e: unknown) => e instanceof InvalidMessage && /not valid JSON/.test(e.message));
    assert.throws(() => decode(bytes('[1]')), /JSON object/);
    // Without "v" a message is the current version: other services need not know the envelope.
    assert.deepEqual(decode(bytes('{"prompt":"x"}')), { prompt: 'x' });
    assert.throws(() => decode(bytes('{"v":null}')), /protocol version null; this coordinator speaks v: 1/);
    assert.throws(() => decode(bytes('{"v":2}')), /protocol version 2; this coordinator speaks v: 1/);
  });

  it('never quotes the text of a message it cannot parse (a join carries the pool token)', () => {
    assert.throws(
      () => decode(bytes('{"v":1,"token":s3cr3t-token}')),
      (e: unknown) => e instanceof InvalidMessage && /not valid JSON/.test(e.message) && !/s3cr3t/.test(e.message),
    );
  });

  it('checks the version it is asked to (the node protocol speaks its own)', () => {
    assert.deepEqual(decode(encode({ a: 1 }, 2), 2), { a: 1 });
    assert.throws(() => decode(encode({ a: 1 }), 2), /protocol version 1; this coordinator speaks v: 2/);
  });

  it('puts every subject under the prefix', () => {
    const s = subjects('lab.koubou');
    assert.equal(s.delegate, 'lab.koubou.task.delegate');
    assert.equal(s.status, 'lab.koubou.task.status');
    assert.equal(s.taskEvents('abc'), 'lab.koubou.events.task.abc');
    assert.equal(s.allTaskEvents, 'lab.koubou.events.task.*');
    assert.equal(s.workerEvents('local:gpu:0'), 'lab.koubou.events.worker.local:gpu:0');
  });
});

describe('NATS server URLs', () => {
  it('lifts credentials out of the URL, which the client would otherwise ignore', async () => {
    const { serversAndCredentials } = await import('../../src/nats/connection.js');
    assert.deepEqual(serversAndCredentials('nats://koubou:s%40cret@nats-host:4222'), { servers: ['nats://nats-host:4222'], user: 'koubou', pass: 's@cret' });
    assert.deepEqual(serversAndCredentials('nats://tok3n@host:4222'), { servers: ['nats://host:4222'], token: 'tok3n' });
    assert.deepEqual(serversAndCredentials('nats://koubou:pw@a:4222, nats://b:4223'), { servers: ['nats://a:4222', 'nats://b:4223'], user: 'koubou', pass: 'pw' });
    assert.deepEqual(serversAndCredentials('nats://127.0.0.1:4222'), { servers: ['nats://127.0.0.1:4222'] });
  });
});
