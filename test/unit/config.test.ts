import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverConfig } from '../../src/cli/commands/server-flags.js';
import { COMMAND_SPECS } from '../../src/cli/command-specs.js';
import { UsageError } from '../../src/client/errors.js';
import { parseCommand } from '../../src/cli/flags.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

// Compiled to dist/test/unit, so the project root is three levels up.
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const shippedConfig = path.join(projectRoot, 'config/koubou.yaml');
const examplesDir = path.join(projectRoot, 'config/examples');

const tmpDirs: string[] = [];
after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** An empty working directory (so no config/koubou.yaml in it). */
function emptyDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'koubou-config-'));
  tmpDirs.push(dir);
  return dir;
}

/** A working directory holding `yaml` as koubou.yaml; returns it and the argv naming the file. */
function withConfig(yaml: string): { cwd: string; argv: string[]; file: string } {
  const cwd = emptyDir();
  const file = path.join(cwd, 'koubou.yaml');
  fs.writeFileSync(file, yaml);
  return { cwd, argv: ['--config', file], file };
}

const oneBackend = `
backends:
  - name: local
    type: ollama
    url: http://127.0.0.1:11434
    model: m
`;

/** The configuration `koubou start ARGV` loads in `cwd` with environment `env`. */
function fromCommandLine(cwd: string, argv: string[] = [], env: Record<string, string> = {}) {
  const spec = COMMAND_SPECS.start;
  return serverConfig(spec.settings, parseCommand(spec, argv, env), cwd);
}

/** Asserts that `fn` throws a ConfigError for `key` (after the file's name, when a file set it) matching `pattern`. */
function assertConfigError(fn: () => unknown, key: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key, err.message);
    assert.ok(err.message.startsWith(`${err.file ? `${err.file}: ` : ''}${key}: `), err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

function loadYaml(yaml: string, env: Record<string, string> = {}) {
  const { cwd, argv } = withConfig(yaml);
  return fromCommandLine(cwd, argv, env);
}

describe('loadConfig defaults', () => {
  it('uses the built-in defaults and one local Ollama backend when there is no config file', () => {
    const cwd = emptyDir();
    const config = loadConfig({ cwd });
    assert.deepEqual(config.server, {
      host: '127.0.0.1',
      port: 8765,
      api_token: null,
      sync_wait_s: 300,
      body_limit_bytes: 1_048_576,
      allowed_hosts: [],
      allowed_origins: [],
      headers_timeout_s: 10,
      request_timeout_s: 30,
      keep_alive_timeout_s: 5,
      max_connections: 4096,
      stream_buffer_bytes: 262_144,
      ws_max_message_bytes: 65_536,
      ws_max_subscriptions: 100,
    });
    assert.deepEqual(config.store, { path: path.join(cwd, '.koubou/koubou.db') });
    assert.deepEqual(config.queue, { max_pending: 100_000 });
    assert.deepEqual(config.tasks, { default_timeout_s: 600, max_attempts: 3, retry_base_ms: 1000, retry_max_ms: 30000, max_output_bytes: 4194304, max_defer_ms: 1800000 });
    assert.deepEqual(config.pool, {
      heartbeat_interval_ms: 1000,
      heartbeat_timeout_ms: 3000,
      idle_ms: 60_000,
      shutdown_grace_ms: 10_000,
      node_return_ms: 60_000,
      restart: { base_ms: 100, max_ms: 30_000, intensity: 5, period_ms: 60_000 },
      backpressure: { failure_threshold: 3, probe_base_ms: 1000, probe_max_ms: 30_000 },
    });
    assert.deepEqual(config.files, { root: cwd, max_bytes: 262_144, exclude: ['.koubou/**', 'config/*.yaml'] });
    assert.deepEqual(config.log, { level: 'info' });
    assert.deepEqual(config.nats, { url: null, prefix: 'koubou', pool_token: null, nkey_seed_file: null, creds_file: null, tls_ca_file: null });
    assert.deepEqual(config.backends, [
      {
        name: 'local',
        type: 'ollama',
        url: 'http://127.0.0.1:11434',
        model: 'gpt-oss:20b',
        min_workers: 1,
        max_workers: 2,
        api_key: undefined,
        endpoint: 'chat',
        stream: true,
        timeout_s: null,
        types: null,
        models: [],
        max_tokens: null,
        command: null,
      },
    ]);
    assert.deepEqual(config.routing, { speed_aware: true, rules: [] });
  });

  it('ships a config/koubou.yaml equal to the defaults', () => {
    const cwd = emptyDir();
    assert.deepEqual(fromCommandLine(cwd, ['--config', shippedConfig]), loadConfig({ cwd }));
  });

  it('reads config/koubou.yaml from the working directory when no file is named', () => {
    const config = loadConfig({ cwd: projectRoot });
    assert.equal(config.store.path, path.join(projectRoot, '.koubou/koubou.db'));
    assert.equal(config.backends[0]?.name, 'local');
  });

  for (const example of fs.readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'))) {
    it(`loads the example ${example}`, () => {
      const config = fromCommandLine(emptyDir(), ['--config', path.join(examplesDir, example)]);
      assert.ok(config.backends.length >= 1);
    });
  }

  it('loads the LAN example with two backends and NATS', () => {
    const config = fromCommandLine(emptyDir(), ['--config', path.join(examplesDir, 'lan-coordinator.yaml')]);
    assert.deepEqual(config.backends.map((b) => b.type), ['ollama', 'openai']);
    assert.equal(config.nats.url, 'nats://127.0.0.1:4222');
  });

  it('fills backend defaults: max_workers = max(min_workers, 1), api_key null reads as undefined', () => {
    const config = loadYaml(`
backends:
  - { name: a, type: ollama, url: "http://h:1", model: m, min_workers: 0 }
  - { name: b, type: openai, url: "https://h/v1", model: m, min_workers: 3, api_key: sk-1, timeout_s: 0.5 }
`);
    assert.deepEqual(config.backends.map((b) => [b.min_workers, b.max_workers]), [[0, 1], [3, 3]]);
    assert.equal(config.backends[0]?.api_key, undefined);
    assert.equal(config.backends[1]?.api_key, 'sk-1');
    assert.equal(config.backends[1]?.timeout_s, 0.5);
  });

  it('resolves relative store.path and files.root against cwd and keeps files.root null', () => {
    const { cwd, argv } = withConfig(`${oneBackend}\nstore: { path: data/k.db }\nfiles: { root: null }\n`);
    const config = fromCommandLine(cwd, argv);
    assert.equal(config.store.path, path.join(cwd, 'data/k.db'));
    assert.equal(config.files.root, null);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ cwd: emptyDir() });
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.pool.restart as { base_ms: number }).base_ms = 1;
    }, TypeError);
    assert.throws(() => (config.backends as unknown[]).push({}), TypeError);
    assert.throws(() => {
      (config.backends[0] as { model: string }).model = 'x';
    }, TypeError);
  });
});

describe('loadConfig precedence: file < env < flags', () => {
  const yaml = `${oneBackend}\nserver: { port: 7000, host: file-host }\nlog: { level: warn }\n`;

  it('takes values from the file over the defaults', () => {
    const config = loadYaml(yaml);
    assert.equal(config.server.port, 7000);
    assert.equal(config.server.host, 'file-host');
    assert.equal(config.log.level, 'warn');
  });

  it('takes env over the file, converting numbers', () => {
    const config = loadYaml(yaml, {
      KOUBOU_PORT: '8000',
      KOUBOU_HOST: 'env-host',
      KOUBOU_LOG_LEVEL: 'debug',
      KOUBOU_DB: '/tmp/env.db',
      KOUBOU_API_TOKEN: 'secret',
      KOUBOU_NATS_URL: 'nats://10.0.0.1:4222',
    });
    assert.equal(config.server.port, 8000);
    assert.equal(config.server.host, 'env-host');
    assert.equal(config.server.api_token, 'secret');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.store.path, '/tmp/env.db');
    assert.equal(config.nats.url, 'nats://10.0.0.1:4222');
  });

  it('takes flags over env, in both --name value and --name=value forms', () => {
    const { cwd, argv } = withConfig(yaml);
    const env = { KOUBOU_PORT: '8000', KOUBOU_LOG_LEVEL: 'debug', KOUBOU_NATS_URL: 'nats://env:4222' };
    const config = fromCommandLine(cwd, [...argv, '--port=9000', '--log-level', 'error', '--nats', 'nats://flag:4222', '--db', 'rel.db'], env);
    assert.equal(config.server.port, 9000);
    assert.equal(config.log.level, 'error');
    assert.equal(config.nats.url, 'nats://flag:4222');
    assert.equal(config.store.path, path.join(cwd, 'rel.db'));
  });

  it('ignores empty env variables', () => {
    assert.equal(loadYaml(yaml, { KOUBOU_PORT: '' }).server.port, 7000);
  });

  it('finds the file through KOUBOU_CONFIG, with --config winning', () => {
    const { cwd, file } = withConfig(yaml);
    assert.equal(fromCommandLine(cwd, [], { KOUBOU_CONFIG: file }).server.port, 7000);
    const other = path.join(cwd, 'other.yaml');
    fs.writeFileSync(other, `${oneBackend}\nserver: { port: 7100 }\n`);
    assert.equal(fromCommandLine(cwd, ['--config', 'other.yaml'], { KOUBOU_CONFIG: file }).server.port, 7100);
  });

  it('allows port 0 (ephemeral)', () => {
    assert.equal(fromCommandLine(emptyDir(), ['--port', '0']).server.port, 0);
  });
});

describe('loadConfig errors name their key', () => {
  it('rejects unknown keys, at any depth', () => {
    assertConfigError(() => loadYaml(`${oneBackend}\nsever: { port: 1 }\n`), 'sever', /unknown key/);
    assertConfigError(() => loadYaml(`${oneBackend}\npool: { restart: { intensty: 3 } }\n`), 'pool.restart.intensty', /unknown key/);
    assertConfigError(() => loadYaml(`${oneBackend}    max_worker: 3\n`), 'backends[0].max_worker', /unknown key; did you mean max_workers\?$/);
    // Nothing close: the keys it could be.
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { colour: blue }\n`), 'server.colour', /unknown key \(expected one of: host, port/);
  });

  it('refuses a backend url with a user name or password, without echoing it, and points to api_key', () => {
    const yaml = `backends:\n  - { name: a, type: openai, url: "http://admin:S3CRETPASS@127.0.0.1:8000/v1", model: m }\n`;
    assertConfigError(() => loadYaml(yaml), 'backends[0].url', /must not carry a user name or password .*api_key$/);
    assert.throws(() => loadYaml(yaml), (err: Error) => !err.message.includes('S3CRETPASS'));
  });

  it('names the file that set a bad key, and the flag or variable that set a bad override', () => {
    const { cwd, argv, file } = withConfig(`${oneBackend}    max_worker: 3\n`);
    assert.throws(() => fromCommandLine(cwd, argv), (e: unknown) => e instanceof ConfigError && e.message === `${file}: backends[0].max_worker: unknown key; did you mean max_workers?`);
    const good = withConfig(oneBackend);
    assert.throws(() => fromCommandLine(good.cwd, [...good.argv, '--port', 'x']), (e: unknown) => e instanceof ConfigError && e.message === 'server.port: must be an integer between 0 and 65535, got "x" (from --port)');
  });

  it('rejects a bad port from the file, a flag and the env', () => {
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { port: 70000 }\n`), 'server.port', /between 0 and 65535, got 70000/);
    assertConfigError(() => fromCommandLine(emptyDir(), ['--port', 'abc']), 'server.port', /got "abc" \(from --port\)/);
    assertConfigError(() => fromCommandLine(emptyDir(), [], { KOUBOU_PORT: 'abc' }), 'server.port', /got "abc" \(from KOUBOU_PORT\)/);
    assertConfigError(() => fromCommandLine(emptyDir(), [], { KOUBOU_PORT: '80.5' }), 'server.port', /KOUBOU_PORT/);
  });

  it('reads server.allowed_hosts and server.allowed_origins in the form Host and Origin headers use', () => {
    const config = loadYaml(`${oneBackend}\nserver: { allowed_hosts: [Koubou.LAN, '[FE80::1]'], allowed_origins: ['https://Koubou.lan/', 'http://192.168.1.10:80', 'App://Obsidian.md', 'vscode-webview://1ab2c3'] }\n`);
    assert.deepEqual(config.server.allowed_hosts, ['koubou.lan', '[fe80::1]']);
    // Apps' pages (Obsidian, VS Code webviews, Tauri) send their own schemes.
    assert.deepEqual(config.server.allowed_origins, ['https://koubou.lan', 'http://192.168.1.10', 'app://obsidian.md', 'vscode-webview://1ab2c3']);
  });

  it('rejects hosts with a scheme or port, origins with a path or "*", and a request timeout below the headers timeout', () => {
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_hosts: ['http://koubou.lan'] }\n`), 'server.allowed_hosts[0]', /without scheme or port/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_hosts: [ok.lan, 'koubou.lan:8765'] }\n`), 'server.allowed_hosts[1]', /without scheme or port/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_origins: ['*'] }\n`), 'server.allowed_origins[0]', /no "\*"/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_origins: ['https://koubou.lan/app'] }\n`), 'server.allowed_origins[0]', /no path/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_origins: ['app://obsidian.md/vault'] }\n`), 'server.allowed_origins[0]', /origin such as/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { allowed_origins: ['null'] }\n`), 'server.allowed_origins[0]', /origin such as/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { headers_timeout_s: 20, request_timeout_s: 10 }\n`), 'server.request_timeout_s', /headers_timeout_s \(20\)/);
  });

  it('rejects a flag without a value, and an unknown one, naming the one meant', () => {
    assert.throws(() => fromCommandLine(emptyDir(), ['--port']), (e: unknown) => e instanceof UsageError && e.message === '--port needs a value');
    assert.throws(() => fromCommandLine(emptyDir(), ['--prot', '9000']), (e: unknown) => e instanceof UsageError && e.message === 'unknown option --prot; did you mean --port?');
  });

  it('rejects max_workers below min_workers', () => {
    assertConfigError(() => loadYaml(`${oneBackend}    min_workers: 4\n    max_workers: 2\n`), 'backends[0].max_workers', /min_workers \(4\)/);
  });

  it('rejects duplicate backend names', () => {
    assertConfigError(() => loadYaml(`${oneBackend}${oneBackend.replace('backends:\n', '')}`), 'backends[1].name', /duplicate/);
  });

  it('rejects bad URLs', () => {
    assertConfigError(() => loadYaml(oneBackend.replace('http://127.0.0.1:11434', 'not a url')), 'backends[0].url', /http:\/\/ or https:\/\//);
    assertConfigError(() => loadYaml(oneBackend.replace('http://127.0.0.1:11434', 'ftp://host')), 'backends[0].url');
    assertConfigError(() => loadYaml(`${oneBackend}\nnats: { url: "http://host:4222" }\n`), 'nats.url', /nats:\/\//);
  });

  it('rejects malformed YAML with the parser line', () => {
    const { cwd, argv, file } = withConfig('server:\n  port: [1, 2\nlog: {}\n');
    assertConfigError(() => fromCommandLine(cwd, argv), file, /invalid YAML: .*line 3/);
  });

  it('rejects an explicitly named file that does not exist', () => {
    const cwd = emptyDir();
    assertConfigError(() => fromCommandLine(cwd, ['--config', 'missing.yaml']), '--config', /not found: .*missing\.yaml/);
    assertConfigError(() => fromCommandLine(cwd, [], { KOUBOU_CONFIG: 'missing.yaml' }), 'KOUBOU_CONFIG', /not found/);
  });

  it('rejects an empty or missing backends list', () => {
    assertConfigError(() => loadYaml('backends: []\n'), 'backends', /at least one backend \(or set nats.url/);
    assertConfigError(() => loadYaml('server: { port: 1 }\n'), 'backends', /at least one backend/);
    // With NATS, the workers may all be on koubou-nodes.
    assert.deepEqual(loadYaml('nats: { url: "nats://127.0.0.1:4222" }\nbackends: []\n').backends, []);
    assert.deepEqual(loadYaml('nats: { url: "nats://127.0.0.1:4222" }\n').backends, []);
  });

  it('rejects wrong types and out-of-range values', () => {
    assertConfigError(() => loadYaml(`${oneBackend}    stream: "yes"\n`), 'backends[0].stream', /true or false/);
    assertConfigError(() => loadYaml(`${oneBackend}    type: vllm\n`.replace('    type: ollama\n', '')), 'backends[0].type', /"ollama", "openai"/);
    assertConfigError(() => loadYaml(oneBackend.replace('name: local', 'name: "a b"')), 'backends[0].name');
    assertConfigError(() => loadYaml(`${oneBackend}    max_workers: 257\n`), 'backends[0].max_workers', /between 1 and 256/);
    assertConfigError(() => loadYaml(`${oneBackend}\ntasks: { max_attempts: 0 }\n`), 'tasks.max_attempts', /between 1 and 100/);
    assertConfigError(() => loadYaml(`${oneBackend}\ntasks: { max_output_bytes: 100 }\n`), 'tasks.max_output_bytes', /between 1024 and 1073741824/);
    assertConfigError(() => loadYaml(`${oneBackend}\ntasks: { max_defer_ms: 0 }\n`), 'tasks.max_defer_ms', /between 1 and 2147483647/);
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: { sync_wait_s: 0 }\n`), 'server.sync_wait_s', /greater than 0/);
    assertConfigError(() => loadYaml(`${oneBackend}\nlog: { level: verbose }\n`), 'log.level');
    assertConfigError(() => loadYaml(`${oneBackend}\nserver: 8765\n`), 'server', /mapping/);
    assertConfigError(() => loadYaml(`backends:\n  - local\n`), 'backends[0]', /mapping/);
  });

  it('rejects settings that contradict each other or durability', () => {
    assertConfigError(() => loadYaml(`${oneBackend}\npool: { heartbeat_interval_ms: 3000 }\n`), 'pool.heartbeat_timeout_ms', /greater than/);
    assertConfigError(() => loadYaml(`${oneBackend}\nstore: { path: ":memory:" }\n`), 'store.path', /memory/);
    assertConfigError(() => loadYaml(`${oneBackend}\npool: { restart: { base_ms: 500, max_ms: 100 } }\n`), 'pool.restart.max_ms');
    assertConfigError(() => loadYaml(`${oneBackend}\npool: { backpressure: { probe_base_ms: 500, probe_max_ms: 100 } }\n`), 'pool.backpressure.probe_max_ms');
    assertConfigError(() => loadYaml(`${oneBackend}\npool: { backpressure: { failure_threshold: 0 } }\n`), 'pool.backpressure.failure_threshold');
    assertConfigError(
      () => loadYaml(oneBackend.replace('type: ollama', 'type: openai').concat('    endpoint: generate\n')),
      'backends[0].endpoint',
      /ollama/,
    );
  });
});

describe('routing and backend capabilities', () => {
  it('reads routing rules and what each backend takes', () => {
    const config = loadYaml(`
routing:
  speed_aware: false
  rules:
    - { min_priority: 8, prefer: local }
    - { max_priority: 3, prefer: remote, fallback: false }
backends:
  - { name: a, type: ollama, url: "http://127.0.0.1:1", model: m, types: [code, analysis], models: [m2], max_tokens: 4096 }
`);
    assert.deepEqual(config.routing, {
      speed_aware: false,
      rules: [
        { min_priority: 8, max_priority: 10, prefer: 'local', fallback: true },
        { min_priority: 1, max_priority: 3, prefer: 'remote', fallback: false },
      ],
    });
    assert.deepEqual([config.backends[0]!.types, config.backends[0]!.models, config.backends[0]!.max_tokens], [['code', 'analysis'], ['m2'], 4096]);
  });

  it('names the key of a bad rule or capability', () => {
    assertConfigError(() => loadYaml(`${oneBackend}\nrouting: { rules: [{ prefer: lan }] }\n`), 'routing.rules[0].prefer', /"local", "remote"/);
    assertConfigError(() => loadYaml(`${oneBackend}\nrouting: { rules: [{ prefer: local, min_priority: 9, max_priority: 2 }] }\n`), 'routing.rules[0].max_priority', />= min_priority/);
    assertConfigError(() => loadYaml(`${oneBackend}\nrouting: { rules: [{ prefer: local, weight: 2 }] }\n`), 'routing.rules[0].weight', /unknown key/);
    assertConfigError(
      () => loadYaml(`backends:\n  - { name: a, type: ollama, url: "http://127.0.0.1:1", model: m, types: [poetry] }\n`),
      'backends[0].types[0]',
      /"general"/,
    );
    assertConfigError(() => loadYaml(`backends:\n  - { name: a, type: ollama, url: "http://127.0.0.1:1", model: m, types: [] }\n`), 'backends[0].types', /at least one/);
    assertConfigError(() => loadYaml(`backends:\n  - { name: a, type: ollama, url: "http://127.0.0.1:1", model: m, max_tokens: 0 }\n`), 'backends[0].max_tokens', /integer/);
  });
});

describe('command backends in config', () => {
  const load = (backend: Record<string, unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'koubou-cfg-'));
    const file = path.join(dir, 'k.yaml');
    fs.writeFileSync(file, JSON.stringify({ backends: [{ name: 'agent', type: 'command', model: 'm', ...backend }] }));
    try {
      return loadConfig({ file: { path: file, from: '--config' }, cwd: dir });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads a codex preset with its defaults and needs no url', () => {
    const b = load({ preset: 'codex', workspace_root: '/srv/work' }).backends[0]!;
    assert.equal(b.url, '');
    assert.deepEqual(b.command, {
      preset: 'codex', command: null, workspace_root: '/srv/work', isolation: 'worktree', keep_worktree: false, prepared_worktrees: 1,
      env_pass: [], env_set: {}, kill_grace_ms: 5000, max_output_bytes: 4 * 1024 * 1024, retry: false,
    });
  });

  it('names the key of a bad command setting', () => {
    assert.throws(() => load({ preset: 'claude' }), (e: ConfigError) => e.key === 'backends[0].preset');
    assert.throws(() => load({ preset: 'generic' }), (e: ConfigError) => e.key === 'backends[0].command');
    assert.throws(() => load({ preset: 'codex', isolation: 'chroot' }), (e: ConfigError) => e.key === 'backends[0].isolation');
    assert.throws(() => load({ preset: 'codex', prepared_worktrees: -1 }), (e: ConfigError) => e.key === 'backends[0].prepared_worktrees');
    assert.throws(() => load({ preset: 'codex', prepared_worktrees: 9 }), (e: ConfigError) => e.key === 'backends[0].prepared_worktrees');
    assert.throws(() => load({ preset: 'codex', env: ['KOUBOU_API_TOKEN'] }), (e: ConfigError) => e.key === 'backends[0].env[0]');
    assert.throws(() => load({ preset: 'codex', env: { NATS_CREDS: 'x' } }), (e: ConfigError) => e.key === 'backends[0].env.NATS_CREDS');
  });
});
