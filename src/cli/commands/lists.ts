/** `koubou tasks` and `koubou workers`: tables, or the API's JSON. */
import { TASK_STATUSES } from '../../tasks/task.js';
import { intFlag, oneOfFlag, positionals } from '../args.js';
import { EXIT } from '../../client/errors.js';
import { json, tasksTable, workersTable } from '../format.js';
import { connect, out, parse, printHelp } from './shared.js';

export async function tasks(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('tasks', argv);
  if (values.help) return printHelp('tasks');
  positionals('tasks', given, []);
  const status = oneOfFlag('tasks', 'status', values.status, TASK_STATUSES);
  const limit = intFlag('tasks', 'limit', values.limit, 1, 1000);
  const listing = await connect('tasks', values).tasks({ status, limit });
  out(values.json ? json(listing) : tasksTable(listing.tasks));
  return EXIT.ok;
}

export async function workers(argv: string[]): Promise<number> {
  const { values, positionals: given } = parse('workers', argv);
  if (values.help) return printHelp('workers');
  positionals('workers', given, []);
  const listing = await connect('workers', values).workers();
  out(values.json ? json(listing) : workersTable(listing.workers));
  return EXIT.ok;
}
