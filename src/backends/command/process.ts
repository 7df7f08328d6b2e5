/**
 * Runs one agent CLI: spawned from an argv array (never a shell) as the leader of its own process group, so cancel and
 * timeout reach the CLI's own children (shells, test runners) too. stdout and stderr are read with one byte cap.
 */
import { spawn } from 'node:child_process';
import { CommandFailed } from '../../errors.js';
import { OutputTooLarge } from '../answer-errors.js';
import { LineSplitter } from '../lines.js';

export interface ProcessSpec {
  /** argv[0] is the executable, looked up on the child's PATH; every other element reaches it as one argument. */
  argv: readonly string[];
  cwd: string;
  /** The child's whole environment (see env.ts): nothing else of ours is inherited. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed; null gives the child an empty stdin. */
  stdin: string | null;
  /** Most bytes stdout and stderr may carry together; past it the group is killed and OutputTooLarge thrown. */
  maxOutputBytes: number;
  /** Time between SIGTERM and SIGKILL to the group, ms. */
  killGraceMs: number;
  /** Aborting it kills the group; the run then rejects with signal.reason. */
  signal: AbortSignal;
  /** Each complete stdout line, in order, as it arrives. */
  onStdoutLine(line: string): void;
}

export interface ProcessExit {
  /** null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the child wrote to stderr (at most STDERR_TAIL_LINES). */
  stderrTail: string[];
  /** The child's pid (its process group id too). */
  pid: number;
}

const STDERR_TAIL_LINES = 20;

/** Groups still running. When Koubou exits (drained or not), they are killed, so no CLI outlives the process that started it. */
/** Linux refuses a single argv element past MAX_ARG_STRLEN (32 pages: 128 KiB) with E2BIG. */
const MAX_ARG_BYTES = 128 * 1024 - 1;

const liveGroups = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const group of liveGroups) signalGroup(group, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/**
 * Spawns the process and resolves when it has exited and its output is read. Rejects with OutputTooLarge past
 * the byte cap, with signal.reason when aborted (in both cases after the group has been told to die), or with the
 * spawn error (ENOENT for a missing executable). The group is killed whenever the run ends early, so nothing outlives it.
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessExit> {
  return new Promise((resolve, reject) => {
    const [exe, ...args] = spec.argv;
    if (exe === undefined) return reject(new Error('empty argv'));
    const longest = Math.max(...spec.argv.map((a) => Buffer.byteLength(a)));
    if (longest > MAX_ARG_BYTES) {
      const why = `an argument of ${longest} bytes (the prompt, most likely) is past the ${MAX_ARG_BYTES} bytes the system allows one; give this backend a preset or command that reads the prompt on stdin`;
      return reject(new CommandFailed(why, false));
    }
    const child = spawn(exe, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      shell: false,
      stdio: [spec.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    if (child.pid !== undefined) track(child.pid);
    let failure: unknown = null;
    let bytes = 0;
    let killTimer: NodeJS.Timeout | null = null;
    const stdoutLines = new LineSplitter();
    const stderrLines = new LineSplitter();
    const stderrTail: string[] = [];
    const keepStderr = (lines: string[]) => {
      stderrTail.push(...lines);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.splice(0, stderrTail.length - STDERR_TAIL_LINES);
    };

    const killGroup = (reason: unknown) => {
      if (failure === null) failure = reason;
      if (child.pid === undefined || killTimer !== null) return;
      signalGroup(child.pid, 'SIGTERM');
      // A CLI that ignores SIGTERM (or a child of it that does) is killed outright after the grace.
      killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), spec.killGraceMs);
      killTimer.unref();
    };
    const count = (chunk: Buffer): boolean => {
      bytes += chunk.length;
      if (bytes <= spec.maxOutputBytes) return true;
      killGroup(new OutputTooLarge(`the command wrote more than ${spec.maxOutputBytes} bytes (max_output_bytes); it was stopped`));
      return false;
    };
    const onAbort = () => killGroup(spec.signal.reason);
    if (spec.signal.aborted) onAbort();
    else spec.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (chunk: Buffer) => {
      if (!count(chunk) || failure !== null) return;
      for (const line of stdoutLines.push(chunk)) spec.onStdoutLine(line);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (count(chunk)) keepStderr(stderrLines.push(chunk));
    });
    if (child.stdin) {
      // A CLI that exits without reading its stdin closes the pipe: that is its business, not an error of ours.
      child.stdin.on('error', () => {});
      child.stdin.end(spec.stdin);
    }
    child.once('error', (err) => {
      spec.signal.removeEventListener('abort', onAbort);
      reject(failure ?? err);
    });
    // The leader is gone: anything left in its group goes with it, which also frees pipes a grandchild still holds.
    child.once('exit', () => {
      if (child.pid === undefined) return;
      signalGroup(child.pid, 'SIGKILL');
      liveGroups.delete(child.pid);
    });
    child.once('close', (code, signal) => {
      spec.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (failure !== null) return reject(failure);
      for (const line of stdoutLines.end()) spec.onStdoutLine(line);
      keepStderr(stderrLines.end());
      resolve({ code, signal, stderrTail, pid: child.pid! });
    });
  });
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}
