/** What the commands share: parsing by the command's table, help, the client built from the settings, output. */
import { DEFAULT_URL } from '../../config.js';
import { checkUrl } from '../args.js';
import { KoubouClient } from '../../client/client.js';
import { clientEnv, processEnv } from '../../client/client-env.js';
import { COMMAND_SPECS, type CommandName } from '../command-specs.js';
import { helpText, parseCommand, type Parsed, type SettingTable } from '../flags.js';

/** Parses the command's arguments strictly against its table, with the process environment standing in for flags. */
export function parse<N extends CommandName>(command: N, argv: string[]): Parsed<(typeof COMMAND_SPECS)[N]['settings']> {
  return parseCommand<SettingTable>(COMMAND_SPECS[command], argv, processEnv(), command) as Parsed<(typeof COMMAND_SPECS)[N]['settings']>;
}

export function connect(command: string, values: { url?: string | undefined; 'api-token'?: string | undefined }): KoubouClient {
  const env = clientEnv(values, DEFAULT_URL);
  checkUrl(command, env.url);
  return new KoubouClient(env);
}

export function printHelp(command: CommandName): number {
  process.stdout.write(`${helpText(COMMAND_SPECS[command])}\n`);
  return 0;
}

export function out(text: string): void {
  process.stdout.write(text);
}
