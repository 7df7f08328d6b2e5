/**
 * A stand-in agent CLI for command-backend tests. The first argument picks what it does; the rest are the arguments
 * the preset (or a generic command template) passed. The prompt it saw is whatever follows `--` (codex), the value of
 * `--prompt=` (gemini), or the last argument (generic).
 *
 *   codex-edit           speaks `codex exec --json` (JSONL, with a junk line and an unknown event) while editing
 *                        README.md and adding src/new.txt in its cwd; streams its message in pieces, slowly
 *   codex-big <bytes>    speaks codex JSONL while writing big.txt of about <bytes> bytes (many short lines) in its cwd
 *   codex-gated <gate> <log>  speaks codex JSONL: the first part of its message, then waits until the file <gate>
 *                        exists before finishing; appends "start" and "end" lines to <log> around its run
 *   gemini               speaks `gemini --output-format stream-json`, writes notes.md
 *   argv                 prints its arguments as one JSON line (generic: stdout is the answer)
 *   env                  prints its environment as one JSON line
 *   flood                writes stdout without end
 *   fail                 writes to stderr, exits 3
 *   git-trick <what>     what = hijack: rewrites its worktree's .git file to point at the repository's own git
 *                        directory, then writes hijack.txt; switch: `git switch -c agent-branch`, then writes sw.txt
 *   hang <pidfile>       spawns a grandchild that ignores SIGTERM, writes "<child pid> <grandchild pid>" to pidfile,
 *                        ignores SIGTERM itself and never ends
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [mode, ...args] = process.argv.slice(2);
const out = (v: unknown): void => void process.stdout.write(JSON.stringify(v) + '\n');

async function codexEdit(): Promise<void> {
  const prompt = args[args.indexOf('--') + 1] ?? '';
  out({ type: 'thread.started', thread_id: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
  process.stdout.write('Reading prompt from argv... not json\n');
  out({ type: 'turn.started' });
  out({ type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: '**Editing two files**' } });
  out({ type: 'item.started', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: '', exit_code: null, status: 'in_progress' } });
  writeFileSync('README.md', readFileSync('README.md', 'utf8') + 'Edited by the agent.\n');
  mkdirSync('src', { recursive: true });
  writeFileSync('src/new.txt', 'one\ntwo\n');
  out({ type: 'item.completed', item: { id: 'item_1', type: 'command_execution', command: 'bash -lc ls', aggregated_output: 'README.md\n', exit_code: 0, status: 'completed' } });
  out({ type: 'item.completed', item: { id: 'item_2', type: 'file_change', changes: [{ path: 'README.md', kind: 'update' }, { path: 'src/new.txt', kind: 'add' }], status: 'completed' } });
  out({ type: 'some.future_event', detail: 1 });
  const message = `Done: ${prompt}`;
  out({ type: 'item.started', item: { id: 'item_3', type: 'agent_message', text: message.slice(0, 5) } });
  await sleep(Number(process.env.FAKE_DELAY_MS ?? 50));
  out({ type: 'item.updated', item: { id: 'item_3', type: 'agent_message', text: message.slice(0, 10) } });
  out({ type: 'item.completed', item: { id: 'item_3', type: 'agent_message', text: message } });
  out({ type: 'turn.completed', usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 345 } });
}

function codexBig(bytes: number): void {
  out({ type: 'thread.started', thread_id: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
  out({ type: 'turn.started' });
  const line = 'a line with "quotes" and a tab\there\n';
  writeFileSync('big.txt', line.repeat(Math.ceil(bytes / line.length)));
  out({ type: 'item.completed', item: { id: 'item_0', type: 'file_change', changes: [{ path: 'big.txt', kind: 'add' }], status: 'completed' } });
  out({ type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'Wrote big.txt' } });
  out({ type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 3 } });
}

async function codexGated(gate: string, log: string): Promise<void> {
  appendFileSync(log, 'start\n');
  out({ type: 'thread.started', thread_id: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
  out({ type: 'turn.started' });
  out({ type: 'item.started', item: { id: 'item_0', type: 'agent_message', text: 'Half' } });
  while (!existsSync(gate)) await sleep(20);
  out({ type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: 'Half and whole' } });
  out({ type: 'turn.completed', usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 4 } });
  appendFileSync(log, 'end\n');
}

function gemini(): void {
  const prompt = args.find((a) => a.startsWith('--prompt='))?.slice('--prompt='.length) ?? '';
  const at = '2025-10-10T12:00:00.000Z';
  out({ type: 'init', timestamp: at, session_id: 'abc123', model: 'gemini-2.5-flash' });
  out({ type: 'message', timestamp: at, role: 'user', content: prompt });
  out({ type: 'message', timestamp: at, role: 'assistant', content: 'Let me write it.', delta: true });
  out({ type: 'tool_use', timestamp: at, tool_name: 'write_file', tool_id: 'w1', parameters: { file_path: 'notes.md' } });
  writeFileSync('notes.md', `# ${prompt}\n`);
  out({ type: 'tool_result', timestamp: at, tool_id: 'w1', status: 'success', output: 'ok' });
  out({ type: 'message', timestamp: at, role: 'assistant', content: 'Wrote ', delta: true });
  out({ type: 'message', timestamp: at, role: 'assistant', content: 'notes.md.', delta: true });
  out({ type: 'result', timestamp: at, status: 'success', stats: { total_tokens: 30, input_tokens: 20, output_tokens: 10, duration_ms: 5, tool_calls: 1 } });
}

async function main(): Promise<void> {
  switch (mode) {
    case 'codex-edit':
      return codexEdit();
    case 'codex-big':
      return codexBig(Number(args[0]));
    case 'codex-gated':
      return codexGated(args[0]!, args[1]!);
    case 'gemini':
      return gemini();
    case 'argv':
      return out(args);
    case 'env':
      return out(process.env);
    case 'flood': {
      const line = 'x'.repeat(1023) + '\n';
      for (;;) if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r));
    }
    case 'fail':
      process.stderr.write('warming up\nerror: model not found\n');
      process.exit(3);
    case 'git-trick': {
      const what = args.at(-1);
      if (what === 'hijack') {
        const gitFile = readFileSync('.git', 'utf8');
        writeFileSync('.git', `gitdir: ${gitFile.slice('gitdir:'.length).trim().replace(/\/worktrees\/[^/]+$/, '')}\n`);
        writeFileSync('hijack.txt', 'x\n');
      } else {
        execFileSync('git', ['switch', '--quiet', '-c', 'agent-branch']);
        writeFileSync('sw.txt', 'switched\n');
      }
      return out({ done: what });
    }
    case 'hang': {
      process.on('SIGTERM', () => {});
      const grandchild = spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>{});setInterval(()=>{},1000)"], { stdio: 'ignore' });
      writeFileSync(args[0]!, `${process.pid} ${grandchild.pid}`);
      setInterval(() => {}, 1000);
      return;
    }
    default:
      process.stderr.write(`fake-agent-cli: unknown mode ${mode}\n`);
      process.exit(2);
  }
}

void main();
