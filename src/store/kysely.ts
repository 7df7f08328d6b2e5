/**
 * The runtime values of Kysely, from its CommonJS build: the ESM build is some 260 modules, which hold about 7 MiB more
 * memory in a running coordinator than the same code loaded as CommonJS. Every value the store uses comes from here,
 * so no instance of one build meets a class of the other; types may still be imported from 'kysely' directly.
 */
import { createRequire } from 'node:module';

const kysely = createRequire(import.meta.url)('kysely') as typeof import('kysely');

export const { DummyDriver, Kysely, Migrator, SqliteAdapter, SqliteDialect, SqliteIntrospector, SqliteQueryCompiler, sql } = kysely;
export type Kysely<DB> = import('kysely').Kysely<DB>;
