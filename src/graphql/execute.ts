/**
 * One GraphQL request, transport aside: checks the request and its document, runs it, and says which HTTP status
 * the answer deserves (graphql-over-HTTP: a document that cannot run is a 400 with `errors` and no `data`; a
 * document that ran is a 200 whose `errors` carry each failed field's stable code).
 */
import { execute, getOperationAST, GraphQLError, parse, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import { KoubouError, ValidationError } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import type { Logger } from '../logger.js';
import { formatError, requestError, type GraphqlErrorEntry } from './errors.js';
import { checkDocumentSize, GRAPHQL_LIMITS, requestBudget } from './limits.js';
import { rootValue, schema, type GraphqlCore } from './schema.js';

export interface GraphqlRequest {
  query: string;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

export interface GraphqlAnswer {
  status: 200 | 400 | 405;
  body: { data?: unknown; errors?: GraphqlErrorEntry[] };
  headers?: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the {query, variables, operationName} of a POST body or of GET parameters (variables already decoded). */
export function parseGraphqlRequest(raw: unknown): GraphqlRequest {
  if (!isObject(raw)) throw new ValidationError('the request body must be a JSON object {query, variables?, operationName?}');
  const { query, variables, operationName } = raw;
  if (typeof query !== 'string' || query.trim() === '') throw new ValidationError('query must be a non-empty GraphQL document', 'query');
  if (Buffer.byteLength(query) > GRAPHQL_LIMITS.maxDocumentBytes) {
    throw new ValidationError(`query is over the ${GRAPHQL_LIMITS.maxDocumentBytes}-byte limit for a GraphQL document`, 'query');
  }
  if (variables !== undefined && variables !== null && !isObject(variables)) {
    throw new ValidationError('variables must be a JSON object', 'variables');
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    throw new ValidationError('operationName must be a string', 'operationName');
  }
  return { query, variables: variables ?? undefined, operationName: operationName ?? undefined };
}

/** Decodes GET parameters; `variables` is JSON text. */
export function graphqlRequestFromQuery(params: { query?: string | undefined; variables?: string | undefined; operationName?: string | undefined }): GraphqlRequest {
  let variables: unknown;
  if (params.variables !== undefined && params.variables !== '') {
    try {
      variables = JSON.parse(params.variables);
    } catch {
      throw new ValidationError('variables must be a JSON object', 'variables');
    }
    if (nestsDeeperThan(params.variables)) throw new ValidationError(`variables nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, 'variables');
  }
  return parseGraphqlRequest({ query: params.query, variables, operationName: params.operationName || undefined });
}

export type GraphqlExecutor = (request: GraphqlRequest, method: 'GET' | 'POST') => Promise<GraphqlAnswer>;

export function graphqlExecutor(core: GraphqlCore, log: Logger): GraphqlExecutor {
  const root = rootValue(core);
  const rejected = (errors: readonly GraphQLError[], status: 400 | 405 = 400, headers?: Record<string, string>): GraphqlAnswer => ({
    status,
    body: { errors: errors.map((e) => formatError(e, log, true)) },
    ...(headers ? { headers } : {}),
  });

  return async (request, method) => {
    let document: DocumentNode;
    try {
      document = parse(request.query, { maxTokens: GRAPHQL_LIMITS.maxTokens });
    } catch (err) {
      if (err instanceof GraphQLError) return rejected([err]);
      throw err;
    }
    // Size first: validation time grows with the square of the fields a document selects.
    const tooBig = checkDocumentSize(document);
    if (tooBig.length > 0) return rejected(tooBig);
    const invalid = validate(schema, document);
    if (invalid.length > 0) return rejected(invalid);
    const operation = getOperationAST(document, request.operationName);
    if (!operation) {
      const message = request.operationName
        ? `the document has no operation named ${JSON.stringify(request.operationName)}`
        : 'the document has several operations; name the one to run in operationName';
      return rejected([new GraphQLError(message)]);
    }
    if (method === 'GET' && operation.operation !== 'query') {
      return rejected([new GraphQLError(`a ${operation.operation} must be sent with POST; GET runs queries only`)], 405, { allow: 'POST' });
    }

    const result: ExecutionResult = await execute({
      schema,
      document,
      rootValue: root,
      contextValue: requestBudget(),
      variableValues: request.variables,
      operationName: request.operationName,
    });
    // No data at all: the variables did not fit the operation, nothing ran.
    if (!('data' in result) || result.data === undefined) return rejected(result.errors ?? []);
    return {
      status: 200,
      body: { data: result.data, ...(result.errors?.length ? { errors: result.errors.map((e) => formatError(e, log)) } : {}) },
    };
  };
}

/** The answer to a request refused before its document was looked at (bad JSON, too large, bad fields). */
export function refusedRequest(err: KoubouError): { status: number; body: { errors: GraphqlErrorEntry[] } } {
  return { status: err.status, body: { errors: [requestError(err)] } };
}
