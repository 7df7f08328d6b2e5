/** `koubou mcp`: the MCP stdio server. Nothing else may touch stdout. */
import { runMcpStdio } from '../../mcp/stdio.js';
import { processEnv } from '../client-env.js';
import { printHelp } from './shared.js';

export async function mcp(argv: string[]): Promise<number | void> {
  if (argv.includes('--help') || argv.includes('-h')) return printHelp('mcp');
  await runMcpStdio(argv, processEnv());
}
