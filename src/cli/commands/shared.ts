/** What the client commands share: the client built from --url / the environment, and output helpers. */
import { checkUrl } from '../args.js';
import { KoubouClient } from '../client.js';
import { clientEnv } from '../client-env.js';
import { usage } from '../usage.js';

export function connect(command: string, urlFlag: string | undefined): KoubouClient {
  const env = clientEnv(urlFlag);
  checkUrl(command, env.url);
  return new KoubouClient(env);
}

export function printHelp(command: string): number {
  process.stdout.write(`${usage(command)}\n`);
  return 0;
}

export function out(text: string): void {
  process.stdout.write(text);
}
