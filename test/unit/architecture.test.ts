/**
 * The layout rules of docs/architecture.md, checked on the source: only the composition roots (src/main.ts for a
 * coordinator, src/node-main.ts for a koubou-node) import from actors/, no folder sits in an import circle with another,
 * and every actor file stays small enough to read top to bottom. Imports are read with the TypeScript
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

/** The unit a file belongs to for the circle check: its top folder under src/ (or actors/); a file at src/'s top is its own. */
function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'actors') return 'actors';
  return parts.length === 2 ? file : parts.slice(0, 2).join('/');
}

/** Import circles between the units of these file → file imports (Tarjan's components of more than one unit). */
function circles(imports: [string, string][]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const [file, target] of imports) {
    const [from, to] = [unitOf(file), unitOf(target)];
    if (from !== to) edges.set(from, (edges.get(from) ?? new Set()).add(to));
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = stack.splice(stack.indexOf(v));
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  it('has no import circle between folders', () => {
    const files = [...sources('src'), ...sources('actors')];
    assert.ok(files.length > 100, `sources found: ${files.length}`);
    assert.deepEqual(circles(files.flatMap((f) => importsOf(f).map((t): [string, string] => [f, t]))), []);
  });

  it('finds a circle through folders and top-level files (the check itself)', () => {
    const found = circles([
      ['src/tasks/service.ts', 'src/store/repo.ts'],
      ['src/store/repo.ts', 'src/errors.ts'],
      ['src/errors.ts', 'src/tasks/task.ts'],
      ['src/http/app.ts', 'src/tasks/service.ts'],
      ['actors/a.ts', 'actors/b.ts'],
    ]);
    assert.deepEqual(found, [['src/errors.ts', 'src/store', 'src/tasks']]);
  });

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
