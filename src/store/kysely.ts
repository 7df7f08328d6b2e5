/**
 * The runtime values of Kysely, in one place, so no instance of one of its builds (ESM, CommonJS) meets a class of the
 * other; types may still be imported from 'kysely' directly. The shipped commands bundle it (see infra/bundle.mjs):
 * its ESM build is some 260 modules, which took ~80 ms to load one by one.
 */
export { DummyDriver, Kysely, Migrator, SqliteAdapter, SqliteDialect, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
