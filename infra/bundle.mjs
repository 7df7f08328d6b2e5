#!/usr/bin/env node
/**
 * Bundles the two commands that ship, `koubou` and `koubou-node`, from tsc's output (dist/src/cli/) into dist/bin/,
 * with the code shared between them and every lazily imported part (MCP, GraphQL, NATS, prom-client, each CLI
 * command) in chunks of their own under dist/bin/chunks/. Why: loading ~900 separate modules (Kysely alone is ~260)
 * was most of a coordinator's start-up time and some 20 MiB of its idle memory; one file per part loads in a fraction
 * of that. Tests import the modules in dist/src/ directly and run the commands from dist/bin/, as users do.
 *
 * Left outside the bundle: better-sqlite3 (a native addon), and pino with pino-pretty (pino finds its transports and
 * pino-pretty its colour support by module name at run time).
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { koubou: 'dist/src/cli/koubou.js', 'koubou-node': 'dist/src/cli/koubou-node.js' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.18',
  external: ['better-sqlite3', 'pino', 'pino-pretty'],
  // CommonJS packages bundled into ES modules still call require() for Node's built-in modules.
  banner: { js: "import { createRequire as __koubouRequire } from 'node:module'; const require = __koubouRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  // Identifiers stay, so stack traces name functions; NODE_OPTIONS=--enable-source-maps maps them to the sources.
  sourcemap: 'linked',
  logLevel: 'warning',
});
