/**
 * Hot-path queries: built and compiled with Kysely once, then run synchronously on better-sqlite3.
 * Building a query costs several times what SQLite takes to run it, and Kysely's async execution adds a promise per
 * statement; the queue runs the same few statements thousands of times a second, inside one synchronous transaction.
 */
import type Database from 'better-sqlite3';
import type { Compilable } from 'kysely';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from './kysely.js';
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

/** A compiled query with named parameters. P: the parameters; R: a returned row. */
export interface PreparedQuery<P, R> {
  readonly sql: string;
  values(params: P): unknown[];
  /** Phantom field carrying the row type. */
  readonly row?: R;
}

/**
 * Compiles the query that build returns. Inside build, param('name') stands for a value given at run time;
 * the marks travel through Kysely as ordinary parameters, so the compiled SQL keeps plain `?` placeholders.
 */
export function prepare<P extends Record<string, unknown>, R>(
  build: (db: Kysely<Schema>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): PreparedQuery<P, R> {
  const compiled = build(compiler, (name) => (MARK + name) as never).compile();
  const slots: Slot[] = compiled.parameters.map((v) =>
    typeof v === 'string' && v.startsWith(MARK) ? { param: v.slice(MARK.length) } : { value: v },
  );
  return {
    sql: compiled.sql,
    values: (params) => slots.map((s) => ('param' in s ? (params[s.param] ?? null) : s.value)),
  };
}

/** Runs prepared queries on one better-sqlite3 connection, compiling each statement once. */
export class SqlRunner {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly raw: Database.Database) {}

  /** Rows for a SELECT or a RETURNING statement; [] for plain writes. */
  all<P, R>(query: PreparedQuery<P, R>, params: P): R[] {
    const stmt = this.statement(query.sql);
    if (stmt.reader) return stmt.all(query.values(params)) as R[];
    stmt.run(query.values(params));
    return [];
  }

  /** The first row, or undefined. */
  first<P, R>(query: PreparedQuery<P, R>, params: P): R | undefined {
    const stmt = this.statement(query.sql);
    if (stmt.reader) return stmt.get(query.values(params)) as R | undefined;
    stmt.run(query.values(params));
    return undefined;
  }

  private statement(sqlText: string): Database.Statement {
    let stmt = this.statements.get(sqlText);
    if (!stmt) this.statements.set(sqlText, (stmt = this.raw.prepare(sqlText)));
    return stmt;
  }
}
