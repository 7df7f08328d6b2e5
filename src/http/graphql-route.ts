/** /graphql: the GraphQL API over HTTP (POST {query, variables?, operationName?}; GET ?query= for queries only). */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { KoubouError } from '../errors.js';
import type { GraphqlAnswer, GraphqlExecutor, GraphqlRequest } from '../graphql/execute.js';
import type { GraphqlCore } from '../graphql/schema.js';
import { loadOnce } from '../load-once.js';
import type { Logger } from '../logger.js';
import { answerBeforeBody } from './early-answer.js';
import { readJson } from './json-body.js';

/** graphql-js, the schema and the executor come with the first /graphql request: an idle coordinator needs none of them. */
const loadGraphql = loadOnce(() => import('../graphql/execute.js'));

type Graphql = Awaited<ReturnType<typeof loadGraphql>>;

export function graphqlRoute(core: GraphqlCore, opts: { bodyLimitBytes: number; log: Logger }): Hono {
  const app = new Hono();
  let executor: GraphqlExecutor | null = null;

  /** Request-level errors (bad JSON, body too large, bad fields) answer in GraphQL's shape with their REST status. */
  async function answer(c: Context, method: 'GET' | 'POST', read: (gql: Graphql) => Promise<GraphqlRequest>) {
    const gql = await loadGraphql();
    let request: GraphqlRequest;
    try {
      request = await read(gql);
    } catch (err) {
      if (!(err instanceof KoubouError)) throw err;
      const refused = gql.refusedRequest(err);
      return answerBeforeBody(c, c.json(refused.body, refused.status as ContentfulStatusCode));
    }
    executor ??= gql.graphqlExecutor(core, opts.log);
    const result: GraphqlAnswer = await executor(request, method);
    for (const [name, value] of Object.entries(result.headers ?? {})) c.header(name, value);
    return c.json(result.body, result.status);
  }

  app.post('/graphql', (c) => answer(c, 'POST', async (gql) => gql.parseGraphqlRequest(await readJson(c, opts.bodyLimitBytes))));
  app.get('/graphql', (c) =>
    answer(c, 'GET', async (gql) =>
      gql.graphqlRequestFromQuery({ query: c.req.query('query'), variables: c.req.query('variables'), operationName: c.req.query('operationName') }),
    ),
  );

  return app;
}
