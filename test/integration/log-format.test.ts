/**
 * One log format for every program: readable lines on a terminal (a real pseudo-terminal through `script`), JSON when
 * piped, and JSON lines from koubou, koubou mcp and koubou-node in the one log file beside the store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logFilePath } from '../../src/logging/log-file.js';
import { liveHolder } from '../../src/store/lock-file.js';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { mcpOverStdio } from '../helpers/mcp-client.js';
import { startNodeProcess } from '../helpers/node-process.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const CLI = KOUBOU_CLI;

interface Line {
  level: number;
  time: string;
  msg: string;
  name?: string;
  pid?: number;
}

function fileLines(file: string): Line[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
}

describe('log format', () => {
  let fake: FakeLlm;
  before(async () => {
    fake = await startFakeLlm();
  });
  after(async () => {
    await fake.close();
  });

  it('koubou start writes readable lines to a terminal, JSON to a pipe, and JSON to its log file', async () => {
    const dir = tempDir();
    try {
      const { file, config } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url }], extra: { log: { level: 'info' }, pool: { shutdown_grace_ms: 200 } } });
      // `script` runs the command on a pseudo-terminal: stdout.isTTY is true there, as in a person's shell.
      const onTty = spawn('script', ['-qfec', `${process.execPath} ${CLI} start --config ${file}`, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let shown = '';
      onTty.stdout.on('data', (c: Buffer) => (shown += c.toString()));
      const exited = new Promise<number | null>((resolve) => onTty.once('exit', (code) => resolve(code)));
      try {
        await eventually(() => liveHolder(config.store.path)?.url != null && shown.includes('koubou is listening'), 20_000);
      } finally {
        const holder = liveHolder(config.store.path);
        if (holder) process.kill(holder.pid, 'SIGTERM');
        assert.equal(await exited, 0, shown);
      }
      assert.match(shown, /INFO \(koubou\): koubou is listening/, shown);
      assert.doesNotMatch(shown, /\{"level":/, 'no JSON on a terminal');

      const piped = await startCoordinatorProcess(file);
      piped.child.kill('SIGTERM');
      assert.equal(await piped.exited, 0, piped.output());
      const pipedLines = piped.output().trimEnd().split('\n');
      for (const line of pipedLines) assert.doesNotThrow(() => JSON.parse(line), line);

      const logged = fileLines(logFilePath(config.store.path));
      const said = JSON.stringify(logged.map((l) => [l.pid, l.msg]));
      assert.equal(logged.filter((l) => l.msg === 'koubou is listening').length, 2, `both runs are in the file: ${said}`);
      assert.equal(logged.filter((l) => l.msg === 'stopped cleanly').length, 2, `nothing lost at exit: ${said}`);
      assert.ok(logged.every((l) => l.name === 'koubou' && typeof l.pid === 'number' && typeof l.level === 'number'));
    } finally {
      dir.remove();
    }
  });

  it('koubou mcp and koubou-node --config log the same JSON lines to the same file', async () => {
    const dir = tempDir();
    try {
      const { file, config } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url }], extra: { log: { level: 'info' } } });
      const log = logFilePath(config.store.path);
      const mcp = await mcpOverStdio({ KOUBOU_CONFIG: file, KOUBOU_URL: `http://127.0.0.1:${await closedPort()}` }, dir.path);
      try {
        assert.equal((await mcp.call('delegate_task', { prompt: 'logged', wait_seconds: 20 })).status, 'completed');
      } finally {
        await mcp.close();
      }
      const node = startNodeProcess(['--config', file, '--nats', `nats://127.0.0.1:${await closedPort()}`]);
      try {
        await eventually(() => existsSync(log) && readFileSync(log, 'utf8').includes('"name":"koubou-node"'), 20_000);
      } finally {
        node.child.kill('SIGTERM');
        await node.exited;
      }
      const lines = fileLines(log);
      const names = new Set(lines.map((l) => l.name));
      assert.deepEqual([...names].sort(), ['koubou-mcp', 'koubou-node']);
      assert.ok(lines.some((l) => l.name === 'koubou-mcp' && l.msg === 'koubou is listening'));
      assert.ok(lines.some((l) => l.name === 'koubou-node' && l.msg === 'NATS not reachable yet; still trying' && l.level === 40));
      for (const l of lines) assert.ok(typeof l.level === 'number' && !Number.isNaN(Date.parse(l.time)) && typeof l.pid === 'number', JSON.stringify(l));
    } finally {
      dir.remove();
    }
  });

  it('koubou-node without --config logs where a coordinator in its folder would, or to --log-file, or (-) to stdout only', async () => {
    const dir = tempDir();
    const nats = `nats://127.0.0.1:${await closedPort()}`;
    const flags = ['--nats', nats, '--backend', 'ollama', '--url', fake.url, '--model', 'fake-model'];
    const run = async (extra: string[], cwd: string, file: string | null) => {
      const node = startNodeProcess([...flags, ...extra], {}, cwd);
      try {
        await eventually(() => node.output().includes('NATS not reachable yet'), 20_000);
        if (file) await eventually(() => existsSync(file) && readFileSync(file, 'utf8').includes('NATS not reachable yet'), 5000);
      } finally {
        node.child.kill('SIGTERM');
        await node.exited;
      }
    };
    try {
      // The coordinator's default store is .koubou/koubou.db of its folder; its log file is beside it.
      const here = join(dir.path, 'project');
      mkdirSync(here);
      const shared = logFilePath(join(here, '.koubou', 'koubou.db'));
      await run([], here, shared);
      const line = fileLines(shared).find((l) => l.msg === 'NATS not reachable yet; still trying')!;
      assert.equal(line.name, 'koubou-node');
      assert.equal(line.level, 40);

      const chosen = join(dir.path, 'elsewhere', 'node.log');
      await run(['--log-file', chosen], here, chosen);
      assert.equal(fileLines(shared).filter((l) => l.msg === 'NATS not reachable yet; still trying').length, 1, 'the second run wrote to --log-file only');

      const quiet = join(dir.path, 'quiet');
      mkdirSync(quiet);
      await run(['--log-file', '-'], quiet, null);
      assert.deepEqual(readdirSync(quiet), [], 'no file with --log-file -');
    } finally {
      dir.remove();
    }
  });
});
