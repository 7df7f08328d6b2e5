/**
 * Follows a task until it is final (completed, failed, cancelled) by long-polling its status, for `submit --wait`
 * and `status --watch`. Works whether or not the server honours `wait`: a quick answer without a change is followed
 * by a short pause, so the loop never spins.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_STATUSES } from '../tasks/states.js';
import type { TaskStatus } from '../client/api-types.js';
import type { KoubouClient } from '../client/client.js';
import { EXIT } from '../client/errors.js';
import { stateLine } from './format.js';
import { Progress } from './progress.js';

const LONG_POLL_S = 30;
/** An answer faster than this that shows no change means the server did not wait. */
const QUICK_MS = 50;
const PAUSE_MS = 200;

/** Called with every answer; `changed` when the state differs from the previous answer (always true for the first). */
export type OnStatus = (task: TaskStatus, changed: boolean) => void;

/** How an attempt's output begins: its number, and why the one before it ended (null for the first attempt). */
export interface AttemptStart {
  attempt: number;
  /** "failed: backend_protocol_error", "requeued: heartbeat lost", or null when nothing is recorded. */
  previous: string | null;
}

/**
 * Receives a running task's output as it streams in. The first piece of each attempt comes with `start`: a retried
 * task's new attempt streams its answer again from the first character.
 */
export type OnOutput = (text: string, start: AttemptStart | null) => void;

/** The loop itself: resolves with the final status. With onOutput, the output streams in as well. */
async function follow(client: KoubouClient, id: string, onStatus: OnStatus, onOutput?: OnOutput): Promise<TaskStatus> {
  let previous: string | null = null;
  /** The attempt whose output is being read, and whether any of it has been passed on yet. */
  let attempt = -1;
  let started = false;
  let seen = 0;
  for (;;) {
    const asked = performance.now();
    const task = await client.status(id, previous === null ? 0 : LONG_POLL_S, onOutput ? seen : undefined);
    const key = changeKey(task);
    const changed = key !== previous;
    previous = key;
    onStatus(task, changed);
    if (onOutput && task.partial_output) {
      const { from, text } = task.partial_output;
      if (task.attempts !== attempt) {
        attempt = task.attempts;
        started = false;
        if (from > 0) {
          // A new attempt (a retry): its text starts at 0, and we asked from where the old one had got to.
          seen = 0;
          continue;
        }
      }
      seen = from + text.length;
      if (text) {
        onOutput(text, started ? null : { attempt, previous: attempt > 1 ? await previousEnd(client, id) : null });
        started = true;
        continue; // more may already be there: ask again at once
      }
    }
    if (FINAL_STATUSES.has(task.status)) return task;
    if (!changed && performance.now() - asked < QUICK_MS) await sleep(PAUSE_MS);
  }
}

/** Why the task's latest attempt before this one ended, from its history: the last retry or requeue. */
export async function previousEnd(client: KoubouClient, id: string): Promise<string | null> {
  const { events } = await client.events(id);
  const last = events.findLast((e) => e.kind === 'retried' || e.kind === 'requeued');
  if (!last) return null;
  if (last.kind === 'requeued') return `requeued: ${typeof last.reason === 'string' ? last.reason : 'no reason recorded'}`;
  const error = last.error as { code?: unknown } | undefined;
  return `failed: ${typeof error?.code === 'string' ? error.code : 'no error recorded'}`;
}

function changeKey(t: TaskStatus): string {
  return [t.status, t.worker_id, t.attempts, t.queue_position ?? '', t.waiting_for?.code ?? ''].join('|');
}

/**
 * follow() with what a person watching needs: the progress line on a terminal, and Ctrl-C that stops following
 * (exit 130) while the task keeps running. `onStatus` may print through the given `print` to keep the line intact.
 */
export async function followTask(
  client: KoubouClient,
  id: string,
  onStatus: (task: TaskStatus, changed: boolean, print: (out: NodeJS.WritableStream, text: string) => void) => void = () => {},
  onOutput?: (text: string, start: AttemptStart | null, print: (out: NodeJS.WritableStream, text: string) => void) => void,
): Promise<TaskStatus> {
  const progress = new Progress();
  const onSigint = () => {
    progress.clear();
    process.stderr.write(`\nstopped following; task ${id} keeps running (koubou status ${id} --watch)\n`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onSigint);
  progress.start();
  try {
    const print = (out: NodeJS.WritableStream, text: string) => progress.print(out, text);
    return await follow(
      client,
      id,
      (task, changed) => {
        progress.update(stateLine(task));
        onStatus(task, changed, print);
      },
      onOutput && ((text, start) => onOutput(text, start, print)),
    );
  } finally {
    progress.clear();
    process.off('SIGINT', onSigint);
  }
}
