/**
 * Every command's command line, as real processes: a misspelt flag or a flag without its value exits 2 with the
 * usage line and the flag meant; a misspelt config key names the file and the key meant; --help lists every flag
 * of the command's table with its default and environment variable.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { COMMAND_SPECS } from '../../src/cli/command-specs.js';
import type { CommandSpec } from '../../src/cli/flags.js';
import { NODE_SPEC } from '../../src/cli/node-spec.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { KOUBOU_CLI, KOUBOU_NODE_CLI } from '../helpers/cli-paths.js';

const KOUBOU = KOUBOU_CLI;
const NODE = KOUBOU_NODE_CLI;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI to its end with only PATH in its environment (stdin closed: `koubou mcp` would otherwise serve it). */
function run(cli: string, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  // Only a guard against a hung process: a loaded machine may take seconds to start 15 of them.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('command lines', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('a misspelt flag or a flag without its value exits 2 with the usage line and the flag meant', async () => {
    const cases: Array<[string, string[], string, RegExp]> = [
      [NODE, ['--nats', 'nats://127.0.0.1:1', '--backend', 'ollama', '--url', 'http://127.0.0.1:1', '--model', 'm', '--concurency', '4'], 'koubou-node: unknown option --concurency; did you mean --concurrency?', /^usage: koubou-node \[options\]$/m],
      [NODE, ['--nats'], 'koubou-node: --nats needs a value', /^usage: koubou-node/m],
      [KOUBOU, ['mcp', '--url'], 'koubou: --url needs a value', /^usage: koubou mcp \[options\]$/m],
      [KOUBOU, ['mcp', '--url', '--config', 'x.yaml'], 'koubou: --url needs a value (one starting with "-" is written --url=-VALUE)', /^usage: koubou mcp/m],
      [KOUBOU, ['start', '--prot', '9000'], 'koubou: unknown option --prot; did you mean --port?', /^usage: koubou start \[options\]$/m],
      [KOUBOU, ['stop', '--dbb', 'x.db'], 'koubou: unknown option --dbb; did you mean --db?', /^usage: koubou stop/m],
      [KOUBOU, ['submit', 'hi', '--prioirty', '3'], 'koubou: unknown option --prioirty; did you mean --priority?', /^usage: koubou submit PROMPT \[options\]$/m],
      [KOUBOU, ['status', 'abc', '--wacth'], 'koubou: unknown option --wacth; did you mean --watch?', /^usage: koubou status ID/m],
      [KOUBOU, ['tasks', '--limt', '3'], 'koubou: unknown option --limt; did you mean --limit?', /^usage: koubou tasks/m],
      [KOUBOU, ['workers', '--jsn'], 'koubou: unknown option --jsn; did you mean --json?', /^usage: koubou workers/m],
      [KOUBOU, ['cancel', 'abc', '--ur', 'http://x'], 'koubou: unknown option --ur; did you mean --url?', /^usage: koubou cancel ID/m],
      [KOUBOU, ['tasks', '--json=yes'], 'koubou: --json takes no value', /^usage: koubou tasks/m],
      // Nothing close: no guess.
      [KOUBOU, ['tasks', '--frobnicate'], 'koubou: unknown option --frobnicate', /^usage: koubou tasks/m],
      [KOUBOU, ['stat'], 'koubou: unknown command "stat"; did you mean start?', /^usage: koubou <command>/m],
    ];
    const results = await Promise.all(cases.map(([cli, args]) => run(cli, args)));
    results.forEach((res, i) => {
      const [, args, first, usage] = cases[i]!;
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.equal(res.stderr.split('\n')[0], first);
      assert.match(res.stderr, usage);
      assert.equal(res.stdout, '');
    });
  });

  it('a misspelt config key names the file and the key meant, and exits 2', async () => {
    const { file } = writeTestConfig({ dir: dir.path, backends: [{ url: 'http://127.0.0.1:1' }] });
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('max_workers:', 'max_worker:'));
    const res = await run(KOUBOU, ['start', '--config', file]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr, `koubou: ${file}: backends[0].max_worker: unknown key; did you mean max_workers?\n`);
    const node = await run(NODE, ['--nats', 'nats://127.0.0.1:1', '--config', file]);
    assert.equal(node.code, 2, node.stderr);
    assert.match(node.stderr, new RegExp(`^koubou-node: ${file.replaceAll('.', '\\.')}: backends\\[0\\]\\.max_worker: unknown key; did you mean max_workers\\?`));
  });

  it('--help on every command lists every flag of its table with its default and environment variable', async () => {
    const commands: Array<[string, string[], CommandSpec]> = [
      ...Object.entries(COMMAND_SPECS).map(([name, spec]): [string, string[], CommandSpec] => [KOUBOU, [name, '--help'], spec]),
      [NODE, ['--help'], NODE_SPEC],
    ];
    const results = await Promise.all(commands.map(([cli, args]) => run(cli, args)));
    results.forEach((res, i) => {
      const [, args, spec] = commands[i]!;
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      assert.ok(res.stdout.startsWith(`usage: ${spec.command}`), res.stdout);
      const entries = Object.entries(spec.settings);
      assert.ok(entries.length > 1);
      for (const [name, setting] of entries) {
        if (setting.envOnly) {
          assert.match(res.stdout, new RegExp(`^  ${setting.env}\\b`, 'm'), `${spec.command} --help lists ${setting.env}`);
          continue;
        }
        // The flag's row, then the line of its facts: its default always, its variable when it has one.
        const row = new RegExp(`^  --${name}\\b[^\\n]*\\n(?: {26}[^\\n]*\\n)*? {26}default: [^\\n]+`, 'm').exec(res.stdout);
        assert.ok(row, `${spec.command} --help lists --${name} with its default:\n${res.stdout}`);
        if (setting.env) assert.ok(row[0].includes(`env: ${setting.env}`), `${spec.command} --${name} names ${setting.env}: ${row[0]}`);
      }
    });
    // Defaults come from where they are decided: the config's for the settings that override it.
    const start = results[0]!.stdout;
    assert.match(start, /--port N {16}listen on port N \(0: any free port\)\n {26}default: 8765 · env: KOUBOU_PORT · sets server\.port/);
    assert.match(start, /--log-level LEVEL[^\n]*\n {26}default: info · env: KOUBOU_LOG_LEVEL/);
  });
});
