/**
 * Where the installed package's own files are (package.json, src/dashboard/assets/). Found by walking up from this
 * module to the nearest folder holding a package.json, because the code runs at two depths below it: the compiled
 * modules in dist/src/ (tests) and the bundled commands in dist/bin/ (what users run).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The package's root folder, an absolute path. Throws when no package.json is above this module (a broken install). */
export function packageRoot(): string {
  if (root !== null) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  root = dir;
  return root;
}
