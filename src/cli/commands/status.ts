/** `koubou status ID [--watch]`: show a task, or follow it until it ends. */
import { CLIENT_OPTIONS, parseCommand, positionals } from '../args.js';
import { EXIT } from '../errors.js';
import { followTask } from '../follow.js';
import { changeLine, failure, json, statusBlock, withNewline } from '../format.js';
import { connect, out, printHelp } from './shared.js';

const OPTIONS = { ...CLIENT_OPTIONS, watch: { type: 'boolean' } } as const;

export async function status(argv: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('status', argv, OPTIONS);
  if (values.help) return printHelp('status');
  const [id] = positionals('status', given, ['ID']) as [string];
  const client = connect('status', values.url);

  if (!values.watch) {
    const task = await client.status(id);
    out(values.json ? json(task) : statusBlock(task));
    return EXIT.ok;
  }
  const final = await followTask(client, id, (task, changed, print) => {
    if (!changed) return;
    print(process.stdout, values.json ? `${JSON.stringify(task)}\n` : changeLine(task));
  });
  if (final.status === 'completed') {
    if (!values.json) out(withNewline(final.result?.output ?? ''));
    return EXIT.ok;
  }
  process.stderr.write(`koubou: ${failure(final)}\n`);
  return EXIT.failed;
}
