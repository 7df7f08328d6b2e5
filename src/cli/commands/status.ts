/** `koubou status ID [--watch]`: show a task, or follow it until it ends. */
import { positionals } from '../args.js';
import { EXIT } from '../../client/errors.js';
import { followTask, previousEnd } from '../follow.js';
import { attemptMarker, changeLine, failure, json, statusBlock, truncationWarning, withNewline } from '../format.js';
import type { TaskStatus } from '../../client/api-types.js';
import { connect, out, parse, printHelp } from './shared.js';

export async function status(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('status', argv);
  if (values.help) return printHelp('status');
  const [id] = positionals('status', given, ['ID']) as [string];
  const client = connect('status', values);

  if (!values.watch) {
    const task = await client.status(id);
    out(values.json ? json(task) : statusBlock(task));
    process.stderr.write(truncationWarning(task));
    return EXIT.ok;
  }
  // Human mode: the output is the data and streams to stdout as it comes; changes of state are news, on stderr.
  // With --json every change is a JSON line on stdout. A retried task's new attempt starts its answer again: it
  // follows a marker line, and `streamed` holds only the current attempt's text.
  let streamed = '';
  let streamedAttempt = 0;
  const final = await followTask(
    client,
    id,
    (task, changed, print) => {
      if (!changed) return;
      if (values.json) print(process.stdout, `${JSON.stringify(task)}\n`);
      else print(process.stderr, changeLine(task));
    },
    values.json
      ? undefined
      : (text, start, print) => {
          if (start) {
            if (start.attempt > 1 || streamed) print(process.stdout, `${streamed && !streamed.endsWith('\n') ? '\n' : ''}${attemptMarker(start.attempt, start.previous)}`);
            streamed = '';
            streamedAttempt = start.attempt;
          }
          streamed += text;
          print(process.stdout, text);
        },
  );
  process.stderr.write(truncationWarning(final));
  if (final.status === 'completed') {
    if (!values.json) out(await finalOutput(final, streamed, streamedAttempt, () => previousEnd(client, id)));
    return EXIT.ok;
  }
  process.stderr.write(`koubou: ${failure(final)}\n`);
  return EXIT.failed;
}

/**
 * What is left to print of a completed task's output once `streamed` (the text of attempt `streamedAttempt`) is on
 * the screen: the rest of it when the same attempt finished; after a marker, the whole output when another attempt
 * did (one that ran too fast to be seen streaming) or the stored output differs from what streamed.
 */
async function finalOutput(final: TaskStatus, streamed: string, streamedAttempt: number, previous: () => Promise<string | null>): Promise<string> {
  const output = final.result?.output ?? '';
  if (!streamed) return withNewline(output);
  if (final.attempts === streamedAttempt && output.startsWith(streamed)) return withNewline(output.slice(streamed.length));
  const lineEnd = streamed.endsWith('\n') ? '' : '\n';
  const marker = final.attempts === streamedAttempt ? attemptMarker(0, null) : attemptMarker(final.attempts, await previous());
  return `${lineEnd}${marker}${withNewline(output)}`;
}
