/**
 * Issue #16 (4): how light the idle process is. Against the default config (config/koubou.yaml, its backend pointed at
 * the fake Ollama, whose model it names; store in a temp dir):
 *  - spawn `koubou start` → first 200 from /health (polled every 2 ms on a port picked beforehand);
 *  - its RSS once idle (1 s after /health answered), and its peak RSS so far;
 *  - spawn `koubou mcp` → `tools/list` answered, with the MCP SDK's client over stdio as Claude Code would: once
 *    forwarding to that running coordinator, once running its own (embedded) coordinator because none answers;
 *  - the floor: a bare Hono server (bare-server.ts) spawned and measured the same way.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';
import { peakRssMiB } from './processes.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const CLI = KOUBOU_CLI;
const DEFAULT_CONFIG = fileURLToPath(new URL('../../../config/koubou.yaml', import.meta.url));
const POLL_MS = 2;
const IDLE_AFTER_MS = 1000;

export interface StartupRun {
  toHealthMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
  mcpForwardMs: number;
  mcpEmbeddedMs: number;
  /** The same spawn → /health and idle RSS of a bare Hono server. */
  floorToHealthMs: number;
  floorIdleRssMiB: number;
}

const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));

/** One round: a fresh temp dir and store, a coordinator, two `koubou mcp` starts. */
export async function runStartup(fakeUrl: string): Promise<StartupRun> {
  const dir = tempDir('koubou-bench-startup-');
  const config = join(dir.path, 'koubou.yaml');
  writeFileSync(config, readFileSync(DEFAULT_CONFIG, 'utf8').replace('url: http://127.0.0.1:11434', `url: ${fakeUrl}`).replace(/model: \S+/, 'model: fake-model'));
  const env = { PATH: process.env.PATH ?? '' };
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'start', '--config', config, '--db', join(dir.path, 'koubou.db'), '--port', String(port), '--log-level', 'warn'], {
    cwd: dir.path,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await untilHealthy(url);
    const toHealthMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
    const idleRssMiB = rssMiB(child.pid!);
    const peak = peakRssMiB(child.pid!);
    const mcpForwardMs = await mcpToToolList(['mcp', '--url', url], dir.path, env);
    // Nothing answers at --url, and the running coordinator holds another store: this one runs its own.
    const nobody = `http://127.0.0.1:${await closedPort()}`;
    const mcpEmbeddedMs = await mcpToToolList(['mcp', '--url', nobody, '--config', config, '--db', join(dir.path, 'mcp.db'), '--port', '0', '--log-level', 'warn'], dir.path, env);
    const floor = await bareServer(env);
    return { toHealthMs, idleRssMiB, peakRssMiB: peak, mcpForwardMs, mcpEmbeddedMs, floorToHealthMs: floor.toHealthMs, floorIdleRssMiB: floor.idleRssMiB };
  } finally {
    child.kill('SIGTERM');
    await exited;
    dir.remove();
  }
}

/** Spawn → first 200 from /health and RSS once idle, of the bare Hono server. */
async function bareServer(env: Record<string, string>): Promise<{ toHealthMs: number; idleRssMiB: number }> {
  const port = await closedPort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [BARE_SERVER, String(port)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await untilHealthy(`http://127.0.0.1:${port}`);
    const toHealthMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
    return { toHealthMs, idleRssMiB: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function untilHealthy(url: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`no 200 from ${url}/health within 20 s`);
}

/** Milliseconds from spawning `koubou ARGS` to the answer of tools/list (after the MCP initialize handshake). */
async function mcpToToolList(args: string[], cwd: string, env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const client = new Client({ name: 'koubou-bench', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], cwd, env, stderr: 'ignore' }));
  const { tools } = await client.listTools();
  const ms = performance.now() - t0;
  if (tools.length === 0) throw new Error('tools/list answered no tools');
  await client.close();
  return ms;
}

/** Resident set size now (VmRSS), MiB. */
function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}
