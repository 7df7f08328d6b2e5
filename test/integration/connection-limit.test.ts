/**
 * A listener holds at most server.max_connections connections: clients holding streams open cannot use up the
 * process's open files. Past the bound a new connection is closed at once and a warn line says so; once the holders
 * go, the server answers again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { stalledSse, type StalledClient } from '../helpers/stalled-client.js';
import net from 'node:net';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { FILES_RESERVED } from '../../src/open-files.js';

const MAX_CONNECTIONS = 5;

describe('server.max_connections', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  const logs = new LogRing();

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url }],
      log: createPinoLogger({ level: 'warn', console: 'none', ring: logs }),
      logs,
      extra: { server: { max_connections: MAX_CONNECTIONS } },
    });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('closes a connection past the bound at once, says so in a warn line, and answers again once the holders go', async () => {
    const held: StalledClient[] = Array.from({ length: MAX_CONNECTIONS }, () => stalledSse(koubou.url, '/events'));
    try {
      // Each holder is counted once the server has accepted it: a request past the bound then fails at once.
      await eventually(async () => (await fetch(`${koubou.url}/health`).then(() => 'answered', () => 'closed')) === 'closed', 5_000, 50);
      const warned = logs.query({ level: 40, limit: 100 }).find((e) => /closed new connections/.test(String(e.msg)));
      assert.ok(warned, 'a warn line says connections were closed');
      assert.equal(warned.max_connections, MAX_CONNECTIONS);
      assert.equal(warned.listener, 'api');
    } finally {
      for (const client of held) client.destroy();
    }
    await eventually(async () => (await fetch(`${koubou.url}/health`).then((r) => r.status, () => 0)) === 200, 5_000, 50);
  });
});

describe('server.max_connections under a low open-files limit', () => {
  it('is lowered to fit at start with a warn line, so many held connections neither crash the process nor silence it', async () => {
    const fake = await startFakeLlm();
    const dir = tempDir();
    const { file } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url }], extra: { log: { level: 'info' } } });
    // 400 files at most: the default 4096 connections would run the process out of them (EMFILE).
    const koubou = await startCoordinatorProcess(file, {}, [], ['prlimit', '--nofile=400:400', '--']);
    const held: net.Socket[] = [];
    try {
      const lowered = koubou.output().split('\n').find((l) => l.includes('server.max_connections lowered'));
      assert.ok(lowered, koubou.output().slice(-2000));
      assert.equal(JSON.parse(lowered).max_connections, 400 - FILES_RESERVED);
      const { port } = new URL(koubou.url);
      for (let i = 0; i < 300; i++) {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', () => undefined);
        held.push(socket);
      }
      await eventually(() => /closed new connections/.test(koubou.output()), 10_000);
      for (const socket of held) socket.destroy();
      await eventually(async () => (await fetch(`${koubou.url}/health`).then((r) => r.status, () => 0)) === 200, 10_000, 100);
      assert.equal(koubou.child.exitCode, null, 'still running');
      assert.doesNotMatch(koubou.output(), /EMFILE/);
    } finally {
      for (const socket of held) socket.destroy();
      koubou.child.kill('SIGTERM');
      await koubou.exited;
      await fake.close();
      dir.remove();
    }
  });
});
