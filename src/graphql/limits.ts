/**
 * How big a GraphQL request may be: the document's size (checked before parsing) and tokens (while parsing), and the
 * depth and number of fields of each operation with its fragments expanded (checked before validation, whose cost
 * grows with the square of the fields; unknown and cyclic fragments are left for validation to report). Nothing in
 * the schema is recursive, so legitimate queries are shallow; introspection is the deepest.
 */
import { ValidationError } from '../errors.js';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

export const GRAPHQL_LIMITS = {
  /** Bytes of the query document. */
  maxDocumentBytes: 20 * 1024,
  /** Lexical tokens of the query document (parse stops beyond). */
  maxTokens: 5_000,
  /** Nesting of selections (graphql's getIntrospectionQuery() is 15 deep; the schema's own types at most 2). */
  maxDepth: 20,
  /** Fields selected, fragments expanded and aliases counted (getIntrospectionQuery() with every option selects 230). */
  maxFields: 500,
  /** Tasks one request may list across all its fields and aliases (each alias of `tasks` draws from it). */
  maxListedTasks: 1_000,
} as const;

/** What one request has left to list; a fresh one per request (the execution's context). */
export interface RequestBudget {
  tasksLeft: number;
}

/** A budget for one request. */
export function requestBudget(): RequestBudget {
  return { tasksLeft: GRAPHQL_LIMITS.maxListedTasks };
}

/**
 * Takes `n` tasks from the request's budget, or throws a ValidationError (field `limit`) saying the request lists too many: a query of
 * many aliased lists must not make the coordinator build (and hold) millions of rows while workers wait to beat.
 */
export function takeTasks(budget: RequestBudget, n: number): void {
  if (n > budget.tasksLeft) {
    throw new ValidationError(`this request lists more than ${GRAPHQL_LIMITS.maxListedTasks} tasks across its fields; ask for fewer (limit) or split it`, 'limit');
  }
  budget.tasksLeft -= n;
}

interface Measure {
  depth: number;
  fields: number;
}

/** Errors for each operation of the document that nests too deep or selects too many fields; empty when all fit. */
export function checkDocumentSize(document: DocumentNode): GraphQLError[] {
  const errors: GraphQLError[] = [];
  for (const def of document.definitions) if (def.kind === Kind.OPERATION_DEFINITION) errors.push(...checkOperationSize(document, def));
  return errors;
}

/** Errors for an operation that nests too deep or selects too many fields; empty when it is within limits. */
function checkOperationSize(document: DocumentNode, operation: OperationDefinitionNode): GraphQLError[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, Measure>();
  const cap = GRAPHQL_LIMITS.maxFields + 1;

  const measure = (set: SelectionSetNode, visiting: Set<string>): Measure => {
    let depth = 0;
    let fields = 0;
    for (const sel of set.selections) {
      let m: Measure;
      if (sel.kind === Kind.FIELD) {
        const inner = sel.selectionSet ? measure(sel.selectionSet, visiting) : { depth: 0, fields: 0 };
        m = { depth: inner.depth + 1, fields: inner.fields + 1 };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        m = measure(sel.selectionSet, visiting);
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        // Unknown or cyclic fragments are the validator's to report; they add nothing here.
        if (!fragment || visiting.has(name)) continue;
        const known = memo.get(name);
        if (known) m = known;
        else {
          visiting.add(name);
          m = measure(fragment.selectionSet, visiting);
          visiting.delete(name);
          memo.set(name, m);
        }
      }
      depth = Math.max(depth, m.depth);
      // Saturate: repeated fragment spreads can multiply counts far past any number worth keeping.
      fields = Math.min(cap, fields + m.fields);
    }
    return { depth, fields };
  };

  const { depth, fields } = measure(operation.selectionSet, new Set());
  const errors: GraphQLError[] = [];
  if (depth > GRAPHQL_LIMITS.maxDepth) {
    errors.push(new GraphQLError(`the operation nests ${depth} levels deep; at most ${GRAPHQL_LIMITS.maxDepth} are allowed`, { nodes: operation }));
  }
  if (fields > GRAPHQL_LIMITS.maxFields) {
    errors.push(new GraphQLError(`the operation selects more than ${GRAPHQL_LIMITS.maxFields} fields (fragments expanded); split it into smaller requests`, { nodes: operation }));
  }
  return errors;
}
