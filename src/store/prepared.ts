/**
 * Hot-path queries built with Kysely once and reused: building and compiling a query costs several times
 * more than SQLite takes to run it, and the queue runs the same few statements thousands of times a second.
 */
import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
} from 'kysely';
import type { Schema } from './schema.js';

/** A Kysely instance that only compiles; it never touches a database. */
const compiler = new Kysely<Schema>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

const MARK = '\u0000param:';

type Slot = { param: string } | { value: unknown };

export interface PreparedQuery<P, R> {
  /** Runs the query on db (or a transaction) with these parameters; returns the rows (RETURNING or SELECT). */
  run(db: Pick<Kysely<Schema>, 'executeQuery'>, params: P): Promise<R[]>;
}

/**
 * Compiles the query that build returns once. Inside build, param('name') stands for a value given at run time.
 * The marks travel through Kysely as ordinary parameters, so the compiled SQL keeps plain `?` placeholders.
 */
export function prepare<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Schema>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): PreparedQuery<P, R> {
  const compiled = build(compiler, (name) => (MARK + name) as never).compile();
  const slots: Slot[] = compiled.parameters.map((v) =>
    typeof v === 'string' && v.startsWith(MARK) ? { param: v.slice(MARK.length) } : { value: v },
  );
  return {
    async run(db, params) {
      const values = slots.map((s) => ('param' in s ? params[s.param] : s.value));
      const result = await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, values));
      return result.rows;
    },
  };
}
