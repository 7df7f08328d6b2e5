/** The README documents the GraphQL schema (SDL); this keeps that copy equal to the schema the server serves. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { printSchema } from 'graphql';
import { schema } from '../../src/graphql/schema.js';

// Compiled to dist/test/unit, so the project root is three levels up.
const README = new URL('../../../README.md', import.meta.url);

describe('the README GraphQL schema', () => {
  it('is the served schema, as printSchema prints it', () => {
    const block = /```graphql\n([\s\S]*?)\n```/.exec(readFileSync(README, 'utf8'))?.[1];
    assert.ok(block, 'README.md has a ```graphql block');
    assert.equal(block, printSchema(schema).trimEnd(), "README.md's ```graphql block differs from the schema: paste printSchema(schema) there");
  });
});
