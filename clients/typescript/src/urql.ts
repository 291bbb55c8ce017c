// @urql/core 6 for planapi: the document cache (results keyed by query and variables, so
// versions never mix), fetch with the GraphQL-over-HTTP media type first, subscriptions over
// graphql-ws. A normalised cache (@urql/exchange-graphcache) needs no `keys` config either:
// ids are global ids as of a version.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "@urql/core";
import { ACCEPT, authorization, createWsClient, type PlanApiOptions } from "./apollo.js";

export function createUrqlClient(options: PlanApiOptions): Client {
  const ws = createWsClient(options);
  return new Client({
    url: options.url,
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { accept: ACCEPT, ...authorization(options.token) } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
