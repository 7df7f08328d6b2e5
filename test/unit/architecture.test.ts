/**
 * The layout rules of docs/architecture.md, checked on the source: only the composition roots (src/main.ts for a
 * coordinator, src/node-main.ts for a koubou-node) import from actors/, and every actor file stays small enough to read top to bottom. Imports are read with the TypeScript
 * compiler's own pre-processor, so type-only imports count too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The project's root: this file runs from dist/test/unit. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ACTOR_MAX_LINES = 300;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** The project files a source file imports (relative specifiers only), as paths from the project root. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
}

describe('architecture', () => {
  it('only the composition roots import from actors/', () => {
    const roots = [join('src', 'main.ts'), join('src', 'node-main.ts')];
    const offenders = sources('src')
      .filter((f) => !roots.includes(f))
      .flatMap((f) => importsOf(f).filter((i) => i.startsWith(`actors/`)).map((i) => `${f} imports ${i}`));
    assert.deepEqual(offenders, []);
  });

  it(`keeps every actor file at most ${ACTOR_MAX_LINES} lines`, () => {
    const files = sources('actors');
    assert.ok(files.length >= 5, `actors found: ${files.join(', ')}`);
    const long = files.map((f) => [f, readFileSync(join(ROOT, f), 'utf8').trimEnd().split('\n').length] as const).filter(([, n]) => n > ACTOR_MAX_LINES);
    assert.deepEqual(long, []);
  });
});
