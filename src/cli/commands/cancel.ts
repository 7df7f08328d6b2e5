/** `koubou cancel ID`. */
import { positionals } from '../args.js';
import { EXIT } from '../../client/errors.js';
import { json } from '../format.js';
import { connect, out, parse, printHelp } from './shared.js';

export async function cancel(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('cancel', argv);
  if (values.help) return printHelp('cancel');
  const [id] = positionals('cancel', given, ['ID']) as [string];
  const result = await connect('cancel', values).cancel(id);
  out(values.json ? json(result) : `${result.task_id} ${result.status}\n`);
  return EXIT.ok;
}
