/** /graphql: the GraphQL API over HTTP (POST {query, variables?, operationName?}; GET ?query= for queries only). */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { KoubouError } from '../errors.js';
import { graphqlExecutor, graphqlRequestFromQuery, parseGraphqlRequest, refusedRequest, type GraphqlAnswer, type GraphqlRequest } from '../graphql/execute.js';
import type { GraphqlCore } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { answerBeforeBody } from './early-answer.js';
import { readJson } from './json-body.js';

export function graphqlRoute(core: GraphqlCore, opts: { bodyLimitBytes: number; log: Logger }): Hono {
  const app = new Hono();
  const run = graphqlExecutor(core, opts.log);

  /** Request-level errors (bad JSON, body too large, bad fields) answer in GraphQL's shape with their REST status. */
  async function answer(c: Context, method: 'GET' | 'POST', read: () => Promise<GraphqlRequest>) {
    let request: GraphqlRequest;
    try {
      request = await read();
    } catch (err) {
      if (!(err instanceof KoubouError)) throw err;
      const refused = refusedRequest(err);
      return answerBeforeBody(c, c.json(refused.body, refused.status as ContentfulStatusCode));
    }
    const result: GraphqlAnswer = await run(request, method);
    for (const [name, value] of Object.entries(result.headers ?? {})) c.header(name, value);
    return c.json(result.body, result.status);
  }

  app.post('/graphql', (c) => answer(c, 'POST', async () => parseGraphqlRequest(await readJson(c, opts.bodyLimitBytes))));
  app.get('/graphql', (c) =>
    answer(c, 'GET', async () =>
      graphqlRequestFromQuery({ query: c.req.query('query'), variables: c.req.query('variables'), operationName: c.req.query('operationName') }),
    ),
  );

  return app;
}
