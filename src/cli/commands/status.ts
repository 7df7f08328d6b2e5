/** `koubou status ID [--watch]`: show a task, or follow it until it ends. */
import { positionals } from '../args.js';
import { EXIT } from '../errors.js';
import { followTask } from '../follow.js';
import { changeLine, failure, json, statusBlock, truncationWarning, withNewline } from '../format.js';
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
  // With --json every change is a JSON line on stdout.
  let streamed = '';
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
      : (text, fresh, print) => {
          if (fresh && streamed) print(process.stdout, '\n');
          streamed = fresh ? text : streamed + text;
          print(process.stdout, text);
        },
  );
  process.stderr.write(truncationWarning(final));
  if (final.status === 'completed') {
    const output = final.result?.output ?? '';
    if (!values.json) out(withNewline(streamed && output.startsWith(streamed) ? output.slice(streamed.length) : (streamed ? '\n' : '') + output));
    return EXIT.ok;
  }
  process.stderr.write(`koubou: ${failure(final)}\n`);
  return EXIT.failed;
}
