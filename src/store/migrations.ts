/** Schema migrations, applied in name order at every start; each runs once. */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { sql } from './kysely.js';

const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tasks')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('worker_id', 'text')
        .addColumn('lease', 'text')
        .addColumn('output', 'text')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'integer')
        .addColumn('finished_at', 'integer')
        .addColumn('updated_at', 'integer', (c) => c.notNull())
        .execute();
      // Loading the pending queue at start and listing by status both walk this index.
      await db.schema.createIndex('tasks_status_order').on('tasks').columns(['status', 'priority desc', 'seq']).execute();

      await db.schema
        .createTable('workers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('backend', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('current_task', 'text')
        .addColumn('last_heartbeat', 'integer')
        .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('restarts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('task_events')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('worker_id', 'text')
        .addColumn('lease', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('task_events_task').on('task_events').columns(['task_id', 'seq']).execute();
    },
  },
  '0002_idempotency': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('tasks').addColumn('idempotency_key', 'text').execute();
      // Partial: most tasks have no key, and only keys must be unique.
      await sql`create unique index tasks_idempotency_key on tasks (idempotency_key) where idempotency_key is not null`.execute(db);
    },
  },
  '0003_idempotency_fingerprint': {
    async up(db: Kysely<any>) {
      // What the key's first submission was (see tasks/fingerprint.ts); null for tasks stored before it was kept.
      await db.schema.alterTable('tasks').addColumn('idempotency_fingerprint', 'text').execute();
    },
  },
  '0004_store_probe': {
    async up(db: Kysely<any>) {
      // One row, rewritten by the probe that tells when a full disk has room again (see store.ts).
      await db.schema.createTable('store_probe').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('at', 'integer', (c) => c.notNull()).execute();
    },
  },
  '0005_answer': {
    async up(db: Kysely<any>) {
      // JSON {finishReason, truncated, model, usage}: how the answer ended. Reasoning apart: it can be large.
      await db.schema.alterTable('tasks').addColumn('answer', 'text').execute();
      await db.schema.alterTable('tasks').addColumn('reasoning', 'text').execute();
    },
  },
  '0006_task_changes': {
    async up(db: Kysely<any>) {
      // JSON: what a command backend's run changed (branch, base, diff, files); null for every other task.
      await db.schema.alterTable('tasks').addColumn('changes', 'text').execute();
    },
  },
};

/** Serves the migrations above to Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
