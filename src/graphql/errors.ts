/** Errors only the GraphQL API raises, and the one place that turns any error into a GraphQL error entry. */
import { GraphQLError, Kind } from 'graphql';
import { KoubouError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';

/** One entry of a response's `errors`, as clients see it: never a stack trace, always `extensions.code`. */
export interface GraphqlErrorEntry {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions: { code: string; field?: string };
}

/**
 * Errors in the document itself (syntax, validation, limits, variables): the code of a rejected request.
 * Resolver errors: a KoubouError keeps its stable code (and `field`); anything else is logged and masked.
 */
export function formatError(err: GraphQLError, log: Logger, documentError = false): GraphqlErrorEntry {
  const where = {
    ...(err.locations ? { locations: err.locations.map(({ line, column }) => ({ line, column })) } : {}),
    ...(err.path ? { path: err.path } : {}),
  };
  const original = err.originalError;
  if (original instanceof KoubouError) {
    const field = original instanceof ValidationError && original.field ? { field: original.field } : {};
    return { message: original.message, ...where, extensions: { code: original.code, ...field } };
  }
  if (documentError) return { message: err.message, ...where, extensions: { code: 'invalid_request', ...argumentField(err) } };
  log.error('unexpected error while resolving a GraphQL field', {
    path: err.path?.join('.'),
    error: original?.message ?? err.message,
    stack: original?.stack,
  });
  return { message: 'internal error; see the server log', ...where, extensions: { code: 'internal_error' } };
}

/** A document error about one argument (an unknown one: `submitTask(priorty: 3)`) names it, as REST names a field. */
function argumentField(err: GraphQLError): { field?: string } {
  const node = err.nodes?.[0];
  return node?.kind === Kind.ARGUMENT ? { field: node.name.value } : {};
}

/** An error about the request as a whole (not tied to a field). */
export function requestError(err: KoubouError): GraphqlErrorEntry {
  const field = err instanceof ValidationError && err.field ? { field: err.field } : {};
  return { message: err.message, extensions: { code: err.code, ...field } };
}
