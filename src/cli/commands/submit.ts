/** `koubou submit PROMPT [--wait]`: queue a task; print its id, or wait and print its output. */
import path from 'node:path';
import { TASK_TYPES } from '../../tasks/task.js';
import { intFlag, oneOfFlag, positionals, positiveFlag } from '../args.js';
import type { DelegateBody } from '../../client/api-types.js';
import { EXIT, UsageError } from '../../client/errors.js';
import { followTask } from '../follow.js';
import { changesNote, failure, json, truncationWarning, withNewline } from '../format.js';
import { connect, out, parse, printHelp } from './shared.js';

export async function submit(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('submit', argv);
  if (values.help) return printHelp('submit');
  const [promptArg] = positionals('submit', given, ['PROMPT']) as [string];
  const body: DelegateBody = { prompt: promptArg === '-' ? await readStdin() : promptArg };
  if (body.prompt.trim() === '') throw new UsageError('the prompt is empty', 'submit');
  const type = oneOfFlag('submit', 'type', values.type, TASK_TYPES);
  if (type !== undefined) body.type = type;
  const priority = intFlag('submit', 'priority', values.priority, 1, 10);
  if (priority !== undefined) body.priority = priority;
  if (values.file?.length) body.files = values.file;
  // The coordinator has its own working directory: a relative DIR means this shell's.
  if (values.workdir !== undefined) body.workdir = path.resolve(values.workdir);
  const timeout = positiveFlag('submit', 'timeout', values.timeout);
  if (timeout !== undefined || values.model !== undefined || values['include-reasoning']) {
    body.options = {};
    if (timeout !== undefined) body.options.timeout = timeout;
    if (values.model !== undefined) body.options.model = values.model;
    if (values['include-reasoning']) body.options.include_reasoning = true;
  }
  const client = connect('submit', values);

  const submitted = await client.delegate(body);
  if (!values.wait) {
    out(values.json ? json({ task_id: submitted.task_id, status: submitted.status }) : `${submitted.task_id}\n`);
    return EXIT.ok;
  }
  const final = await followTask(client, submitted.task_id);
  if (values.json) out(json(final));
  process.stderr.write(truncationWarning(final));
  process.stderr.write(changesNote(final));
  if (final.status === 'completed') {
    if (!values.json) out(withNewline(final.result?.output ?? ''));
    return EXIT.ok;
  }
  process.stderr.write(`koubou: ${failure(final)}\n`);
  return EXIT.failed;
}

/** The prompt from stdin, without the trailing newline(s) `echo` and editors add. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('(reading the prompt from stdin; end with Ctrl-D)\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/(\r?\n)+$/, '');
}
