/** `koubou mcp`: the MCP stdio server. Nothing else may touch stdout. */
import { DEFAULT_URL } from '../../config.js';
import { runMcpStdio } from '../mcp-stdio.js';
import { positionals } from '../args.js';
import { clientEnv } from '../../client/client-env.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { parse, printHelp } from './shared.js';
import { serverConfig } from './server-flags.js';

export async function mcp(argv: string[]): Promise<number | void> {
  const parsed = parse('mcp', argv);
  if (parsed.values.help) return printHelp('mcp');
  positionals('mcp', parsed.positionals, []);
  // The configuration is loaded (and checked) only when no coordinator answers at a named URL.
  const client = clientEnv(parsed.values, DEFAULT_URL);
  // Named only by --url or KOUBOU_URL: the table's default URL is tried after the store's own coordinator.
  const named = parsed.origins.url === undefined ? null : client.url;
  await runMcpStdio({ url: named, token: client.token }, (defaultPort) => serverConfig(COMMAND_SPECS.mcp.settings, parsed, process.cwd(), { defaultPort }));
}
