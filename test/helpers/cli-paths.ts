/**
 * The shipped commands, as users run them: the bundles `npm run build` writes to dist/bin/ (infra/bundle.mjs), so
 * tests that start real processes test what ships, not only the compiled modules they import.
 */
import { fileURLToPath } from 'node:url';

/** `koubou` (dist/bin/koubou.js). */
export const KOUBOU_CLI = fileURLToPath(new URL('../../bin/koubou.js', import.meta.url));
/** `koubou-node` (dist/bin/koubou-node.js). */
export const KOUBOU_NODE_CLI = fileURLToPath(new URL('../../bin/koubou-node.js', import.meta.url));
