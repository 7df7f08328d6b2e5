/**
 * Issue 10's endless-answer benchmark: one task on a backend that streams forever, as fast as the coordinator reads
 * it; the coordinator's RSS is sampled each second. With `tasks.max_output_bytes` set the task ends `output_too_large`
 * at the cap and RSS stays within the cap plus a constant; the figure depends on that cap, read from the config.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startCoordinatorProcess } from '../helpers/coordinator-process.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';

export interface EndlessRun {
  /** tasks.max_output_bytes as the coordinator loaded it; null where the config has no such key. */
  maxOutputBytes: number | null;
  startRssMiB: number;
  maxRssMiB: number;
  endRssMiB: number;
  /** How the task stood at the end of the window: its status and error code. */
  status: string;
  errorCode: string | null;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export async function runEndlessStream(seconds: number): Promise<EndlessRun> {
  const backend = await endlessOllama();
  const dir = tempDir('koubou-bench-');
  const { file, config } = writeTestConfig({ dir: dir.path, backends: [{ url: backend.url, model: 'bench-model' }], extra: { log: { level: 'warn' } } });
  const proc = await startCoordinatorProcess(file);
  const pid = proc.child.pid!;
  try {
    const startRssMiB = rssMiB(pid);
    const res = await fetch(`${proc.url}/task/delegate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'never stop', options: { timeout: seconds * 10 } }),
    });
    const { task_id: id } = (await res.json()) as { task_id: string };
    let maxRssMiB = startRssMiB;
    for (let s = 0; s < seconds; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      maxRssMiB = Math.max(maxRssMiB, rssMiB(pid));
    }
    const task = (await (await fetch(`${proc.url}/task/${id}/status`)).json()) as { status: string; result: { error_code: string | null } | null };
    return {
      maxOutputBytes: (config.tasks as { max_output_bytes?: number }).max_output_bytes ?? null,
      startRssMiB,
      maxRssMiB,
      endRssMiB: rssMiB(pid),
      status: task.status,
      errorCode: task.result?.error_code ?? null,
    };
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    backend.close();
    dir.remove();
  }
}

/**
 * An Ollama stand-in whose /api/chat streams forever: the NDJSON lines of a streamed chat answer
 * (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion), never the final `done: true`,
 * written as fast as the reader takes them (after each `false` from write(), it waits for 'drain').
 */
async function endlessOllama(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/api/tags') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [{ name: 'bench-model', model: 'bench-model' }] }));
    if (req.url === '/api/version') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.12.0"}');
    if (req.url !== '/api/chat') return void res.writeHead(404).end();
    req.resume();
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (model: string) => `${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: 'more words, ' }, done: false })}\n`;
    const pump = () => {
      while (!res.destroyed && res.write(line('bench-model').repeat(64)));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
