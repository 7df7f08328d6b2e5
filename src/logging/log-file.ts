/** Where a store's processes log: `logs/koubou.log` beside the store, one file for koubou, koubou mcp and koubou-node. */
import path from 'node:path';

/** `<store dir>/logs/koubou.log`. */
export function logFilePath(storePath: string): string {
  return path.join(path.dirname(storePath), 'logs', 'koubou.log');
}
