/** `koubou tasks` and `koubou workers`: tables, or the API's JSON. */
import { TASK_STATUSES } from '../../tasks/task.js';
import { CLIENT_OPTIONS, intFlag, oneOfFlag, parseCommand, positionals } from '../args.js';
import { EXIT } from '../errors.js';
import { json, tasksTable, workersTable } from '../format.js';
import { connect, out, printHelp } from './shared.js';

const TASKS_OPTIONS = { ...CLIENT_OPTIONS, status: { type: 'string' }, limit: { type: 'string' } } as const;

export async function tasks(argv: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('tasks', argv, TASKS_OPTIONS);
  if (values.help) return printHelp('tasks');
  positionals('tasks', given, []);
  const status = oneOfFlag('tasks', 'status', values.status, TASK_STATUSES);
  const limit = intFlag('tasks', 'limit', values.limit, 1, 1000);
  const listing = await connect('tasks', values.url).tasks({ status, limit });
  out(values.json ? json(listing) : tasksTable(listing.tasks));
  return EXIT.ok;
}

export async function workers(argv: string[]): Promise<number> {
  const { values, positionals: given } = parseCommand('workers', argv, CLIENT_OPTIONS);
  if (values.help) return printHelp('workers');
  positionals('workers', given, []);
  const listing = await connect('workers', values.url).workers();
  out(values.json ? json(listing) : workersTable(listing.workers));
  return EXIT.ok;
}
