/** `koubou mcp`: the MCP stdio server. Nothing else may touch stdout. */
import { DEFAULT_URL } from '../../config.js';
import { runMcpStdio } from '../../mcp/stdio.js';
import { positionals } from '../args.js';
import { clientEnv } from '../client-env.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { parse, printHelp } from './shared.js';
import { serverConfig } from './server-flags.js';

export async function mcp(argv: string[]): Promise<number | void> {
  const parsed = parse('mcp', argv);
  if (parsed.values.help) return printHelp('mcp');
  positionals('mcp', parsed.positionals, []);
  // The embedded coordinator's configuration is only loaded (and checked) when no coordinator answers.
  await runMcpStdio(clientEnv(parsed.values, DEFAULT_URL), () => serverConfig(COMMAND_SPECS.mcp.settings, parsed));
}
